#pragma once
// The "Feature maps" view: the current image on its own PatchCanvas with a per-patch map laid over
// it, either PCA-to-RGB of the patch tokens (three chosen components as R, G, B, robust ranges,
// an optional background threshold) or a k-means cluster map. Controls: mode, the R/G/B components
// (shown 1-based), background threshold, "Lock basis", K, opacity.
//
// Decisions:
//   - The PCA basis is fitted on the basis images when some were given (a shared basis across
//     images), else on the current image. "Lock basis" keeps the last fitted basis for new images
//     and new models, so the colours stay tied to it (e.g. a base checkpoint) and drift shows.
//   - Background patches (core's PcaBackground rule on the first component) are transparent in the
//     overlay: the raw image shows through there, at any opacity.
//   - Fitting and k-means run on a worker thread (newest request wins, stale results dropped);
//     projecting onto a fitted basis (component changes, threshold) is immediate.

#include "neco/core/FeatureMaps.h"
#include "neco/ui/FeatureService.h"

#include <QImage>
#include <QString>
#include <QWidget>

#include <array>
#include <memory>
#include <optional>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QSpinBox;

namespace neco::ui {

class FeatureMapWorker;
class PatchCanvas;

enum class FeatureMapMode { PcaRgb = 0, KMeans = 1 };

class FeatureMapView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kBasisComponents = 8;  ///< components fitted, offered to the R/G/B boxes
  static constexpr int kMinClusters = 2;
  static constexpr int kMaxClusters = 32;
  static constexpr int kDefaultClusters = 8;

  explicit FeatureMapView(QWidget* parent = nullptr);
  ~FeatureMapView() override;

  /// Shows a new image; clears the current features and map until setFeatures brings this image's
  /// (the basis is kept).
  void setImage(const QImage& image);
  /// The patch tokens of the current image (null clears the map). Refits the basis unless it is
  /// locked or fitted on basis images; re-clusters in k-means mode.
  void setFeatures(FeaturesPtr features);
  /// Images to fit one shared basis on (empty: fit on the current image). Refits unless locked.
  void setBasisImages(std::vector<FeaturesPtr> images);

  FeatureMapMode mode() const;
  std::array<int, 3> components() const;        ///< 0-based component per R, G, B
  std::optional<float> backgroundThreshold() const;  ///< set when the checkbox is on
  bool basisLocked() const;
  int clusterCount() const;
  double opacity() const;                       ///< 0..1
  std::shared_ptr<const PcaRgbBasis> basis() const noexcept { return basis_; }
  /// The per-patch map drawn over the image (gridW x gridH, ARGB32; null when there is none).
  const QImage& overlay() const noexcept { return overlay_; }
  /// Whether a fit or clustering is queued or running.
  bool busy() const;

  void setMode(FeatureMapMode mode);
  void setComponents(std::array<int, 3> zeroBased);  ///< clamped to the fitted components
  void setBackgroundThreshold(std::optional<float> threshold);
  void setBasisLocked(bool locked);
  void setClusterCount(int k);
  void setOpacity(double opacity);
  /// Shows `basis` (e.g. from a view manifest) instead of fitting one: locked, it stays for new
  /// images and models; unlocked, the next new source refits. Throws InvalidArgumentError for an
  /// inconsistent basis (sizes that do not match dim and count, fewer than 3 components).
  void setBasis(PcaRgbBasis basis, bool lock);

  PatchCanvas* canvas() const noexcept { return canvas_; }
  QComboBox* modeBox() const noexcept { return mode_; }
  QSpinBox* componentBox(int channel) const { return channels_.at(static_cast<std::size_t>(channel)); }
  QCheckBox* backgroundCheckBox() const noexcept { return background_; }
  QSlider* backgroundSlider() const noexcept { return threshold_; }
  QCheckBox* lockCheckBox() const noexcept { return lock_; }
  QSlider* clusterSlider() const noexcept { return clusters_; }
  QSlider* opacitySlider() const noexcept { return opacity_; }
  QLabel* statusLabel() const noexcept { return status_; }

 Q_SIGNALS:
  /// The overlay changed (a new map, or none).
  void mapUpdated();

 private:
  QWidget* buildControls();
  void connectControls();
  std::vector<FeaturesPtr> basisSource() const;
  void refresh();            // recompute or request what the current mode needs
  void requestFitIfNeeded();
  void requestClusters();
  void drawPca();
  void drawClusters();
  void showOverlay(QImage overlay, const QString& status);

  PatchCanvas* canvas_;
  QComboBox* mode_;
  std::array<QSpinBox*, 3> channels_{};
  QCheckBox* background_;
  QSlider* threshold_;
  QCheckBox* lock_;
  QSlider* clusters_;
  QLabel* clustersValue_;
  QSlider* opacity_;
  QLabel* status_;
  FeatureMapWorker* worker_;

  FeaturesPtr features_;
  std::vector<FeaturesPtr> basisImages_;
  std::shared_ptr<const PcaRgbBasis> basis_;
  std::vector<FeaturesPtr> fitSource_;  // what the newest fit request (done or in flight) was fitted on
  quint64 fitId_ = 0;                   // that request; other fit results are stale
  quint64 basisId_ = 0;                 // the request basis_ answered
  QString fitError_, clusterError_;     // why the newest request failed
  std::shared_ptr<const std::vector<int>> labels_;
  FeaturesPtr labelsFor_;               // labels_ are of these features at labelsK_ clusters
  int labelsK_ = 0;
  FeaturesPtr clusterFor_;              // the newest clustering request (done or in flight)
  int clusterK_ = 0;
  quint64 clusterId_ = 0;
  QImage overlay_;
};

}  // namespace neco::ui

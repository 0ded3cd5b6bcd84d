#pragma once
// The "Embedding 3-D" dock: every patch of the current image as a point at its projection on the
// first three principal components of the image's patch tokens, drawn by VTK. Points are coloured
// by PCA-RGB (the Feature maps colours), by k-means class, or by similarity to the query on the
// studio's fixed [-1, 1] scale. Picking works both ways: a click on a point (a press and release
// without a drag; drags rotate, the wheel zooms) selects its patch, and the selected patch is shown
// as a large red point with a ring of its neighbours' colour untouched.
//
// The PCA is fitted on the UI thread when features change while the dock is shown (milliseconds at
// 224 px; ~50 ms for 37 x 37 patches of 384 dimensions); a click only moves the highlight.

#include "neco/core/Colormap.h"
#include "neco/ui/FeatureService.h"

#include <QPoint>
#include <QWidget>

#include <array>
#include <optional>
#include <vector>

class QComboBox;
class QLabel;

namespace neco::ui {

class VtkOpenGLWidget;

enum class CloudColouring { PcaRgb, Classes, Similarity };

class EmbeddingCloudView : public QWidget {
  Q_OBJECT

 public:
  explicit EmbeddingCloudView(QWidget* parent = nullptr);
  ~EmbeddingCloudView() override;

  /// The points of `features` (null clears the view). Resets the camera when the grid changes.
  void setFeatures(FeaturesPtr features);
  void setSelectedPatch(std::optional<QPoint> patch);
  std::optional<QPoint> selectedPatch() const noexcept { return selected_; }
  /// The query's similarity per patch (row-major; empty: none), for CloudColouring::Similarity.
  void setSimilarity(const std::vector<float>& similarity);
  void setColouring(CloudColouring colouring);
  CloudColouring colouring() const noexcept { return colouring_; }
  void setColormap(ColormapKind kind);

  /// The 3-D position of every patch (row-major), and of one patch. Empty without features.
  const std::vector<std::array<double, 3>>& positions() const noexcept { return positions_; }
  /// The per-patch RGB colours drawn now (3 bytes per patch).
  const std::vector<unsigned char>& colours() const noexcept { return colours_; }
  /// Where patch `patch` is drawn, in widget (logical, top-down) coordinates; nullopt before the
  /// first render or without features.
  std::optional<QPointF> displayPosition(QPoint patch) const;
  /// The patch whose point is nearest the widget position `at` within a few pixels (as a click
  /// would pick it), or nullopt.
  std::optional<QPoint> pick(QPointF at) const;
  VtkOpenGLWidget* vtkWidget() const noexcept { return vtk_; }
  int gridWidth() const noexcept { return features_ ? features_->gridW : 0; }

 Q_SIGNALS:
  void patchPicked(QPoint patch);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  struct Scene;
  void rebuild();
  void recolour();
  void updateHighlight();

  std::unique_ptr<Scene> scene_;
  VtkOpenGLWidget* vtk_;
  QComboBox* colouringBox_;
  QLabel* caption_;
  FeaturesPtr features_;
  std::vector<std::array<double, 3>> positions_;
  std::vector<unsigned char> pcaColours_, classColours_, colours_;
  std::vector<float> similarity_;
  std::optional<QPoint> selected_;
  CloudColouring colouring_ = CloudColouring::PcaRgb;
  Colormap colormap_{ColormapKind::Viridis};
  QPointF pressAt_;
  bool pressed_ = false;
};

}  // namespace neco::ui

#pragma once
// The near/far ordering strip: for the selected query patch, two ranked rows of patch thumbnails —
// "Nearest" (descending cosine similarity) and "Farthest" (ascending) — each with its rank, score and
// source image, within the query image or across the dataset-wide patch bank. Clicking a thumbnail
// asks the window to jump to that patch. Searching and thumbnail cutting run off the UI thread.

#include "neco/core/PatchBank.h"
#include "neco/ui/FeatureService.h"

#include <QImage>
#include <QPoint>
#include <QString>
#include <QWidget>

#include <memory>
#include <vector>

class QComboBox;
class QHBoxLayout;
class QLabel;
class QSpinBox;

namespace neco::ui {

class NearFarSearcher;
struct NearFarResult;

/// Thumbnail side in pixels: the patch itself is scaled to kNearFarPatchSide, the frame around it is
/// its (dimmed) surroundings.
inline constexpr int kNearFarThumbSide = 72;
inline constexpr int kNearFarPatchSide = 56;

enum class NearFarScope { Image, Bank };

/// One shown result.
struct NearFarEntry {
  QString path;
  QPoint patch;  ///< (column, row)
  float score = 0.f;
};

class NearFarStrip : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kDefaultK = 8;
  static constexpr int kMaxK = 64;

  explicit NearFarStrip(QWidget* parent = nullptr);
  ~NearFarStrip() override;

  /// The query: `features` of `image` (loaded from `path`) and the patch (column, row) to rank
  /// against. Null features or a patch off the grid clear the strip.
  void setQuery(FeaturesPtr features, QImage image, QString path, QPoint patch);
  void clearQuery();
  /// The dataset bank (image names are file paths). Null disables the "Dataset bank" scope and
  /// falls back to "This image".
  void setBank(std::shared_ptr<const PatchBank> bank);
  void setScope(NearFarScope scope);
  NearFarScope scope() const;
  void setK(int k);
  int k() const;

  const std::vector<NearFarEntry>& nearest() const noexcept { return nearest_; }
  const std::vector<NearFarEntry>& farthest() const noexcept { return farthest_; }
  /// The thumbnail tile of a shown result (null when out of range): for tests and screenshots.
  QWidget* tile(bool nearestRow, int rank) const;

 Q_SIGNALS:
  /// A thumbnail was clicked: the window should show `imagePath` with `patch` (column, row) selected.
  void patchActivated(QString imagePath, QPoint patch);
  /// A ranking was searched and shown (or its error displayed).
  void rankingShown();

 private:
  void requestRanking();
  void showResult(NearFarResult result);
  void fillRow(QHBoxLayout* row, const std::vector<NearFarEntry>& entries, const std::vector<QImage>& thumbs, bool nearestRow);

  FeaturesPtr features_;
  QImage image_;
  QString path_;
  QPoint patch_;
  std::shared_ptr<const PatchBank> bank_;
  quint64 lastRequest_ = 0;
  std::vector<NearFarEntry> nearest_, farthest_;
  std::vector<QWidget*> nearTiles_, farTiles_;

  QLabel* queryLabel_ = nullptr;
  QComboBox* scope_ = nullptr;
  QSpinBox* k_ = nullptr;
  QLabel* status_ = nullptr;
  QHBoxLayout* nearRow_ = nullptr;
  QHBoxLayout* farRow_ = nullptr;
  std::unique_ptr<NearFarSearcher> searcher_;  // last member: destroyed (joined) first
};

}  // namespace neco::ui

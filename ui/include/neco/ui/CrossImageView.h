#pragma once
// Cross-image similarity: the pinned query patch of the current image compared with every patch of
// a few other images at once. Each target is a small tile (a PatchCanvas with the similarity map on
// the fixed [-1, 1] scale, its best match outlined, its file name and best score under it).
//
// A best match m is "mutual" when, among all patches of the query image, the one nearest to m is the
// query patch itself (mutual nearest neighbours); mutual matches get a dot and a "mutual" label, and
// with the mutual-only toggle on, tiles without a mutual match keep their map but lose the mark.
//
// Target images are read and their features extracted on a worker thread (newest request wins),
// cached per path for the current model and input size, so a new query patch only recomputes the
// maps on the GUI thread (well under a millisecond a tile). An unreadable target shows its error in
// its tile.

#include "neco/core/Colormap.h"
#include "neco/ui/FeatureService.h"

#include <QHash>
#include <QImage>
#include <QPoint>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

class QGridLayout;
class QLabel;

namespace neco::ui {

class CrossImageLoader;
class PatchCanvas;

/// The best match of a query patch in one target image.
struct CrossImageMatch {
  QPoint patch{-1, -1};  ///< (column, row) in the target's grid
  float score = 0.f;     ///< cosine similarity in [-1, 1]
  bool mutual = false;   ///< the query patch is also the query image's patch nearest to `patch`
};

/// Best match of patch `queryPatch` (row-major) of `query` in `target`, and whether it is mutual.
/// Throws InvalidArgumentError (core) on an out-of-range patch or mismatched feature dimensions.
CrossImageMatch findCrossImageMatch(const PatchFeatures& query, int queryPatch, const PatchFeatures& target);

class CrossImageView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kMaxTargets = 8;

  explicit CrossImageView(QWidget* parent = nullptr);
  ~CrossImageView() override;

  /// The model that extracts the targets' features, at `inputSide` pixels. A different model or size
  /// clears the feature cache and re-extracts the current targets.
  void setModel(std::shared_ptr<const FeatureExtractor> model, int inputSide);
  /// The images compared with the query (the first kMaxTargets are kept). Cached ones show at once.
  void setTargets(const QStringList& imagePaths);
  /// The query: the current image's features and the pinned patch (column, row). Null clears the maps.
  void setQuery(FeaturesPtr queryFeatures, QPoint patch);
  void setMutualOnly(bool mutualOnly);
  bool mutualOnly() const noexcept { return mutualOnly_; }
  void setColormap(ColormapKind kind);
  void setOverlayOpacity(double opacity);  ///< 0 .. 1, as the main view

  /// Test hook (and a way to feed already extracted images): uses `features` for target `path`
  /// (shown with `image`) for the current model without extracting anything.
  void setTargetFeatures(const QString& path, const QImage& image, FeaturesPtr features);

  int targetCount() const noexcept { return static_cast<int>(tiles_.size()); }
  QString targetPath(int target) const;
  /// The best match of the current query in `target`; empty while its features are missing, on error
  /// or without a query.
  std::optional<CrossImageMatch> bestMatch(int target) const;
  /// The tile's canvas and its caption (file name, then the score, "mutual", "no mutual match" or
  /// the error). Null for an index out of range.
  PatchCanvas* tileCanvas(int target) const;
  QString tileCaption(int target) const;
  /// Every target has its features or an error, and the maps of the current query are drawn.
  bool ready() const;
  /// Feature extractions started so far by this view (reading + model), for the tests.
  int extractionCount() const;

 Q_SIGNALS:
  void mapsUpdated();
  /// A click on patch `patch` of target `path` (the window opens that image with the patch pinned).
  void targetActivated(QString path, QPoint patch);

 private:
  struct Cached {
    QImage image;
    FeaturesPtr features;
  };
  struct Tile {
    QString path;
    QWidget* box = nullptr;
    PatchCanvas* canvas = nullptr;
    QLabel* caption = nullptr;
    QString error;
    std::optional<CrossImageMatch> match;
    bool shown = false;  // image and grid set from the cache
  };

  void onTargetReady(quint64 generation, const QString& path, const QImage& image, const FeaturesPtr& features);
  void onTargetFailed(quint64 generation, const QString& path, const QString& message);
  void rebuildTiles(const QStringList& paths);
  void requestMissing();
  void refreshTile(Tile& tile);
  void drawTile(Tile& tile, const Cached& cached);
  void updateMaps();

  CrossImageLoader* loader_ = nullptr;
  QGridLayout* grid_ = nullptr;
  std::vector<Tile> tiles_;
  QHash<QString, Cached> cache_;  // path -> features, for model_ at inputSide_ only
  std::shared_ptr<const FeatureExtractor> model_;
  int inputSide_ = 0;
  quint64 generation_ = 1;  // bumped on every model or size change; older results are dropped
  FeaturesPtr query_;
  QPoint queryPatch_{-1, -1};
  bool mutualOnly_ = false;
  Colormap colormap_{ColormapKind::Viridis};
  double opacity_ = 0.6;
};

}  // namespace neco::ui

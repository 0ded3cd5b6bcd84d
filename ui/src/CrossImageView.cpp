#include "neco/ui/CrossImageView.h"

#include "CrossImageLoader.h"
#include "SlotGuard.h"
#include "neco/core/Similarity.h"
#include "neco/ui/ImageConversion.h"
#include "neco/ui/PatchCanvas.h"

#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <exception>
#include <iterator>

namespace neco::ui {

namespace {

constexpr int kCacheLimit = 4 * CrossImageView::kMaxTargets;  // entries kept beyond the shown targets

int argmax(const std::vector<float>& values) {
  return static_cast<int>(std::distance(values.begin(), std::max_element(values.begin(), values.end())));
}

int columnsFor(int targets) {
  return targets <= 4 ? 2 : targets <= 6 ? 3 : 4;
}

}  // namespace

CrossImageMatch findCrossImageMatch(const PatchFeatures& query, int queryPatch, const PatchFeatures& target) {
  const std::vector<float> map = cosineSimilarityMap(query, queryPatch, target);
  const int best = argmax(map);
  CrossImageMatch match;
  match.patch = QPoint(best % target.gridW, best / target.gridW);
  match.score = map[static_cast<std::size_t>(best)];
  // Mutual: seen from the match, the nearest patch of the whole query image is the query patch.
  match.mutual = argmax(cosineSimilarityMap(target, best, query)) == queryPatch;
  return match;
}

CrossImageView::CrossImageView(QWidget* parent) : QWidget(parent), loader_(new CrossImageLoader(this)) {
  grid_ = new QGridLayout(this);
  grid_->setContentsMargins(4, 4, 4, 4);
  grid_->setSpacing(6);
  connect(loader_, &CrossImageLoader::targetReady, this, &CrossImageView::onTargetReady, Qt::QueuedConnection);
  connect(loader_, &CrossImageLoader::targetFailed, this, &CrossImageView::onTargetFailed, Qt::QueuedConnection);
}

CrossImageView::~CrossImageView() = default;

void CrossImageView::setModel(std::shared_ptr<const FeatureExtractor> model, int inputSide) {
  if (model == model_ && inputSide == inputSide_) return;
  model_ = std::move(model);
  inputSide_ = inputSide;
  ++generation_;
  cache_.clear();
  for (Tile& tile : tiles_) {
    tile.error.clear();
    tile.match.reset();
    tile.shown = false;
    refreshTile(tile);
  }
  requestMissing();
}

void CrossImageView::setTargets(const QStringList& imagePaths) {
  rebuildTiles(imagePaths.mid(0, kMaxTargets));
  requestMissing();
  updateMaps();
}

void CrossImageView::setQuery(FeaturesPtr queryFeatures, QPoint patch) {
  query_ = std::move(queryFeatures);
  queryPatch_ = patch;
  updateMaps();
}

void CrossImageView::setMutualOnly(bool mutualOnly) {
  if (mutualOnly == mutualOnly_) return;
  mutualOnly_ = mutualOnly;
  updateMaps();
}

void CrossImageView::setColormap(ColormapKind kind) {
  if (kind == colormap_.kind()) return;
  colormap_ = Colormap(kind);
  updateMaps();
}

void CrossImageView::setOverlayOpacity(double opacity) {
  opacity_ = std::clamp(opacity, 0.0, 1.0);
  for (Tile& tile : tiles_) tile.canvas->setOverlayOpacity(opacity_);
}

void CrossImageView::setTargetFeatures(const QString& path, const QImage& image, FeaturesPtr features) {
  if (!features) return;
  cache_.insert(path, Cached{image, std::move(features)});
  for (Tile& tile : tiles_)
    if (tile.path == path) {
      tile.error.clear();
      tile.shown = false;
    }
  updateMaps();
}

QString CrossImageView::targetPath(int target) const {
  return target >= 0 && target < targetCount() ? tiles_[static_cast<std::size_t>(target)].path : QString();
}

std::optional<CrossImageMatch> CrossImageView::bestMatch(int target) const {
  if (target < 0 || target >= targetCount()) return std::nullopt;
  return tiles_[static_cast<std::size_t>(target)].match;
}

PatchCanvas* CrossImageView::tileCanvas(int target) const {
  return target >= 0 && target < targetCount() ? tiles_[static_cast<std::size_t>(target)].canvas : nullptr;
}

QString CrossImageView::tileCaption(int target) const {
  return target >= 0 && target < targetCount() ? tiles_[static_cast<std::size_t>(target)].caption->text() : QString();
}

bool CrossImageView::ready() const {
  if (!query_ || tiles_.empty()) return false;
  return std::all_of(tiles_.begin(), tiles_.end(),
                     [this](const Tile& t) { return !t.error.isEmpty() || cache_.contains(t.path); });
}

int CrossImageView::extractionCount() const {
  return loader_->extractionCount();
}

void CrossImageView::onTargetReady(quint64 generation, const QString& path, const QImage& image,
                                   const FeaturesPtr& features) {
  guardSlot("CrossImageView::onTargetReady", [&] {
    // Results for another model or input size are stale; an already cached path keeps its entry.
    if (generation != generation_ || !features || cache_.contains(path)) return;
    cache_.insert(path, Cached{image, features});
    for (Tile& tile : tiles_)
      if (tile.path == path) tile.error.clear();
    updateMaps();
  });
}

void CrossImageView::onTargetFailed(quint64 generation, const QString& path, const QString& message) {
  guardSlot("CrossImageView::onTargetFailed", [&] {
    if (generation != generation_ || cache_.contains(path)) return;
    for (Tile& tile : tiles_)
      if (tile.path == path) {
        tile.error = message;
        tile.match.reset();
        refreshTile(tile);
      }
  });
}

void CrossImageView::rebuildTiles(const QStringList& paths) {
  for (Tile& tile : tiles_) {
    // Later, not now: a click on this tile may be what led here (targetActivated -> the window
    // opens that image -> new targets), and the canvas is still inside its mouse handler.
    grid_->removeWidget(tile.box);
    tile.box->hide();
    tile.box->deleteLater();
  }
  tiles_.clear();
  if (cache_.size() > kCacheLimit) {
    for (auto it = cache_.begin(); it != cache_.end();)
      it = paths.contains(it.key()) ? std::next(it) : cache_.erase(it);
  }
  const int columns = columnsFor(static_cast<int>(paths.size()));
  for (int c = 0; c < kMaxTargets; ++c) grid_->setColumnStretch(c, c < columns ? 1 : 0);  // equal tiles
  for (int r = 0; r < kMaxTargets; ++r) grid_->setRowStretch(r, r < (paths.size() + columns - 1) / columns ? 1 : 0);
  for (const QString& path : paths) {
    Tile tile;
    tile.path = path;
    tile.box = new QWidget(this);
    auto* layout = new QVBoxLayout(tile.box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    tile.canvas = new PatchCanvas(tile.box);
    tile.canvas->setMinimumSize(160, 120);
    tile.canvas->setGridVisible(false);  // lines would hide the map on a tile this small
    tile.canvas->setOverlayOpacity(opacity_);
    tile.caption = new QLabel(tile.box);
    tile.caption->setWordWrap(true);
    tile.caption->setAlignment(Qt::AlignCenter);
    tile.caption->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(tile.canvas, 1);
    layout->addWidget(tile.caption);
    connect(tile.canvas, &PatchCanvas::patchClicked, this,
            [this, path](QPoint patch) { Q_EMIT targetActivated(path, patch); });
    const int index = static_cast<int>(tiles_.size());
    grid_->addWidget(tile.box, index / columns, index % columns);
    tiles_.push_back(tile);
  }
  for (Tile& tile : tiles_) refreshTile(tile);
}

void CrossImageView::requestMissing() {
  if (!model_) return;
  QStringList missing;
  for (const Tile& tile : tiles_)
    if (!cache_.contains(tile.path) && !missing.contains(tile.path)) missing << tile.path;
  if (!missing.isEmpty()) loader_->request(missing, model_, inputSide_, generation_);
}

void CrossImageView::drawTile(Tile& tile, const Cached& cached) {
  if (tile.shown) return;
  tile.canvas->setImage(cached.image);
  tile.canvas->setGrid(cached.features->gridW, cached.features->gridH);
  tile.shown = true;
}

// Draws the caption, and the map with its best match when the features and a query are there.
void CrossImageView::refreshTile(Tile& tile) {
  const QString name = QFileInfo(tile.path).fileName();
  // An unreadable image has nothing to draw: the caption (with the reason) takes the tile, rather
  // than the canvas's "open an image" placeholder.
  tile.canvas->setVisible(tile.error.isEmpty());
  if (!tile.error.isEmpty()) {
    tile.canvas->setImage(QImage());
    tile.shown = false;
    tile.caption->setText(tr("%1\ncannot be shown: %2").arg(name, tile.error));
    return;
  }
  const auto cached = cache_.constFind(tile.path);
  if (cached == cache_.cend()) {
    tile.caption->setText(tr("%1\nextracting…").arg(name));
    return;
  }
  drawTile(tile, *cached);
  tile.match.reset();
  const int gridW = query_ ? query_->gridW : 0;
  if (!query_ || queryPatch_.x() < 0 || queryPatch_.y() < 0 || queryPatch_.x() >= gridW ||
      queryPatch_.y() >= query_->gridH) {
    tile.canvas->clearOverlay();
    tile.canvas->setSelectedPatch(std::nullopt);
    tile.canvas->setMarkedPatches({});
    tile.caption->setText(name);
    return;
  }
  const int queryIndex = queryPatch_.y() * gridW + queryPatch_.x();
  const PatchFeatures& target = *cached->features;
  try {
    tile.canvas->setOverlay(
        similarityOverlay(cosineSimilarityMap(*query_, queryIndex, target), target.gridW, target.gridH, colormap_));
    tile.match = findCrossImageMatch(*query_, queryIndex, target);
  } catch (const std::exception& e) {  // e.g. a query from another model than the cached targets
    tile.canvas->clearOverlay();
    tile.canvas->setSelectedPatch(std::nullopt);
    tile.canvas->setMarkedPatches({});
    tile.caption->setText(tr("%1\nno map: %2").arg(name, QString::fromStdString(e.what())));
    return;
  }
  const CrossImageMatch& m = *tile.match;
  const bool marked = m.mutual || !mutualOnly_;
  tile.canvas->setSelectedPatch(marked ? std::optional<QPoint>(m.patch) : std::nullopt);
  tile.canvas->setMarkedPatches(marked && m.mutual ? QList<QPoint>{m.patch} : QList<QPoint>{});
  const QString score = QString::number(static_cast<double>(m.score), 'f', 3);
  if (!marked)
    tile.caption->setText(tr("%1\nno mutual match (best %2)").arg(name, score));
  else if (m.mutual)
    tile.caption->setText(tr("%1\nbest %2 · mutual").arg(name, score));
  else
    tile.caption->setText(tr("%1\nbest %2").arg(name, score));
}

void CrossImageView::updateMaps() {
  for (Tile& tile : tiles_) refreshTile(tile);
  if (query_ && !tiles_.empty()) Q_EMIT mapsUpdated();
}

}  // namespace neco::ui

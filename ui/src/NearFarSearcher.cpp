#include "NearFarSearcher.h"

#include <QDir>
#include <QFileInfo>

#include <QImageReader>
#include <QPainter>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace neco::ui {

namespace {
/// How much the surroundings of the patch are darkened in a thumbnail (0 = not at all).
constexpr int kContextDimAlpha = 110;
}  // namespace

QImage patchThumbnail(const QImage& source, int gridW, int gridH, QPoint patch) {
  if (source.isNull() || gridW <= 0 || gridH <= 0) return {};
  const double pw = static_cast<double>(source.width()) / gridW, ph = static_cast<double>(source.height()) / gridH;
  const double margin = (kNearFarThumbSide - kNearFarPatchSide) / 2.0 / kNearFarPatchSide;  // in patches
  // the source rectangle that maps onto the whole tile: the patch plus `margin` patches each side
  const QRectF from((patch.x() - margin) * pw, (patch.y() - margin) * ph, (1 + 2 * margin) * pw, (1 + 2 * margin) * ph);
  QImage tile(kNearFarThumbSide, kNearFarThumbSide, QImage::Format_RGB888);
  tile.fill(QColor(40, 40, 40));  // outside the image
  QPainter p(&tile);
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // patches are blocks: keep them sharp
  p.drawImage(QRectF(0, 0, kNearFarThumbSide, kNearFarThumbSide), source, from);
  const int m = (kNearFarThumbSide - kNearFarPatchSide) / 2;
  const QRect inner(m, m, kNearFarPatchSide, kNearFarPatchSide);
  const QColor dim(0, 0, 0, kContextDimAlpha);
  p.fillRect(QRect(0, 0, kNearFarThumbSide, m), dim);
  p.fillRect(QRect(0, m + kNearFarPatchSide, kNearFarThumbSide, m), dim);
  p.fillRect(QRect(0, m, m, kNearFarPatchSide), dim);
  p.fillRect(QRect(m + kNearFarPatchSide, m, m, kNearFarPatchSide), dim);
  p.setPen(QPen(QColor(255, 210, 0), 1));
  p.drawRect(inner.adjusted(-1, -1, 0, 0));
  return tile;
}

QImage ThumbnailSourceCache::get(const QString& path) {
  const auto hit = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == path; });
  if (hit != entries_.end()) {
    entries_.splice(entries_.begin(), entries_, hit);
    return entries_.front().second;
  }
  QImageReader reader(path);
  reader.setAutoTransform(false);  // the features were extracted from the stored orientation
  const QSize size = reader.size();
  if (size.isValid() && std::max(size.width(), size.height()) > kMaxSide) {
    reader.setScaledSize(size.scaled(kMaxSide, kMaxSide, Qt::KeepAspectRatio));
  }
  QImage image = reader.read();
  if (image.isNull()) spdlog::warn("near/far strip: cannot read {}: {}", path.toStdString(), reader.errorString().toStdString());
  entries_.emplace_front(path, image);
  if (entries_.size() > capacity_) entries_.pop_back();
  return image;
}

NearFarSearcher::NearFarSearcher(std::function<void(NearFarResult)> deliver)
    : deliver_(std::move(deliver)), worker_(&NearFarSearcher::run, this) {}

NearFarSearcher::~NearFarSearcher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    pending_.reset();
  }
  wake_.notify_all();
  worker_.join();
}

void NearFarSearcher::request(NearFarRequest request) {
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(request);
  }
  wake_.notify_all();
}

void NearFarSearcher::run() {
  for (;;) {
    NearFarRequest job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || pending_.has_value(); });
      if (stop_) return;
      job = std::move(*pending_);
      pending_.reset();
    }
    NearFarResult result;
    // NOTE: the thread boundary: nothing escapes, a failure becomes the result's error.
    try {
      result = process(job);
    } catch (const std::exception& e) {
      result.error = QString::fromStdString(e.what());
    } catch (...) {
      result.error = QStringLiteral("unknown error");
    }
    result.id = job.id;
    deliver_(std::move(result));
  }
}

NearFarResult NearFarSearcher::process(const NearFarRequest& r) {
  const PatchFeatures& f = *r.features;
  const int queryPatch = r.patch.y() * f.gridW + r.patch.x();
  PatchRanking ranking;
  const auto gridOf = [&](int image) {
    return r.bank ? std::make_pair(r.bank->image(image).gridW, r.bank->image(image).gridH) : std::make_pair(f.gridW, f.gridH);
  };
  const auto pathOf = [&](int image) { return r.bank ? QString::fromStdString(r.bank->image(image).name) : r.path; };
  if (r.bank) {
    PatchSearchOptions options;
    // the bank names images by clean absolute path (the Dataset list's); the query's may be relative
    const int own = r.bank->findImage(QDir::cleanPath(QFileInfo(r.path).absoluteFilePath()).toStdString());
    if (own >= 0 && r.bank->image(own).gridW == f.gridW && r.bank->image(own).gridH == f.gridH) {
      options.image = own;  // the query patch itself is in the bank: leave it out
      options.excludePatch = queryPatch;
    }
    ranking = r.bank->search(f.row(queryPatch), f.dim, r.k, options);
  } else {
    ranking = rankPatches(f, queryPatch, r.k);
  }
  const auto toItems = [&](const std::vector<PatchMatch>& matches) {
    std::vector<NearFarItem> items;
    for (const PatchMatch& m : matches) {
      const auto [gw, gh] = gridOf(m.image);
      NearFarItem item{pathOf(m.image), QPoint(m.patch % gw, m.patch / gw), m.score, {}};
      const QImage source = item.path == r.path ? r.image : cache_.get(item.path);
      item.thumbnail = patchThumbnail(source, gw, gh, item.patch);
      items.push_back(std::move(item));
    }
    return items;
  };
  NearFarResult result;
  result.nearest = toItems(ranking.nearest);
  result.farthest = toItems(ranking.farthest);
  return result;
}

}  // namespace neco::ui

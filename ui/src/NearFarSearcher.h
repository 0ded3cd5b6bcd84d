#pragma once
// The near/far strip's worker: ranks patches (within the query image, or over the dataset bank) and
// cuts the result thumbnails from their source images, off the UI thread. Requests are coalesced:
// while one runs only the newest pending one is kept. Source images of other files come from a
// small LRU cache, read scaled down with QImageReader.

#include "neco/core/PatchBank.h"
#include "neco/ui/FeatureService.h"
#include "neco/ui/NearFarStrip.h"

#include <QImage>
#include <QPoint>
#include <QString>

#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace neco::ui {

/// The patch (column, row) of a gridW x gridH grid covering `source`, scaled to kNearFarPatchSide with
/// a dimmed frame of its surroundings around it, kNearFarThumbSide square. Null for a null source.
QImage patchThumbnail(const QImage& source, int gridW, int gridH, QPoint patch);

/// The most recently used source images, read scaled down to at most kMaxSide pixels. Not thread-safe.
class ThumbnailSourceCache {
 public:
  static constexpr int kMaxSide = 1024;
  explicit ThumbnailSourceCache(std::size_t capacity = 24) : capacity_(capacity) {}
  /// The image at `path` (null when unreadable).
  QImage get(const QString& path);

 private:
  std::size_t capacity_;
  std::list<std::pair<QString, QImage>> entries_;  // most recent first
};

struct NearFarRequest {
  quint64 id = 0;
  FeaturesPtr features;               ///< the query image's features
  QImage image;                       ///< the query image (its thumbnails need no file read)
  QString path;
  QPoint patch;                       ///< (column, row)
  int k = 8;
  std::shared_ptr<const PatchBank> bank;  ///< set: search the bank; null: the query image only
};

struct NearFarItem {
  QString path;
  QPoint patch;                       ///< (column, row)
  float score = 0.f;
  QImage thumbnail;
};

struct NearFarResult {
  quint64 id = 0;
  std::vector<NearFarItem> nearest;   ///< descending score
  std::vector<NearFarItem> farthest;  ///< ascending score
  QString error;                      ///< set when the search failed (e.g. bank of another model)
};

class NearFarSearcher {
 public:
  /// `deliver` runs on the worker thread with each finished result.
  explicit NearFarSearcher(std::function<void(NearFarResult)> deliver);
  ~NearFarSearcher();  ///< joins the worker (a running search finishes first)

  void request(NearFarRequest request);

 private:
  void run();
  NearFarResult process(const NearFarRequest& request);

  std::function<void(NearFarResult)> deliver_;
  ThumbnailSourceCache cache_;  // worker thread only
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<NearFarRequest> pending_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace neco::ui

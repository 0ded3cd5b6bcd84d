#pragma once
// The dataset browser: every image of a folder (recursively, dataset layouts included) as a list
// with lazily decoded, cached thumbnails, and the current position in it for ←/→ (D/F)
// navigation. Thumbnails are decoded on a worker thread only for the rows the list actually
// shows, newest request first, so scrolling through COCO's 118 k images stays smooth; the cache is
// bounded in bytes and evicted rows are simply decoded again when they come back into view.
//
// Presentation only: it lists paths and reports which one the user wants; the window opens it.

#include <QImage>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <memory>

class QLabel;
class QListView;

namespace neco::ui {

class DatasetBrowser : public QWidget {
  Q_OBJECT
 public:
  /// Folders never listed: the label maps of the dataset layouts of METHOD.md (their PNGs are
  /// masks, not images to look at).
  static const QStringList& maskFolderNames();
  /// Image files are listed by these suffixes (case-insensitive): what core's readImage decodes.
  static const QStringList& imageSuffixes();
  /// At most this many images are listed (a mistaken drop of "/" must not freeze the window).
  static constexpr int kMaxImages = 500000;
  static constexpr int kThumbnailSide = 72;  ///< logical pixels

  explicit DatasetBrowser(QWidget* parent = nullptr);
  ~DatasetBrowser() override;  ///< stops and joins the thumbnail worker

  /// Every image under `folder`, natural order by path ("img2" before "img10"), mask folders
  /// skipped, at most kMaxImages; empty when the folder holds none or does not exist.
  /// `recursive` false: the folder's own images only (a lone image's folder, e.g. Downloads).
  static QStringList imagesIn(const QString& folder, bool recursive = true);
  /// Lists imagesIn(folder) (or `images`, already listed by imagesIn). Returns the count; 0 when
  /// the folder holds no image (the list then says so).
  int setFolder(const QString& folder);
  int setFolder(const QString& folder, QStringList images);
  /// Lists exactly these images (the demo's scenes), titled `title`.
  void setImages(const QStringList& paths, const QString& title);
  QString folder() const;  ///< empty after setImages
  QStringList images() const;
  int count() const;

  /// Marks `path` as the current image when it is listed (no signal); returns whether it is.
  bool setCurrentPath(const QString& path);
  QString currentPath() const;
  int currentIndex() const;  ///< -1 when nothing is current
  /// Moves to the next / previous image and emits imageActivated; false at either end (or empty).
  bool next();
  bool previous();

  QListView* listView() const noexcept { return list_; }
  /// Thumbnails decoded so far (they may since have been evicted from the cache).
  int thumbnailsDecoded() const;
  /// The cached thumbnail of row `index`, null when not decoded (yet) or unreadable.
  QImage thumbnail(int index) const;

 Q_SIGNALS:
  /// The user chose an image (click, keys in the list, next/previous).
  void imageActivated(QString path);
  /// A thumbnail arrived (row index into images()).
  void thumbnailReady(int index);

 private:
  class Model;
  class Loader;
  void activate(int row);
  void updateTitle();

  QLabel* title_;
  QListView* list_;
  std::unique_ptr<Loader> loader_;
  Model* model_;
  QString folder_;
  bool syncing_ = false;  // setCurrentPath moves the selection without emitting imageActivated
};

}  // namespace neco::ui

#include "neco/ui/DatasetBrowser.h"

#include <QAbstractListModel>
#include <QCache>
#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHash>
#include <QImageReader>
#include <QLabel>
#include <QListView>
#include <QPainter>
#include <QPixmap>
#include <QPointer>
#include <QScreen>
#include <QSet>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

namespace neco::ui {
namespace {

constexpr int kCacheKiB = 96 * 1024;  // ~1 000 thumbnails at 2x pixel ratio

bool isImageFile(const QFileInfo& info) {
  return DatasetBrowser::imageSuffixes().contains(info.suffix().toLower());
}

// Depth-first, mask folders and hidden folders skipped, each real folder visited once (symbolic
// links may loop).
void collectImages(const QString& dir, QSet<QString>& visited, QStringList& out, bool recursive) {
  const QString canonical = QFileInfo(dir).canonicalFilePath();
  if (canonical.isEmpty() || visited.contains(canonical)) return;
  visited.insert(canonical);
  const QFileInfoList entries = QDir(dir).entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot, QDir::NoSort);
  for (const QFileInfo& entry : entries) {
    if (out.size() >= DatasetBrowser::kMaxImages) return;
    if (entry.isDir()) {
      if (recursive && !DatasetBrowser::maskFolderNames().contains(entry.fileName(), Qt::CaseInsensitive))
        collectImages(entry.filePath(), visited, out, recursive);
    } else if (isImageFile(entry)) {
      out << entry.filePath();
    }
  }
}

// Natural order ("img2" before "img10"), case-insensitive otherwise. Not QCollator: its numeric
// mode needs ICU and a real locale, and falls back to plain byte order under the C locale.
bool naturalLess(const QString& a, const QString& b) {
  qsizetype i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].isDigit() && b[j].isDigit()) {
      qsizetype ei = i, ej = j;
      while (ei < a.size() && a[ei].isDigit()) ++ei;
      while (ej < b.size() && b[ej].isDigit()) ++ej;
      // compare the runs as numbers of any length: strip leading zeros, then length, then digits
      qsizetype zi = i, zj = j;
      while (zi + 1 < ei && a[zi] == QLatin1Char('0')) ++zi;
      while (zj + 1 < ej && b[zj] == QLatin1Char('0')) ++zj;
      if (ei - zi != ej - zj) return ei - zi < ej - zj;
      if (const int c = QStringView(a).sliced(zi, ei - zi).compare(QStringView(b).sliced(zj, ej - zj)); c != 0) return c < 0;
      i = ei, j = ej;
      continue;
    }
    const QChar ca = a[i].toCaseFolded(), cb = b[j].toCaseFolded();
    if (ca != cb) return ca < cb;
    ++i, ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return a.size() - i < b.size() - j;
  return a < b;  // equal but for case or zeros: a total order all the same
}

QPixmap placeholder(int side, const QColor& fill, const QString& mark) {
  QPixmap pixmap(side, side);
  pixmap.fill(Qt::transparent);
  QPainter painter(&pixmap);
  painter.setPen(QColor(140, 140, 140));
  painter.setBrush(fill);
  painter.drawRect(QRect(1, 1, side - 3, side - 3));
  if (!mark.isEmpty()) {
    painter.setPen(QColor(200, 60, 60));
    painter.drawText(pixmap.rect(), Qt::AlignCenter, mark);
  }
  return pixmap;
}

}  // namespace

const QStringList& DatasetBrowser::maskFolderNames() {
  static const QStringList names{QStringLiteral("SegmentationClass"), QStringLiteral("SegmentationClassAug"),
                                 QStringLiteral("SegmentationObject"), QStringLiteral("annotations"),
                                 QStringLiteral("gtFine"),            QStringLiteral("gtCoarse"),
                                 QStringLiteral("labels"),            QStringLiteral("masks")};
  return names;
}

const QStringList& DatasetBrowser::imageSuffixes() {
  static const QStringList suffixes{QStringLiteral("jpg"), QStringLiteral("jpeg"), QStringLiteral("png")};
  return suffixes;
}

// Decodes thumbnails on one worker thread, the most recently requested row first (the rows the
// user looks at now). A new listing bumps the generation; answers for an older one are dropped.
class DatasetBrowser::Loader {
 public:
  using Deliver = std::function<void(quint64 generation, int row, QImage image, QString error)>;

  explicit Loader(Deliver deliver) : deliver_(std::move(deliver)), worker_([this] { run(); }) {}
  ~Loader() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  void reset(quint64 generation) {
    std::lock_guard lock(mutex_);
    generation_ = generation;
    pending_.clear();
  }
  void request(quint64 generation, int row, const QString& path, int side) {
    {
      std::lock_guard lock(mutex_);
      if (generation != generation_) return;
      pending_.push_back({row, path, side});
    }
    wake_.notify_one();
  }
  int decoded() const { return decoded_.load(); }

 private:
  struct Job {
    int row;
    QString path;
    int side;
  };
  void run() {
    for (;;) {
      Job job;
      quint64 generation = 0;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stop_ || !pending_.empty(); });
        if (stop_) return;
        job = std::move(pending_.back());
        pending_.pop_back();
        generation = generation_;
      }
      QString error;
      QImage image = decode(job, error);
      ++decoded_;
      deliver_(generation, job.row, std::move(image), std::move(error));
    }
  }
  static QImage decode(const Job& job, QString& error) {
    QImageReader reader(job.path);
    reader.setAutoTransform(true);
    const QSize size = reader.size();
    if (size.isValid() && !size.isEmpty())
      reader.setScaledSize(size.scaled(job.side, job.side, Qt::KeepAspectRatio).expandedTo(QSize(1, 1)));
    QImage image = reader.read();
    if (image.isNull()) {
      error = reader.errorString();
      return {};
    }
    if (image.width() > job.side || image.height() > job.side)  // formats without scaled decoding
      image = image.scaled(job.side, job.side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    return image.convertToFormat(QImage::Format_RGB32);
  }

  Deliver deliver_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Job> pending_;
  quint64 generation_ = 0;
  bool stop_ = false;
  std::atomic<int> decoded_{0};
  std::thread worker_;
};

// The list's rows: file name, relative path tooltip and the thumbnail, asked for on first paint.
class DatasetBrowser::Model : public QAbstractListModel {
 public:
  Model(DatasetBrowser* browser, Loader* loader) : QAbstractListModel(browser), loader_(loader) {
    cache_.setMaxCost(kCacheKiB);
  }

  void setPaths(QStringList paths, const QString& root) {
    beginResetModel();
    paths_ = std::move(paths);
    root_ = root;
    rowOf_.clear();
    for (int row = 0; row < paths_.size(); ++row) rowOf_.insert(paths_[row], row);
    cache_.clear();
    errors_.clear();
    inFlight_.clear();
    ++generation_;
    loader_->reset(generation_);
    endResetModel();
  }
  const QStringList& paths() const { return paths_; }
  int rowOf(const QString& path) const { return rowOf_.value(QDir::cleanPath(QFileInfo(path).absoluteFilePath()), -1); }
  QImage thumbnail(int row) const {
    const QPixmap* pixmap = cache_.object(row);
    return pixmap ? pixmap->toImage() : QImage();
  }

  void deliver(quint64 generation, int row, const QImage& image, const QString& error) {
    if (generation != generation_ || row >= paths_.size()) return;
    inFlight_.remove(row);
    if (image.isNull()) {
      errors_.insert(row, error);
      spdlog::warn("thumbnail of {}: {}", paths_[row].toStdString(), error.toStdString());
    } else {
      auto* pixmap = new QPixmap(QPixmap::fromImage(image));
      pixmap->setDevicePixelRatio(ratio_);
      cache_.insert(row, pixmap, std::max<int>(1, static_cast<int>(image.sizeInBytes() / 1024)));
    }
    const QModelIndex at = index(row);
    Q_EMIT dataChanged(at, at, {Qt::DecorationRole, Qt::ToolTipRole});
    Q_EMIT static_cast<DatasetBrowser*>(QObject::parent())->thumbnailReady(row);
  }

  int rowCount(const QModelIndex& parent = {}) const override { return parent.isValid() ? 0 : int(paths_.size()); }

  QVariant data(const QModelIndex& index, int role) const override {
    if (!index.isValid() || index.row() >= paths_.size()) return {};
    const int row = index.row();
    const QString& path = paths_[row];
    switch (role) {
      case Qt::DisplayRole: return QFileInfo(path).fileName();
      case Qt::UserRole: return path;
      case Qt::ToolTipRole: {
        const QString shown = root_.isEmpty() ? path : QDir(root_).relativeFilePath(path);
        const auto error = errors_.constFind(row);
        return error == errors_.cend() ? shown : tr("%1\ncannot be read: %2").arg(shown, *error);
      }
      case Qt::DecorationRole: return decoration(row);
      default: return {};
    }
  }

 private:
  static QString tr(const char* text) { return QObject::tr(text); }

  QVariant decoration(int row) const {
    if (const QPixmap* pixmap = cache_.object(row)) return *pixmap;
    if (errors_.contains(row)) {
      if (broken_.isNull()) broken_ = placeholder(kThumbnailSide, QColor(250, 235, 235), QStringLiteral("✗"));
      return broken_;
    }
    if (!inFlight_.contains(row)) {
      inFlight_.insert(row);
      const QScreen* screen = QGuiApplication::primaryScreen();
      ratio_ = screen ? std::max(1.0, screen->devicePixelRatio()) : 1.0;
      loader_->request(generation_, row, paths_[row], static_cast<int>(kThumbnailSide * ratio_));
    }
    if (waiting_.isNull()) waiting_ = placeholder(kThumbnailSide, QColor(225, 225, 225), {});
    return waiting_;
  }

  Loader* loader_;
  QStringList paths_;
  QString root_;
  QHash<QString, int> rowOf_;
  mutable QCache<int, QPixmap> cache_;
  QHash<int, QString> errors_;
  mutable QSet<int> inFlight_;
  mutable double ratio_ = 1.0;
  mutable QPixmap waiting_, broken_;
  quint64 generation_ = 0;
};

DatasetBrowser::DatasetBrowser(QWidget* parent)
    : QWidget(parent), title_(new QLabel(this)), list_(new QListView(this)) {
  loader_ = std::make_unique<Loader>([self = QPointer<DatasetBrowser>(this)](quint64 generation, int row, QImage image,
                                                                               QString error) {
    // NOTE: runs on the worker; the model is touched on the UI thread only.
    if (!self) return;
    QMetaObject::invokeMethod(
        self.data(),
        [self, generation, row, image = std::move(image), error = std::move(error)] {
          if (self) self->model_->deliver(generation, row, image, error);
        },
        Qt::QueuedConnection);
  });
  model_ = new Model(this, loader_.get());
  title_->setObjectName(QStringLiteral("datasetTitle"));
  title_->setWordWrap(true);
  title_->setContentsMargins(4, 2, 4, 2);
  list_->setObjectName(QStringLiteral("datasetList"));
  list_->setModel(model_);
  list_->setUniformItemSizes(true);  // constant-time layout for 100 k rows
  list_->setIconSize(QSize(kThumbnailSide, kThumbnailSide));
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  list_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  list_->setTextElideMode(Qt::ElideMiddle);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  layout->addWidget(title_);
  layout->addWidget(list_, 1);
  connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex& current) {
    if (!syncing_ && current.isValid()) activate(current.row());
  });
  updateTitle();
}

DatasetBrowser::~DatasetBrowser() {
  loader_.reset();  // joins the worker before the model goes
}

QStringList DatasetBrowser::imagesIn(const QString& folder, bool recursive) {
  const QFileInfo info(folder);
  QStringList paths;
  if (!info.isDir()) return paths;
  QSet<QString> visited;
  collectImages(info.absoluteFilePath(), visited, paths, recursive);
  if (paths.size() >= kMaxImages) spdlog::warn("{}: listing stopped at {} images", folder.toStdString(), kMaxImages);
  for (QString& path : paths) path = QDir::cleanPath(path);
  std::sort(paths.begin(), paths.end(), naturalLess);
  return paths;
}

int DatasetBrowser::setFolder(const QString& folder) { return setFolder(folder, imagesIn(folder)); }

int DatasetBrowser::setFolder(const QString& folder, QStringList images) {
  folder_ = QDir::cleanPath(QFileInfo(folder).absoluteFilePath());
  model_->setPaths(std::move(images), folder_);
  updateTitle();
  return count();
}

void DatasetBrowser::setImages(const QStringList& paths, const QString& title) {
  QStringList cleaned;
  cleaned.reserve(paths.size());
  for (const QString& path : paths) cleaned << QDir::cleanPath(QFileInfo(path).absoluteFilePath());
  folder_.clear();
  model_->setPaths(std::move(cleaned), {});
  title_->setText(tr("%1 — %n image(s)", nullptr, count()).arg(title));
}

QString DatasetBrowser::folder() const { return folder_; }
QStringList DatasetBrowser::images() const { return model_->paths(); }
int DatasetBrowser::count() const { return int(model_->paths().size()); }
int DatasetBrowser::thumbnailsDecoded() const { return loader_->decoded(); }
QImage DatasetBrowser::thumbnail(int index) const { return model_->thumbnail(index); }

bool DatasetBrowser::setCurrentPath(const QString& path) {
  const int row = model_->rowOf(path);
  syncing_ = true;
  if (row < 0) {
    list_->selectionModel()->clearCurrentIndex();
    list_->clearSelection();
  } else {
    list_->setCurrentIndex(model_->index(row));
    list_->scrollTo(model_->index(row));
  }
  syncing_ = false;
  return row >= 0;
}

QString DatasetBrowser::currentPath() const {
  const int row = currentIndex();
  return row < 0 ? QString() : model_->paths()[row];
}

int DatasetBrowser::currentIndex() const {
  const QModelIndex current = list_->currentIndex();
  return current.isValid() ? current.row() : -1;
}

bool DatasetBrowser::next() {
  const int row = currentIndex() + 1;  // from "nothing current": the first image
  if (row >= count()) return false;
  list_->setCurrentIndex(model_->index(row));  // currentChanged activates it
  return true;
}

bool DatasetBrowser::previous() {
  const int current = currentIndex();
  const int row = current < 0 ? count() - 1 : current - 1;
  if (row < 0) return false;
  list_->setCurrentIndex(model_->index(row));
  return true;
}

void DatasetBrowser::activate(int row) {
  list_->scrollTo(model_->index(row));
  Q_EMIT imageActivated(model_->paths()[row]);
}

void DatasetBrowser::updateTitle() {
  if (folder_.isEmpty())
    title_->setText(tr("No dataset: File ▸ Open Folder…, or drop a folder"));
  else if (count() == 0)
    title_->setText(tr("%1 — no images (.jpg, .jpeg, .png)").arg(QFileInfo(folder_).fileName()));
  else
    title_->setText(tr("%1 — %n image(s)", nullptr, count()).arg(QFileInfo(folder_).fileName()));
  title_->setToolTip(folder_);
}

}  // namespace neco::ui

#include "neco/ui/CompareView.h"

#include "SlotGuard.h"
#include "neco/core/Checkpoint.h"
#include "neco/core/Similarity.h"
#include "neco/ui/CheckpointOptionsDialog.h"
#include "neco/ui/ImageConversion.h"
#include "neco/ui/PatchCanvas.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace neco::ui {

std::optional<QPoint> patchUnder(QPointF at, int columns, int rows) {
  if (columns <= 0 || rows <= 0) return std::nullopt;
  return QPoint(std::clamp(int(std::floor(at.x() * columns)), 0, columns - 1),
                std::clamp(int(std::floor(at.y() * rows)), 0, rows - 1));
}

QPointF patchCentre(QPoint patch, int columns, int rows) {
  return {(patch.x() + 0.5) / columns, (patch.y() + 0.5) / rows};
}

// ---- the worker: loads checkpoints and extracts features, one job at a time, in order ----

class CompareView::Worker {
 public:
  struct Job {
    quint64 generation = 0;
    quint64 id = 0;
    QString checkpointPath;
    std::shared_ptr<const CheckpointOptions> options;
    std::shared_ptr<const FeatureExtractor> model;
    std::shared_ptr<const RgbImage> image;
    int inputSide = 0;
    int layer = 0;
  };

  explicit Worker(CompareView* view) : view_(view), thread_([this] { run(); }) {}
  ~Worker() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
      jobs_.clear();
    }
    wake_.notify_all();
    thread_.join();
  }
  /// Jobs of older generations still queued are dropped.
  void enqueue(Job job) {
    {
      const std::lock_guard lock(mutex_);
      jobs_.erase(std::remove_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.generation < job.generation; }),
                  jobs_.end());
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      process(job);
    }
  }

  bool stopping() {
    const std::lock_guard lock(mutex_);
    return stop_;
  }

  void process(const Job& job) {
    CompareView* view = view_;
    try {
      std::shared_ptr<const FeatureExtractor> model = job.model;
      if (!model) {
        model = FeatureExtractor::fromCheckpoint(job.checkpointPath.toStdString(),
                                                 job.options ? *job.options : CheckpointOptions{});
        QMetaObject::invokeMethod(view, [view, id = job.id, model] {
          guardSlot("compare: checkpoint loaded", [&] { view->onLoaded(id, model); });
        }, Qt::QueuedConnection);
      }
      if (!job.image || job.image->empty() || stopping()) return;  // closing: no extraction after a load
      const int layer = job.layer > model->describe().depth ? 0 : job.layer;
      const auto reader = layer == 0 ? model : model->atLayer(layer);
      auto features = std::make_shared<const PatchFeatures>(reader->extract(*job.image, job.inputSide));
      QMetaObject::invokeMethod(view, [view, g = job.generation, id = job.id, features] {
        guardSlot("compare: features", [&] { view->onExtracted(g, id, features, {}); });
      }, Qt::QueuedConnection);
    } catch (const std::exception& e) {
      QMetaObject::invokeMethod(view, [view, g = job.generation, id = job.id, message = QString::fromStdString(e.what())] {
        guardSlot("compare: failure", [&] { view->onExtracted(g, id, nullptr, message); });
      }, Qt::QueuedConnection);
    }
  }

  CompareView* view_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

// ---- the view ----

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
  auto* add = new QPushButton(tr("Add current model"), this);
  add->setObjectName(QStringLiteral("compareAddCurrent"));
  add->setToolTip(tr("Compare the model the views show now (a live training step is frozen as it is)"));
  auto* addFile = new QPushButton(tr("Add checkpoint…"), this);
  addFile->setObjectName(QStringLiteral("compareAddCheckpoint"));
  addFile->setToolTip(tr("Compare a checkpoint file (loaded in the background, any supported format)"));
  auto* clear = new QPushButton(tr("Clear"), this);
  clear->setObjectName(QStringLiteral("compareClear"));
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add);
  buttons->addWidget(addFile);
  buttons->addWidget(clear);
  buttons->addWidget(status_, 1);

  auto* stripHost = new QWidget(this);
  strip_ = new QHBoxLayout(stripHost);
  strip_->setContentsMargins(0, 0, 0, 0);
  strip_->addStretch(1);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(stripHost);
  scroll->setWidgetResizable(true);
  scroll->setMinimumHeight(180);

  wipeChoice_ = new QComboBox(this);
  wipeChoice_->setObjectName(QStringLiteral("compareWipeModel"));
  wipeChoice_->setToolTip(tr("The model right of the divider; the base (first) model is left of it"));
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setObjectName(QStringLiteral("compareWipeSlider"));
  slider_->setRange(0, 1000);
  slider_->setValue(500);
  wipe_ = new WipeView(this);
  auto* wipeRow = new QHBoxLayout;
  wipeRow->addWidget(new QLabel(tr("Wipe: base |"), this));
  wipeRow->addWidget(wipeChoice_, 1);
  auto* wipeColumn = new QVBoxLayout;
  wipeColumn->addLayout(wipeRow);
  wipeColumn->addWidget(slider_);
  wipeColumn->addWidget(wipe_, 1);
  // Side by side: the bottom docks are wide and short.
  auto* body = new QHBoxLayout;
  body->addWidget(scroll, 3);
  body->addLayout(wipeColumn, 2);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(buttons);
  layout->addLayout(body, 1);

  worker_ = std::make_unique<Worker>(this);
  connect(add, &QPushButton::clicked, this, &CompareView::addCurrentRequested);
  connect(clear, &QPushButton::clicked, this, [this] { clearModels(); });
  connect(addFile, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Add a checkpoint to compare"), QString(),
        tr("Checkpoints (*.safetensors *.pth *.pt *.ckpt *.bin);;All files (*)"));
    if (!path.isEmpty()) addCheckpoint(path);
  });
  connect(slider_, &QSlider::valueChanged, this, [this](int v) { wipe_->setPosition(v / 1000.0); });
  connect(wipe_, &WipeView::positionChanged, this, [this](double f) {
    const QSignalBlocker quiet(slider_);
    slider_->setValue(static_cast<int>(std::lround(f * 1000)));
  });
  connect(wipe_, &WipeView::patchHovered, this, [this](QPoint p) { onHovered(p, wipe_->columns(), wipe_->rows()); });
  connect(wipeChoice_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (i >= 0) setWipeModel(i + 1);
  });
  updateCaption(-1);
}

CompareView::~CompareView() { worker_.reset(); }  // joined while the tiles still exist

int CompareView::indexOf(quint64 id) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].id == id) return static_cast<int>(i);
  return -1;
}

QString CompareView::modelName(int index) const {
  return index >= 0 && index < modelCount() ? entries_[std::size_t(index)].name : QString();
}

void CompareView::addModel(const QString& name, std::shared_ptr<const FeatureExtractor> model) {
  if (!model) return;
  for (const Entry& e : entries_)
    if (e.model == model) return;  // already compared
  Entry e;
  e.id = nextId_++;
  e.name = name;
  e.model = std::move(model);
  if (modelCount() == kMaxModels) entries_.erase(entries_.begin() + 1);  // the base stays
  entries_.push_back(std::move(e));
  rebuildTiles();
  requestAll();
}

void CompareView::addCheckpoint(const QString& path) {
  addCheckpoint(path, CheckpointOptionsDialog::remembered());  // as File ▸ Open Checkpoint reads it
}

void CompareView::addCheckpoint(const QString& path, const CheckpointOptions& options) {
  Entry e;
  e.id = nextId_++;
  const QFileInfo info(path);
  e.name = info.dir().dirName() + QLatin1Char('/') + info.fileName();  // every run has its state.safetensors
  e.checkpointPath = path;
  e.options = std::make_shared<const CheckpointOptions>(options);
  if (modelCount() == kMaxModels) entries_.erase(entries_.begin() + 1);
  entries_.push_back(std::move(e));
  rebuildTiles();
  requestAll();
}

void CompareView::clearModels() {
  entries_.clear();
  ++generation_;
  pendingJobs_ = 0;
  rebuildTiles();
}

void CompareView::setImage(const QImage& shown, RgbImage rgb, int inputSide, const QString& path) {
  shown_ = shown;
  rgb_ = std::make_shared<const RgbImage>(std::move(rgb));
  inputSide_ = inputSide;
  path_ = path;
  for (auto& e : entries_) {
    e.features.reset();
    e.similarity.clear();
    e.error.clear();
    if (e.canvas) e.canvas->setImage(shown_);
  }
  refreshHeatmaps();  // no old overlay on the new image, and the wipe shows it too
  requestAll();
}

void CompareView::setLayer(int layer) {
  if (layer == layer_) return;
  layer_ = layer;
  for (auto& e : entries_) {
    e.features.reset();
    e.error.clear();
  }
  refreshHeatmaps();  // no overlay of the old block while the new one is extracted
  requestAll();
}

void CompareView::setQuery(std::optional<QPointF> at) {
  query_ = at;
  // Hidden, the maps wait for the next show: the main window calls this after every click.
  if (isVisible()) refreshHeatmaps();
  else heatmapsStale_ = true;
}

void CompareView::onHovered(QPoint patch, int columns, int rows) {
  setCursorPosition(patch.x() >= 0 && columns > 0 && rows > 0 ? std::optional<QPointF>(patchCentre(patch, columns, rows))
                                                              : std::nullopt);
}

void CompareView::setColormap(ColormapKind kind) {
  colormap_ = Colormap(kind);
  refreshHeatmaps();
}

void CompareView::setCursorPosition(std::optional<QPointF> at) {
  if (at == cursor_) return;
  cursor_ = at;
  for (auto& e : entries_) showCursorOn(e.canvas);
  wipe_->setCursorPatch(cursor_ ? patchUnder(*cursor_, wipe_->columns(), wipe_->rows()) : std::nullopt);
}

void CompareView::showCursorOn(PatchCanvas* canvas) const {
  if (!canvas) return;
  const std::optional<QPoint> p =
      cursor_ ? patchUnder(*cursor_, canvas->gridColumns(), canvas->gridRows()) : std::nullopt;
  canvas->setExtraSelections(p ? QList<QPoint>{*p} : QList<QPoint>{});
}

std::optional<QPoint> CompareView::queryPatch(int index) const {
  if (index < 0 || index >= modelCount() || !query_) return std::nullopt;
  const FeaturesPtr& f = entries_[std::size_t(index)].features;
  return f ? patchUnder(*query_, f->gridW, f->gridH) : std::nullopt;
}

void CompareView::setWipeModel(int index) {
  if (index < 1 || index >= modelCount()) return;
  wipeModel_ = index;
  const QSignalBlocker quiet(wipeChoice_);
  wipeChoice_->setCurrentIndex(index - 1);
  updateWipe();
}

void CompareView::setWipePosition(double fraction) { slider_->setValue(static_cast<int>(std::lround(fraction * 1000))); }

int CompareView::readyCount() const {
  return static_cast<int>(std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.features != nullptr; }));
}

FeaturesPtr CompareView::features(int index) const {
  return index >= 0 && index < modelCount() ? entries_[std::size_t(index)].features : nullptr;
}

const std::vector<float>& CompareView::similarity(int index) const {
  static const std::vector<float> none;
  return index >= 0 && index < modelCount() ? entries_[std::size_t(index)].similarity : none;
}

PatchCanvas* CompareView::tile(int index) const {
  return index >= 0 && index < modelCount() ? entries_[std::size_t(index)].canvas : nullptr;
}

void CompareView::rebuildTiles() {
  // One frame per model, in order; the old widgets go (their canvases hold no state of their own).
  while (strip_->count() > 1) {
    QLayoutItem* item = strip_->takeAt(0);
    if (item->widget()) item->widget()->deleteLater();
    delete item;
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    e.frame = new QWidget;
    e.frame->setObjectName(QStringLiteral("compareTile%1").arg(i));
    auto* v = new QVBoxLayout(e.frame);
    v->setContentsMargins(2, 2, 2, 2);
    e.caption = new QLabel(e.frame);
    e.caption->setWordWrap(true);
    // Three lines, always: a caption that grew would move the tile's image under the cursor.
    e.caption->setFixedHeight(e.caption->fontMetrics().lineSpacing() * 3 + 2);
    e.caption->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    e.canvas = new PatchCanvas(e.frame);
    e.canvas->setMinimumSize(160, 120);
    e.canvas->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Ignored);  // as tall as the strip, no taller
    e.canvas->setGridVisible(false);
    e.canvas->setMouseTracking(true);  // hover drives the linked cursor
    e.canvas->setImage(shown_);
    e.canvas->setOverlayOpacity(0.6);
    v->addWidget(e.caption);
    v->addWidget(e.canvas, 1);
    strip_->insertWidget(static_cast<int>(i), e.frame, 1);
    connect(e.canvas, &PatchCanvas::patchHovered, this,
            [this, canvas = e.canvas](QPoint p) { onHovered(p, canvas->gridColumns(), canvas->gridRows()); });
    connect(e.canvas, &PatchCanvas::patchClicked, this, [this, canvas = e.canvas](QPoint p) {
      if (canvas->gridColumns() > 0 && canvas->gridRows() > 0)
        Q_EMIT positionClicked(patchCentre(p, canvas->gridColumns(), canvas->gridRows()));
    });
  }
  {
    const QSignalBlocker quiet(wipeChoice_);
    wipeChoice_->clear();
    for (std::size_t i = 1; i < entries_.size(); ++i) wipeChoice_->addItem(entries_[i].name);
  }
  wipeModel_ = modelCount() > 1 ? modelCount() - 1 : 1;  // the newest against the base
  if (modelCount() > 1) {
    const QSignalBlocker quiet(wipeChoice_);
    wipeChoice_->setCurrentIndex(wipeModel_ - 1);
  }
  refreshHeatmaps();
  Q_EMIT modelsChanged();
}

void CompareView::requestAll() {
  ++generation_;
  pendingJobs_ = 0;
  caughtUp_ = isVisible();
  if (caughtUp_)  // hidden: nothing is loaded or extracted until the view is shown
    for (int i = 0; i < modelCount(); ++i) request(i);
  updateCaption(-1);
}

void CompareView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (heatmapsStale_) refreshHeatmaps();
  if (!caughtUp_) requestAll();
}

void CompareView::request(int index) {
  Entry& e = entries_[std::size_t(index)];
  const bool extracts = rgb_ != nullptr;
  if (!extracts && e.model) return;  // nothing to do before an image (a checkpoint is loaded already)
  Worker::Job job;
  job.generation = generation_;
  job.id = e.id;
  job.checkpointPath = e.checkpointPath;
  job.options = e.options;
  job.model = e.model;
  job.image = rgb_;
  job.inputSide = inputSide_;
  job.layer = layer_;
  if (extracts) ++pendingJobs_;
  worker_->enqueue(std::move(job));
  updateCaption(index);
}

void CompareView::onLoaded(quint64 id, std::shared_ptr<const FeatureExtractor> model) {
  // Kept whatever the generation: the file need not be read again for the next image.
  const int at = indexOf(id);
  if (at < 0 || entries_[std::size_t(at)].model) return;
  entries_[std::size_t(at)].model = std::move(model);
  updateCaption(at);
}

void CompareView::onExtracted(quint64 generation, quint64 id, FeaturesPtr features, const QString& error) {
  if (generation != generation_) return;  // an older image, layer or model list
  pendingJobs_ = std::max(0, pendingJobs_ - 1);
  const int at = indexOf(id);
  if (at < 0) return;
  Entry& e = entries_[std::size_t(at)];
  e.error = error;
  e.features = std::move(features);
  if (e.features && e.canvas) e.canvas->setGrid(e.features->gridW, e.features->gridH);
  refreshHeatmaps();
  Q_EMIT featuresArrived(at);
}

QImage CompareView::overlayOf(const Entry& e) const {
  if (!e.features || e.similarity.empty()) return {};
  return similarityOverlay(e.similarity, e.features->gridW, e.features->gridH, colormap_);
}

void CompareView::refreshHeatmaps() {
  heatmapsStale_ = false;
  for (int i = 0; i < modelCount(); ++i) {
    Entry& e = entries_[std::size_t(i)];
    e.similarity.clear();
    const std::optional<QPoint> q = queryPatch(i);
    if (q) e.similarity = cosineSimilarityMap(*e.features, q->y() * e.features->gridW + q->x());
    if (e.canvas) {
      const QImage overlay = overlayOf(e);
      if (overlay.isNull()) e.canvas->clearOverlay();
      else e.canvas->setOverlay(overlay);
      e.canvas->setSelectedPatch(q);
      showCursorOn(e.canvas);  // its grid may have changed with the features
    }
    updateCaption(i);
  }
  updateWipe();
}

void CompareView::updateCaption(int index) {
  if (index < 0) {
    status_->setText(modelCount() < 2 ? tr("Add two or more models (File ▸ Open Checkpoint, then \"Add current model\", "
                                           "or a checkpoint file) to compare the pinned query under each")
                                      : tr("%1 models; the first is the base").arg(modelCount()));
    return;
  }
  Entry& e = entries_[std::size_t(index)];
  if (!e.caption) return;
  QString text = (index == 0 ? tr("base: ") : QString()) + e.name;
  if (!e.error.isEmpty()) {
    text += QStringLiteral("\n✗ ") + e.error;
  } else if (!e.features) {
    text += !e.model ? tr("\nloading…") : rgb_ ? tr("\nextracting…") : tr("\nloaded; open an image");
  } else if (!e.similarity.empty() && index > 0 && !entries_[0].similarity.empty() &&
             entries_[0].similarity.size() == e.similarity.size()) {
    double sum = 0.0;
    for (std::size_t k = 0; k < e.similarity.size(); ++k) sum += std::abs(e.similarity[k] - entries_[0].similarity[k]);
    text += tr("\nmean |Δ similarity| vs base %1").arg(sum / double(e.similarity.size()), 0, 'f', 3);
  }
  e.caption->setText(text);
  e.caption->setToolTip(e.error.isEmpty() ? e.checkpointPath : e.error);
}

void CompareView::updateWipe() {
  const Entry* left = modelCount() > 0 ? &entries_[0] : nullptr;
  const Entry* right = wipeModel_ < modelCount() ? &entries_[std::size_t(wipeModel_)] : nullptr;
  const FeaturesPtr grid = left && left->features ? left->features : (right ? right->features : nullptr);
  wipe_->setImage(shown_, grid ? grid->gridW : 0, grid ? grid->gridH : 0);
  wipe_->setOverlays(left ? overlayOf(*left) : QImage(), right ? overlayOf(*right) : QImage(),
                     left ? left->name : QString(), right ? right->name : QString());
  wipe_->setQuery(query_ ? patchUnder(*query_, wipe_->columns(), wipe_->rows()) : std::nullopt);
  wipe_->setCursorPatch(cursor_ ? patchUnder(*cursor_, wipe_->columns(), wipe_->rows()) : std::nullopt);
}

// ---- the wipe ----

WipeView::WipeView(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("compareWipe"));
  setMouseTracking(true);
  setMinimumSize(200, 140);
  setCursor(Qt::SplitHCursor);
}

void WipeView::setImage(const QImage& image, int columns, int rows) {
  image_ = image;
  columns_ = columns;
  rows_ = rows;
  update();
}

void WipeView::setOverlays(const QImage& left, const QImage& right, const QString& leftName, const QString& rightName) {
  left_ = left;
  right_ = right;
  leftName_ = leftName;
  rightName_ = rightName;
  update();
}

void WipeView::setPosition(double fraction) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  if (fraction == position_) return;
  position_ = fraction;
  update();
  Q_EMIT positionChanged(position_);
}

void WipeView::setQuery(std::optional<QPoint> patch) {
  query_ = patch;
  update();
}

void WipeView::setCursorPatch(std::optional<QPoint> patch) {
  cursor_ = patch;
  update();
}

QRectF WipeView::imageRect() const {
  if (image_.isNull()) return {};
  const QSizeF fitted = QSizeF(image_.size()).scaled(QSizeF(size()), Qt::KeepAspectRatio);
  return {QPointF((width() - fitted.width()) / 2, (height() - fitted.height()) / 2), fitted};
}

QRectF WipeView::patchRect(QPoint patch) const {
  const QRectF r = imageRect();
  if (columns_ <= 0 || rows_ <= 0) return {};
  const double w = r.width() / columns_, h = r.height() / rows_;
  return {r.left() + patch.x() * w, r.top() + patch.y() * h, w, h};
}

std::optional<QPoint> WipeView::patchAt(QPointF position) const {
  const QRectF r = imageRect();
  if (columns_ <= 0 || rows_ <= 0 || !r.contains(position)) return std::nullopt;
  const int x = std::clamp(int((position.x() - r.left()) / r.width() * columns_), 0, columns_ - 1);
  const int y = std::clamp(int((position.y() - r.top()) / r.height() * rows_), 0, rows_ - 1);
  return QPoint(x, y);
}

void WipeView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  const QRectF r = imageRect();
  if (r.isEmpty()) return;
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  p.drawImage(r, image_);
  const double split = r.left() + position_ * r.width();
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // patches stay squares
  p.setOpacity(0.6);
  if (!left_.isNull()) {
    p.save();
    p.setClipRect(QRectF(r.left(), r.top(), split - r.left(), r.height()));
    p.drawImage(r, left_);
    p.restore();
  }
  if (!right_.isNull()) {
    p.save();
    p.setClipRect(QRectF(split, r.top(), r.right() - split, r.height()));
    p.drawImage(r, right_);
    p.restore();
  }
  p.setOpacity(1.0);
  p.setPen(QPen(Qt::white, 2));
  p.drawLine(QPointF(split, r.top()), QPointF(split, r.bottom()));
  if (query_) {
    p.setPen(QPen(Qt::red, 2));
    p.drawRect(patchRect(*query_));
  }
  if (cursor_) {
    p.setPen(QPen(Qt::cyan, 1, Qt::DashLine));
    p.drawRect(patchRect(*cursor_));
  }
  p.setPen(Qt::white);
  const QRectF labels = r.adjusted(6, 4, -6, -4);
  p.drawText(labels, Qt::AlignLeft | Qt::AlignTop, leftName_);
  p.drawText(labels, Qt::AlignRight | Qt::AlignTop, rightName_);
}

void WipeView::mousePressEvent(QMouseEvent* event) {
  const QRectF r = imageRect();
  if (event->button() == Qt::LeftButton && r.width() > 0) setPosition((event->position().x() - r.left()) / r.width());
}

void WipeView::mouseMoveEvent(QMouseEvent* event) {
  const QRectF r = imageRect();
  if ((event->buttons() & Qt::LeftButton) && r.width() > 0) setPosition((event->position().x() - r.left()) / r.width());
  const std::optional<QPoint> patch = patchAt(event->position());
  if (patch != cursor_) {
    cursor_ = patch;
    update();
    Q_EMIT patchHovered(patch.value_or(QPoint(-1, -1)));
  }
}

void WipeView::leaveEvent(QEvent*) {
  if (!cursor_) return;
  cursor_.reset();
  update();
  Q_EMIT patchHovered(QPoint(-1, -1));
}

}  // namespace neco::ui

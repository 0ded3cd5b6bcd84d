#include "neco/ui/MainWindow.h"

#include "CheckpointActions.h"
#include "ScrollingDock.h"
#include "SlotGuard.h"
#include "VideoRecorder.h"
#include "neco/core/Paths.h"
#include "neco/core/Similarity.h"
#include "neco/ui/CompareView.h"
#include "neco/ui/CrossImageView.h"
#include "neco/ui/DatasetBrowser.h"
#include "neco/ui/DemoBootstrap.h"
#include "neco/ui/FeatureMapView.h"
#include "neco/ui/ImageConversion.h"
#include "neco/ui/LogPanel.h"
#include "neco/ui/NearFarStrip.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationView.h"
#include "neco/ui/RecentFiles.h"
#include "neco/ui/SegmentationQualityView.h"
#include "neco/ui/ShortcutSheet.h"
#include "neco/ui/SimilarityControls.h"
#include "neco/ui/SortingNetworkView.h"
#include "neco/ui/TrainingPanel.h"
#include "neco/ui/TrainingWorker.h"
#include "neco/ui/TrainingXRayView.h"

#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QLabel>
#include <QTimer>
#include <QMessageBox>
#include <QMimeData>
#include <QStatusBar>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace neco::ui {
namespace {

// After a click the window paints the canvas first; the other views of the query wait this long,
// so their repaints land in the frames after the heatmap's (one 60 Hz frame, and then some).
constexpr int kFollowerDelayMs = 20;

}  // namespace

MainWindow::MainWindow(std::shared_ptr<const FeatureExtractor> extractor, QWidget* parent)
    : QMainWindow(parent),
      service_(new FeatureService(std::move(extractor), this)),
      canvas_(new PatchCanvas(this)),
      controls_(new SimilarityControls(this)),
      log_(new LogPanel(this)),
      permutation_(new PermutationView(this)),
      network_(new SortingNetworkView(this)),
      training_(new TrainingPanel(this)),
      xray_(new TrainingXRayView(this)),
      quality_(new SegmentationQualityView(this)),
      browser_(new DatasetBrowser(this)),
      recentDatasets_(new RecentFiles(tr("Recent &Datasets"), QStringLiteral("recentDatasets"), 8, this)),
      demo_(new DemoBootstrap(this)),
      checkpoints_(new CheckpointActions(this, service_->extractor())),
      status_(new QLabel(this)),
      modelLabel_(new QLabel(this)) {
  setWindowTitle(tr("NeCo Studio"));
  setAcceptDrops(true);
  baseModel_ = service_->extractor();
  model_ = service_->model();  // changes only with installModel
  demoRoot_ = QString::fromStdString(defaultDemoDatasetDirectory().string());
  setCentralWidget(canvas_);
  // The right column (model, similarity controls, training with its curves) runs the full height;
  // the bottom row (log, X-ray, near/far, …, sorting network) spans the rest.
  setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
  statusBar()->addWidget(status_, 1);
  modelLabel_->setObjectName(QStringLiteral("modelLabel"));
  modelLabel_->setWordWrap(true);
  modelLabel_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // the text never widens the dock
  modelLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  modelLabel_->setContentsMargins(6, 4, 6, 4);
  modelLabel_->setText(checkpoints_->summary());
  modelLabel_->setToolTip(checkpoints_->details());
  quality_->setModel(service_->extractor(), checkpoints_->name());
  buildDocks();
  buildMenus();
  shortcuts_ = new ShortcutSheet(this);
  followers_ = new QTimer(this);
  followers_->setSingleShot(true);
  followers_->setInterval(kFollowerDelayMs);
  connect(followers_, &QTimer::timeout, this, [this] { guardSlot("follow the query", [this] { updateFollowers(); }); });
  connectPermutationViews();
  connectViewRestore();

  connect(service_, &FeatureService::imageLoaded, this, &MainWindow::onImageLoaded);
  connect(service_, &FeatureService::featuresReady, this, &MainWindow::onFeaturesReady);
  connect(service_, &FeatureService::failed, this, &MainWindow::onFailed);
  connect(checkpoints_, &CheckpointActions::modelChanged, this, [this](std::shared_ptr<const FeatureExtractor> model) {
    guardSlot("model changed", [&] { onModelChanged(std::move(model)); });
  });
  connect(training_, &TrainingPanel::followModel, this, [this](ExtractorPtr model, const QString& label) {
    guardSlot("live model", [&] { checkpoints_->useTrainingModel(std::move(model), label); });
  });
  connect(training_, &TrainingPanel::checkpointActivated, this, [this](const QString& dir) {
    guardSlot("open training checkpoint",
              [&] { openCheckpoint(QDir(dir).filePath(QStringLiteral("state.safetensors"))); });
  });
  connect(checkpoints_, &CheckpointActions::failed, this, &MainWindow::checkpointFailed);
  connect(checkpoints_, &CheckpointActions::failed, this, &MainWindow::updateStatus);
  connect(canvas_, &PatchCanvas::patchClicked, this, &MainWindow::selectPatch);
  connect(canvas_, &PatchCanvas::patchShiftClicked, this, &MainWindow::addQueryPatch);
  connect(canvas_, &PatchCanvas::patchHovered, this, [this](QPoint patch) {
    if (hoverPreview_ && features_) {
      const std::optional<QPoint> next = patch.x() >= 0 ? std::optional<QPoint>(patch) : std::nullopt;
      if (next != preview_) {
        preview_ = next;
        paintHeatmap();
      }
    }
    const bool inside = !similarity_.empty() && patch.x() >= 0 && features_ && patch.x() < features_->gridW;
    controls_->setProbeValue(inside ? similarity_[static_cast<std::size_t>(patch.y() * features_->gridW + patch.x())]
                                    : std::nan(""));
  });
  connect(controls_, &SimilarityControls::gridVisibleChanged, canvas_, &PatchCanvas::setGridVisible);
  connect(controls_, &SimilarityControls::opacityChanged, canvas_, &PatchCanvas::setOverlayOpacity);
  connect(controls_, &SimilarityControls::colormapChanged, this, [this](ColormapKind kind) {
    colormap_ = Colormap(kind);
    permutation_->setColormap(kind);
    updateHeatmap();
  });
  connect(controls_, &SimilarityControls::inputSizeChanged, this, [this](int) { requestFeatures(); });
  controls_->setDepth(model_.depth);
  connect(controls_, &SimilarityControls::layerChanged, this,
          [this](int) { guardSlot("layer changed", [this] { onLayerChanged(); }); });
  connect(demo_, &DemoBootstrap::ready, this, [this](const QString& root, const QStringList& images) {
    if (images.isEmpty()) return showError(tr("Demo dataset"), tr("%1 holds no images").arg(root));
    browser_->setImages(images, tr("Demo scenes"));
    openImage(images.front());
  });
  connect(browser_, &DatasetBrowser::imageActivated, this, &MainWindow::openImage);
  connect(recentDatasets_, &RecentFiles::openRequested, this, [this](const QString& dir) {
    guardSlot("open recent dataset", [&] { openFolder(dir); });
  });
  connect(demo_, &DemoBootstrap::failed, this,
          [this](const QString& root, const QString& message) { showError(tr("Demo dataset"), message); });

  canvas_->setOverlayOpacity(controls_->opacity());
  canvas_->setGridVisible(controls_->gridVisible());
  updateStatus();
}

MainWindow::~MainWindow() {
  training_->shutdown();  // while every view and the log panel are still there
}

void MainWindow::buildDocks() {
  browserDock_ = new QDockWidget(tr("Dataset"), this);
  browserDock_->setObjectName(QStringLiteral("datasetDock"));
  browserDock_->setWidget(browser_);
  addDockWidget(Qt::LeftDockWidgetArea, browserDock_);
  auto* modelDock = new QDockWidget(tr("Model"), this);
  modelDock->setObjectName(QStringLiteral("modelDock"));
  modelDock->setWidget(modelLabel_);
  addDockWidget(Qt::RightDockWidgetArea, modelDock);
  auto* controlsDock = new QDockWidget(tr("Similarity"), this);
  controlsDock->setObjectName(QStringLiteral("similarityDock"));
  controlsDock->setWidget(scrolling(controls_));
  addDockWidget(Qt::RightDockWidgetArea, controlsDock);
  permutationDock_ = new QDockWidget(tr("Permutation"), this);
  permutationDock_->setObjectName(QStringLiteral("permutationDock"));
  permutationDock_->setWidget(permutation_);
  splitDockWidget(browserDock_, permutationDock_, Qt::Horizontal);
  logDock_ = new QDockWidget(tr("Log"), this);
  logDock_->setObjectName(QStringLiteral("logDock"));
  logDock_->setWidget(log_);
  addDockWidget(Qt::BottomDockWidgetArea, logDock_);
  networkDock_ = new QDockWidget(tr("Sorting network"), this);
  networkDock_->setObjectName(QStringLiteral("sortingNetworkDock"));
  networkDock_->setWidget(network_);
  splitDockWidget(logDock_, networkDock_, Qt::Horizontal);
  trainingDock_ = new QDockWidget(tr("Training"), this);
  trainingDock_->setObjectName(QStringLiteral("trainingDock"));
  trainingDock_->setWidget(scrolling(training_));
  addDockWidget(Qt::RightDockWidgetArea, trainingDock_);
  xrayDock_ = new QDockWidget(tr("Training X-ray"), this);
  xrayDock_->setObjectName(QStringLiteral("trainingXRayDock"));
  xrayDock_->setWidget(scrolling(xray_));
  addDockWidget(Qt::BottomDockWidgetArea, xrayDock_);
  tabifyDockWidget(logDock_, xrayDock_);
  qualityDock_ = new QDockWidget(tr("Segmentation quality"), this);
  qualityDock_->setObjectName(QStringLiteral("segmentationQualityDock"));
  qualityDock_->setWidget(scrolling(quality_));
  addDockWidget(Qt::BottomDockWidgetArea, qualityDock_);
  tabifyDockWidget(logDock_, qualityDock_);
  buildFeatureDocks();
  nearFarDock_->raise();
  connect(xray_, &TrainingXRayView::xrayRequested, this, [this] {
    guardSlot("X-ray", [this] {
      xray_->showMessage(tr("Taking an X-ray of the next step…"));
      training_->worker()->requestXRay();
    });
  });
  connect(training_->worker(), &TrainingWorker::xray, this, [this](XRayPtr x, const QString& error) {
    guardSlot("X-ray ready", [&] {
      if (x) {
        xray_->setXRay(std::move(x));
      } else {
        xray_->showMessage(tr("No X-ray: %1").arg(error));
      }
    });
  });
  connect(training_, &TrainingPanel::stateChanged, this, [this](TrainingPanel::State state) {
    const bool paused = state == TrainingPanel::State::Paused;
    xray_->setRequestEnabled(paused);
    // a visible X-ray dock follows every pause (single steps included) with a fresh X-ray
    if (paused && xrayDock_->isVisible() && !xrayDock_->visibleRegion().isEmpty()) training_->worker()->requestXRay();
  });
}

void MainWindow::showXRay() {
  xrayDock_->show();
  xrayDock_->raise();
  // the X-ray needs room: half the height, most of the bottom row (once the tab switch is laid out)
  QTimer::singleShot(0, this, [this] {
    if (xrayDock_->isFloating()) return;
    if (xrayDock_->height() < height() * 2 / 5) {
      // NOTE: resizeDocks ignores a tabified dock's height (QTBUG-65592); the untabbed neighbour in
      // the same bottom row carries the row's height.
      QDockWidget* row = !networkDock_->isFloating() && networkDock_->isVisible() ? networkDock_ : xrayDock_;
      resizeDocks({row}, {height() / 2}, Qt::Vertical);
    }
    if (!networkDock_->isFloating() && networkDock_->isVisible() && xrayDock_->width() < width() * 3 / 5) {
      resizeDocks({xrayDock_, networkDock_}, {width() * 3 / 4, width() / 4}, Qt::Horizontal);
    }
  });
  if (training_->state() == TrainingPanel::State::Paused) {
    xray_->showMessage(tr("Taking an X-ray of the next step…"));
    training_->worker()->requestXRay();
  } else {
    xray_->showMessage(tr("Pause the training run, then take an X-ray of the step about to run."));
  }
}

void MainWindow::showSegmentationQuality() {
  qualityDock_->show();
  qualityDock_->raise();
  // image, tables and matrix side by side: most of the width and half the height (see showXRay)
  QTimer::singleShot(0, this, [this] {
    if (qualityDock_->isFloating()) return;
    if (qualityDock_->height() < height() * 2 / 5) {
      QDockWidget* row = !networkDock_->isFloating() && networkDock_->isVisible() ? networkDock_ : qualityDock_;
      resizeDocks({row}, {height() / 2}, Qt::Vertical);
    }
    if (!networkDock_->isFloating() && networkDock_->isVisible() && qualityDock_->width() < width() * 3 / 5)
      resizeDocks({qualityDock_, networkDock_}, {width() * 3 / 4, width() / 4}, Qt::Horizontal);
  });
}

void MainWindow::trainDemo() {
  trainingDock_->show();
  trainingDock_->raise();
  training_->startDemo();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  // NOTE: never a question here (tests close windows): the run stops at its next step boundary,
  // saves a checkpoint, and can be continued later from its folder.
  if (training_->training())
    spdlog::info("closing the studio during training: stopping the run and saving a checkpoint");
  training_->shutdown();
  stopRecording();  // a recording in progress is written, not lost
  markClosedCleanly();
  QMainWindow::closeEvent(event);
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  if (docksSized_) return;
  docksSized_ = true;
  // In proportion to the window the user (or --window-size) chose: the matrices need width, the
  // 49-wire network needs height; the image view keeps the rest.
  resizeDocks({browserDock_, permutationDock_}, {std::max(170, width() / 9), std::max(360, width() * 3 / 10)},
              Qt::Horizontal);
  resizeDocks({logDock_}, {std::max(180, height() * 2 / 5)}, Qt::Vertical);
  resizeDocks({logDock_, networkDock_}, {width() / 4, width() * 3 / 4}, Qt::Horizontal);
}

void MainWindow::connectPermutationViews() {
  connect(permutation_, &PermutationView::referencePatchesChanged, canvas_, &PatchCanvas::setMarkedPatches);
  connect(permutation_, &PermutationView::sorted, this, [this] {
    if (const auto& row = permutation_->studentRow())
      network_->setNetwork(permutation_->networkLayout(), *row, permutation_->studentSettings());
    else
      network_->clear();
  });
  permutation_->setColormap(controls_->colormap());
}

void MainWindow::openImage(const QString& path) {
  spdlog::info("opening {}", path.toStdString());
  if (pendingJump_ && pendingJump_->first != path) pendingJump_.reset();
  browser_->setCurrentPath(path);  // ←/→ continue from here even when this one cannot be read
  latestRequest_ = service_->requestFile(path, controls_->inputSize());
  openingPath_ = path;
  extracting_ = true;
  updateStatus();
}

void MainWindow::openDemo(const QString& demoRoot) {
  demoRoot_ = demoRoot;
  demo_->start(demoRoot);
}

int MainWindow::openFolder(const QString& folder) {
  QStringList images = DatasetBrowser::imagesIn(folder);
  browserDock_->show();
  browserDock_->raise();
  if (images.isEmpty()) {  // the current listing stays
    showError(tr("Open folder"), tr("%1 holds no images (.jpg, .jpeg, .png; label folders such as "
                                    "SegmentationClass are skipped)").arg(QDir::toNativeSeparators(folder)));
    return 0;
  }
  const int count = browser_->setFolder(folder, std::move(images));
  spdlog::info("{}: {} images", folder.toStdString(), count);
  recentDatasets_->add(folder);
  openImage(browser_->images().front());
  return count;
}

bool MainWindow::nextImage() {
  if (browser_->next()) return true;
  status_->setText(browser_->count() == 0 ? tr("No dataset listed: File ▸ Open Folder…") : tr("Last image of the list"));
  return false;
}

bool MainWindow::previousImage() {
  if (browser_->previous()) return true;
  status_->setText(browser_->count() == 0 ? tr("No dataset listed: File ▸ Open Folder…") : tr("First image of the list"));
  return false;
}

void MainWindow::openCheckpoint(const QString& path) {
  checkpoints_->open(path);
  updateStatus();
}

void MainWindow::openCheckpoint(const QString& path, const CheckpointOptions& options) {
  checkpoints_->open(path, options);
  updateStatus();
}

void MainWindow::useDemoModel() { checkpoints_->useDemo(); }

bool MainWindow::checkpointLoading() const { return checkpoints_->busy(); }

QString MainWindow::modelSummary() const { return modelLabel_->text(); }

RecentFiles* MainWindow::recentCheckpoints() const { return checkpoints_->recent(); }

void MainWindow::setInteractive(bool interactive) {
  interactive_ = interactive;
  checkpoints_->setInteractive(interactive);
}

void MainWindow::installModel() {
  const int layer = controls_->layer();
  auto model = layer == 0 ? baseModel_ : baseModel_->atLayer(layer);
  service_->setExtractor(model);
  dropPatchBank();
  if (crossImageShown()) crossImage_->setModel(model, controls_->inputSize());  // else when it is shown
  if (compare_) compare_->setLayer(controls_->layer());  // also after a restore or a shallower model
  model_ = model->describe();
}

void MainWindow::onLayerChanged() {
  installModel();
  spdlog::info("reading block {} of {}", model_.layer, model_.depth);
  if (!openingPath_.isEmpty()) openImage(openingPath_);
  else requestFeatures();
  updateStatus();
}

void MainWindow::onModelChanged(std::shared_ptr<const FeatureExtractor> model) {
  baseModel_ = std::move(model);
  controls_->setDepth(baseModel_->describe().depth);  // keeps the chosen block when the model has it
  installModel();
  quality_->setModel(baseModel_, checkpoints_->name());  // the protocols read the last block
  if (!checkpoints_->activeIsTraining() && !checkpoints_->activePath().isEmpty())
    prefetchCheckpointSha256(checkpoints_->activePath());
  modelLabel_->setText(checkpoints_->summary());
  modelLabel_->setToolTip(checkpoints_->details());
  spdlog::info("model: {}", checkpoints_->summary().replace(QLatin1Char('\n'), QStringLiteral(", ")).toStdString());
  // The current image on the new model (the query patch is kept); an image still being opened is
  // requested again, or its features would come from the old model.
  if (!openingPath_.isEmpty()) openImage(openingPath_);
  else requestFeatures();
  updateStatus();
  Q_EMIT modelChanged();
}

void MainWindow::selectPatch(QPoint patch) {
  query_ = patch;
  extraQueries_.clear();
  preview_.reset();
  canvas_->setSelectedPatch(patch);
  canvas_->setExtraSelections({});
  updateHeatmap();
}

void MainWindow::addQueryPatch(QPoint patch) {
  if (!query_) return selectPatch(patch);
  if (patch == *query_) return;
  if (!extraQueries_.removeOne(patch)) extraQueries_.append(patch);
  canvas_->setExtraSelections(extraQueries_);
  paintHeatmap();  // the permutation view and the strip keep following the first query
}

void MainWindow::setHoverPreview(bool on) {
  hoverPreview_ = on;
  if (!on && preview_) {
    preview_.reset();
    paintHeatmap();
  }
}

void MainWindow::requestFeatures() {
  if (image_.empty()) return;
  latestRequest_ = service_->requestImage(image_, controls_->inputSize());
  openingPath_.clear();
  extracting_ = true;
  updateStatus();
}

void MainWindow::onImageLoaded(quint64 id, const QString& path, const QImage& image) {
  if (id != latestRequest_) return;  // a newer request superseded this one
  openingPath_.clear();
  path_ = path;
  image_ = fromQImage(image);
  features_.reset();
  similarity_.clear();
  query_.reset();
  extraQueries_.clear();
  preview_.reset();
  canvas_->setImage(image);
  featureMaps_->setImage(image);
  nearFar_->clearQuery();
  crossImage_->setQuery(nullptr, {});  // the old image's query must not colour the new targets
  permutation_->setSource(nullptr, std::nullopt);
  // An image from elsewhere (File ▸ Open Image, a dropped file) lists its own folder.
  if (!browser_->setCurrentPath(path)) {
    const QString folder = QFileInfo(path).absolutePath();  // its own images only: a quick, flat listing
    if (browser_->setFolder(folder, DatasetBrowser::imagesIn(folder, false)) > 0) browser_->setCurrentPath(path);
  }
  updateCrossImageTargets();
  setWindowTitle(tr("NeCo Studio — %1").arg(QFileInfo(path).fileName()));
  updateStatus();
}

void MainWindow::onFeaturesReady(quint64 id, const FeaturesPtr& features, double milliseconds) {
  if (id != latestRequest_) return;
  features_ = features;
  extractMs_ = milliseconds;
  extracting_ = false;
  canvas_->setGrid(features->gridW, features->gridH);
  featureMaps_->setFeatures(features);
  if (pendingJump_ && QFileInfo(pendingJump_->first) == QFileInfo(path_)) {
    query_ = pendingJump_->second;
    canvas_->setSelectedPatch(query_);
    pendingJump_.reset();
    extraQueries_ = std::exchange(restoreExtras_, {});
  }
  if (query_ && (query_->x() >= features->gridW || query_->y() >= features->gridH)) {
    query_.reset();
    canvas_->setSelectedPatch(std::nullopt);
  }
  const auto offGrid = [&](QPoint p) { return p.x() >= features->gridW || p.y() >= features->gridH || !query_; };
  extraQueries_.erase(std::remove_if(extraQueries_.begin(), extraQueries_.end(), offGrid), extraQueries_.end());
  canvas_->setExtraSelections(extraQueries_);
  preview_.reset();
  updateHeatmap();
  updateStatus();
  scheduleAutosave();
  Q_EMIT featuresUpdated();
}

void MainWindow::onFailed(quint64 id, const QString& path, const QString& message) {
  if (id != latestRequest_) return;
  extracting_ = false;
  openingPath_.clear();
  Q_EMIT openFailed(path, message);
  showError(tr("Cannot open image"), message);
  updateStatus();
}

void MainWindow::updateFollowers() {
  permutation_->setSource(features_, query_);  // re-sorts only when features or query changed
  updateNearFar();
  updateCompare();
  updateEmbedding();
  if (recordingViews_) recordViewsFrame();
}

void MainWindow::updateHeatmap() {
  // NOTE: the heatmap is the click's answer and gets the next frame to itself; the permutation
  // view, the sorting network and the near/far strip follow one frame later (each costs a repaint
  // of its own dock, and together they used to double the click-to-heatmap time).
  followers_->start();
  paintHeatmap();
}

void MainWindow::paintHeatmap() {
  similarity_.clear();
  // the previewed patch, or the pinned query and the added ones (per patch the highest similarity)
  QList<QPoint> queries;
  if (preview_) queries = {*preview_};
  else if (query_) queries = QList<QPoint>{*query_} + extraQueries_;
  if (!features_ || queries.isEmpty()) {
    canvas_->clearOverlay();
    return;
  }
  try {
    for (QPoint q : queries) {
      const std::vector<float> map = cosineSimilarityMap(*features_, q.y() * features_->gridW + q.x());
      if (similarity_.empty()) similarity_ = map;
      else std::transform(map.begin(), map.end(), similarity_.begin(), similarity_.begin(),
                          [](float a, float b) { return std::max(a, b); });
    }
  } catch (const std::exception& e) {
    similarity_.clear();
    canvas_->clearOverlay();
    return showError(tr("Similarity"), QString::fromStdString(e.what()));
  }
  canvas_->setOverlay(similarityOverlay(similarity_, features_->gridW, features_->gridH, colormap_));
  updateStatus();
  if (!preview_) scheduleAutosave();
  Q_EMIT heatmapUpdated();
}

void MainWindow::updateStatus() {
  QStringList parts{tr("model: %1").arg(checkpoints_->name())};
  if (model_.layer != model_.depth) parts << tr("block %1 of %2").arg(model_.layer).arg(model_.depth);
  if (checkpoints_->busy()) parts << tr("loading checkpoint…");
  if (!image_.empty()) parts << tr("%1 × %2 px").arg(image_.width).arg(image_.height);
  if (extracting_) parts << tr("extracting features…");
  if (features_) parts << tr("grid %1 × %2, %3 ms").arg(features_->gridW).arg(features_->gridH).arg(extractMs_, 0, 'f', 0);
  if ((query_ || preview_) && !similarity_.empty()) {
    const auto [lo, hi] = std::minmax_element(similarity_.begin(), similarity_.end());
    const QPoint shown = preview_ ? *preview_ : *query_;
    QString query = tr("%1 (%2, %3)").arg(preview_ ? tr("preview") : tr("query")).arg(shown.x()).arg(shown.y());
    if (!preview_ && !extraQueries_.isEmpty()) query += tr(" + %n more", nullptr, int(extraQueries_.size()));
    parts << tr("%1: similarity %2 … %3").arg(query).arg(*lo, 0, 'f', 2).arg(*hi, 0, 'f', 2);
  } else if (features_) {
    parts << tr("click a patch");
  }
  status_->setText(parts.join(QStringLiteral("   |   ")));
}

void MainWindow::showError(const QString& title, const QString& message) {
  spdlog::error("{}: {}", title.toStdString(), message.toStdString());
  if (!interactive_) return;
  auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Close, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();  // never a nested event loop inside a slot
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  guardSlot("drop", [&] { dropUrls(event); });
}

void MainWindow::dropUrls(QDropEvent* event) {
  // A checkpoint file or Hugging Face folder loads a model; an image opens it, a folder lists it.
  QString checkpoint, image, folder;
  for (const QUrl& url : event->mimeData()->urls()) {
    if (!url.isLocalFile()) continue;
    const QFileInfo info(url.toLocalFile());
    if (CheckpointActions::isCheckpoint(info)) {
      if (checkpoint.isEmpty()) checkpoint = info.filePath();
    } else if (info.isDir()) {
      if (folder.isEmpty()) folder = info.filePath();
    } else if (image.isEmpty() && info.isFile()) {
      image = info.filePath();
    }
  }
  if (checkpoint.isEmpty() && image.isEmpty() && folder.isEmpty())
    return showError(tr("Drop"), tr("Nothing to open: drop an image, a folder of images, a checkpoint "
                                    "(.pth .pt .ckpt .bin .safetensors) or a Hugging Face model folder."));
  event->acceptProposedAction();
  if (!checkpoint.isEmpty()) openCheckpoint(checkpoint);
  if (!image.isEmpty()) openImage(image);
  else if (!folder.isEmpty()) openFolder(folder);
}

}  // namespace neco::ui

#include "neco/ui/MainWindow.h"

#include "CheckpointActions.h"
#include "SlotGuard.h"
#include "neco/core/BuildInfo.h"
#include "neco/core/Paths.h"
#include "neco/core/Similarity.h"
#include "neco/ui/DemoBootstrap.h"
#include "neco/ui/ImageConversion.h"
#include "neco/ui/LogPanel.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationView.h"
#include "neco/ui/SegmentationQualityView.h"
#include "neco/ui/SimilarityControls.h"
#include "neco/ui/SortingNetworkView.h"
#include "neco/ui/TrainingPanel.h"
#include "neco/ui/TrainingWorker.h"
#include "neco/ui/TrainingXRayView.h"

#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QTimer>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QStatusBar>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace neco::ui {
namespace {

// A dropped image file, or the first image by name of a dropped folder (VOC-style datasets keep
// them in JPEGImages/); empty when there is none.
QString imageToOpen(const QFileInfo& info) {
  if (info.isFile()) return info.filePath();
  if (!info.isDir()) return {};
  for (const QString& sub : {QString(), QStringLiteral("JPEGImages")}) {
    const QDir dir(QDir(info.filePath()).filePath(sub));
    const QStringList patterns{QStringLiteral("*.jpg"), QStringLiteral("*.jpeg"), QStringLiteral("*.png")};
    const QStringList images = dir.entryList(patterns, QDir::Files, QDir::Name);
    if (!images.isEmpty()) return dir.filePath(images.front());
  }
  return {};
}

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
      demo_(new DemoBootstrap(this)),
      checkpoints_(new CheckpointActions(this, service_->extractor())),
      status_(new QLabel(this)),
      modelLabel_(new QLabel(this)) {
  setWindowTitle(tr("NeCo Studio"));
  setAcceptDrops(true);
  model_ = service_->model();  // changes only with onModelChanged
  demoRoot_ = QString::fromStdString(defaultDemoDatasetDirectory().string());
  setCentralWidget(canvas_);
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
  connectPermutationViews();

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
  connect(canvas_, &PatchCanvas::patchHovered, this, [this](QPoint patch) {
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
  connect(demo_, &DemoBootstrap::ready, this, [this](const QString& root, const QStringList& images) {
    if (images.isEmpty()) return showError(tr("Demo dataset"), tr("%1 holds no images").arg(root));
    openImage(images.front());
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
  auto* modelDock = new QDockWidget(tr("Model"), this);
  modelDock->setObjectName(QStringLiteral("modelDock"));
  modelDock->setWidget(modelLabel_);
  addDockWidget(Qt::RightDockWidgetArea, modelDock);
  auto* controlsDock = new QDockWidget(tr("Similarity"), this);
  controlsDock->setObjectName(QStringLiteral("similarityDock"));
  controlsDock->setWidget(controls_);
  addDockWidget(Qt::RightDockWidgetArea, controlsDock);
  permutationDock_ = new QDockWidget(tr("Permutation"), this);
  permutationDock_->setObjectName(QStringLiteral("permutationDock"));
  permutationDock_->setWidget(permutation_);
  addDockWidget(Qt::LeftDockWidgetArea, permutationDock_);
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
  trainingDock_->setWidget(training_);
  addDockWidget(Qt::RightDockWidgetArea, trainingDock_);
  xrayDock_ = new QDockWidget(tr("Training X-ray"), this);
  xrayDock_->setObjectName(QStringLiteral("trainingXRayDock"));
  xrayDock_->setWidget(xray_);
  addDockWidget(Qt::BottomDockWidgetArea, xrayDock_);
  tabifyDockWidget(logDock_, xrayDock_);
  qualityDock_ = new QDockWidget(tr("Segmentation quality"), this);
  qualityDock_->setObjectName(QStringLiteral("segmentationQualityDock"));
  qualityDock_->setWidget(quality_);
  addDockWidget(Qt::BottomDockWidgetArea, qualityDock_);
  tabifyDockWidget(logDock_, qualityDock_);
  logDock_->raise();
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
  QMainWindow::closeEvent(event);
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  if (docksSized_) return;
  docksSized_ = true;
  // In proportion to the window the user (or --window-size) chose: the matrices need width, the
  // 49-wire network needs height; the image view keeps the rest.
  resizeDocks({permutationDock_}, {std::max(360, width() * 7 / 20)}, Qt::Horizontal);
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

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open Image…"), QKeySequence::Open, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open image"), QFileInfo(path_).absolutePath(),
                                                      tr("Images (*.jpg *.jpeg *.png);;All files (*)"));
    if (!path.isEmpty()) openImage(path);
  });
  file->addAction(tr("Open &Demo Dataset"), this, [this] { openDemo(demoRoot_); });
  file->addSeparator();
  checkpoints_->addTo(file);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);

  QMenu* train = menuBar()->addMenu(tr("&Train"));
  QAction* demo = train->addAction(tr("Train on the &Demo"), this,
                                   [this] { guardSlot("Train on the Demo", [this] { trainDemo(); }); });
  demo->setObjectName(QStringLiteral("trainDemoAction"));
  demo->setToolTip(
      tr("Train the built-in tiny ViT on the demo scenes in a new run folder; the views follow its weights"));
  train->addAction(trainingDock_->toggleViewAction());
  QAction* xray = train->addAction(tr("&X-ray the Next Step"), this, [this] { guardSlot("X-ray", [this] { showXRay(); }); });
  xray->setObjectName(QStringLiteral("xrayAction"));
  xray->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_X));
  xray->setToolTip(tr("Show what the loss sees in the step about to run: crops, RoI grids, references, matrices"));

  QMenu* evaluate = menuBar()->addMenu(tr("&Evaluate"));
  QAction* quality = evaluate->addAction(tr("Segmentation &Quality…"), this, [this] {
    guardSlot("Segmentation Quality", [this] { showSegmentationQuality(); });
  });
  quality->setObjectName(QStringLiteral("segmentationQualityAction"));
  quality->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  quality->setToolTip(
      tr("Score the current model on a labelled dataset: overlays, per-image and per-class IoU, "
         "the confusion matrix"));
  evaluate->addAction(qualityDock_->toggleViewAction());

  QMenu* view = menuBar()->addMenu(tr("&View"));
  QAction* grid = view->addAction(tr("Patch &Grid"));
  grid->setCheckable(true);
  grid->setChecked(controls_->gridVisible());
  grid->setShortcut(QKeySequence(Qt::Key_G));
  connect(grid, &QAction::toggled, controls_, &SimilarityControls::setGridVisible);
  connect(controls_, &SimilarityControls::gridVisibleChanged, grid, &QAction::setChecked);
  view->addSeparator();
  for (QDockWidget* dock : findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly))
    view->addAction(dock->toggleViewAction());

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About NeCo Studio"), this, [this] {
    const BuildInfo b = buildInfo();
    const ModelDescription& m = model_;
    QMessageBox::about(this, tr("About NeCo Studio"),
                       tr("<b>NeCo Studio %1</b><br>LibTorch %2, %3 threads<br>CUDA: %4<br>"
                          "Model: %5 (%6 parameters, weights %7)")
                           .arg(QString::fromStdString(b.version), QString::fromStdString(b.torchVersion))
                           .arg(b.intraOpThreads)
                           .arg(b.cudaAvailable ? tr("available") : QString::fromStdString(b.cudaReason))
                           .arg(QString::fromStdString(m.name))
                           .arg(m.parameterCount)
                           .arg(QString::fromStdString(m.weights)));
  });
}

void MainWindow::openImage(const QString& path) {
  spdlog::info("opening {}", path.toStdString());
  latestRequest_ = service_->requestFile(path, controls_->inputSize());
  openingPath_ = path;
  extracting_ = true;
  updateStatus();
}

void MainWindow::openDemo(const QString& demoRoot) {
  demoRoot_ = demoRoot;
  demo_->start(demoRoot);
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

void MainWindow::onModelChanged(std::shared_ptr<const FeatureExtractor> model) {
  service_->setExtractor(model);
  quality_->setModel(model, checkpoints_->name());  // evaluated on demand, never per training step
  model_ = model->describe();
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
  canvas_->setSelectedPatch(patch);
  updateHeatmap();
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
  canvas_->setImage(image);
  permutation_->setSource(nullptr, std::nullopt);
  setWindowTitle(tr("NeCo Studio — %1").arg(QFileInfo(path).fileName()));
  updateStatus();
}

void MainWindow::onFeaturesReady(quint64 id, const FeaturesPtr& features, double milliseconds) {
  if (id != latestRequest_) return;
  features_ = features;
  extractMs_ = milliseconds;
  extracting_ = false;
  canvas_->setGrid(features->gridW, features->gridH);
  if (query_ && (query_->x() >= features->gridW || query_->y() >= features->gridH)) {
    query_.reset();
    canvas_->setSelectedPatch(std::nullopt);
  }
  updateHeatmap();
  updateStatus();
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

void MainWindow::updateHeatmap() {
  permutation_->setSource(features_, query_);  // re-sorts only when features or query changed
  similarity_.clear();
  if (!features_ || !query_) {
    canvas_->clearOverlay();
    return;
  }
  try {
    similarity_ = cosineSimilarityMap(*features_, query_->y() * features_->gridW + query_->x());
  } catch (const std::exception& e) {
    canvas_->clearOverlay();
    return showError(tr("Similarity"), QString::fromStdString(e.what()));
  }
  QImage overlay(features_->gridW, features_->gridH, QImage::Format_RGB888);
  for (int y = 0; y < features_->gridH; ++y) {
    uchar* line = overlay.scanLine(y);
    for (int x = 0; x < features_->gridW; ++x) {
      const PaletteColor c = colormap_.map(similarity_[static_cast<std::size_t>(y * features_->gridW + x)], -1.f, 1.f);
      line[3 * x] = c.r;
      line[3 * x + 1] = c.g;
      line[3 * x + 2] = c.b;
    }
  }
  canvas_->setOverlay(overlay);
  updateStatus();
  Q_EMIT heatmapUpdated();
}

void MainWindow::updateStatus() {
  QStringList parts{tr("model: %1").arg(checkpoints_->name())};
  if (checkpoints_->busy()) parts << tr("loading checkpoint…");
  if (!image_.empty()) parts << tr("%1 × %2 px").arg(image_.width).arg(image_.height);
  if (extracting_) parts << tr("extracting features…");
  if (features_) parts << tr("grid %1 × %2, %3 ms").arg(features_->gridW).arg(features_->gridH).arg(extractMs_, 0, 'f', 0);
  if (query_ && !similarity_.empty()) {
    const auto [lo, hi] = std::minmax_element(similarity_.begin(), similarity_.end());
    parts << tr("query (%1, %2): similarity %3 … %4").arg(query_->x()).arg(query_->y()).arg(*lo, 0, 'f', 2).arg(*hi, 0, 'f', 2);
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
  // A checkpoint file or Hugging Face folder loads a model; an image or a dataset folder opens an image.
  QString checkpoint, image;
  for (const QUrl& url : event->mimeData()->urls()) {
    if (!url.isLocalFile()) continue;
    const QFileInfo info(url.toLocalFile());
    if (CheckpointActions::isCheckpoint(info)) {
      if (checkpoint.isEmpty()) checkpoint = info.filePath();
    } else if (image.isEmpty()) {
      image = imageToOpen(info);
    }
  }
  if (checkpoint.isEmpty() && image.isEmpty())
    return showError(tr("Drop"), tr("Nothing to open: drop an image, a folder of images, a checkpoint "
                                    "(.pth .pt .ckpt .bin .safetensors) or a Hugging Face model folder."));
  event->acceptProposedAction();
  if (!checkpoint.isEmpty()) openCheckpoint(checkpoint);
  if (!image.isEmpty()) openImage(image);
}

}  // namespace neco::ui

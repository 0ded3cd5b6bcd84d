// The window's feature views: the Feature maps dock (PCA-RGB / k-means), the Near / far strip and
// the dataset's patch bank behind it. They follow the current image, features and query.
#include "neco/ui/MainWindow.h"

#include "CheckpointActions.h"
#include "ScrollingDock.h"
#include "SlotGuard.h"
#include "neco/ui/CompareView.h"
#include "neco/ui/CrossImageView.h"
#include "neco/ui/EmbeddingCloudView.h"
#include "neco/ui/DatasetBrowser.h"
#include "neco/ui/FeatureMapView.h"
#include "neco/ui/NearFarStrip.h"
#include "neco/ui/PatchBankBuilder.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationSurfaceView.h"
#include "neco/ui/PermutationView.h"
#include "neco/ui/SimilarityControls.h"

#include <QCheckBox>
#include <QDockWidget>
#include <QVBoxLayout>
#include <QFileInfo>
#include <QLabel>
#include <QTimer>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

namespace neco::ui {
void MainWindow::buildFeatureDocks() {
  featureMaps_ = new FeatureMapView(this);
  featureMapsDock_ = new QDockWidget(tr("Feature maps"), this);
  featureMapsDock_->setObjectName(QStringLiteral("featureMapsDock"));
  featureMapsDock_->setWidget(scrolling(featureMaps_));
  addDockWidget(Qt::LeftDockWidgetArea, featureMapsDock_);
  tabifyDockWidget(permutationDock_, featureMapsDock_);
  permutationDock_->raise();

  nearFar_ = new NearFarStrip(this);
  nearFarDock_ = new QDockWidget(tr("Near / far"), this);
  nearFarDock_->setObjectName(QStringLiteral("nearFarDock"));
  nearFarDock_->setWidget(scrolling(nearFar_));
  addDockWidget(Qt::BottomDockWidgetArea, nearFarDock_);
  tabifyDockWidget(logDock_, nearFarDock_);

  // Cross-image maps: the next images of the Dataset list, with a mutual-nearest-neighbour toggle.
  crossImage_ = new CrossImageView(this);
  auto* crossPanel = new QWidget(this);
  auto* crossLayout = new QVBoxLayout(crossPanel);
  auto* mutual = new QCheckBox(tr("Mutual nearest neighbours only"), crossPanel);
  mutual->setObjectName(QStringLiteral("mutualOnlyCheckBox"));
  mutual->setToolTip(tr("Mark a best match only when the query patch is also its nearest patch in this image"));
  auto* note = new QLabel(tr("The query in the next %1 images of the Dataset list").arg(CrossImageView::kMaxTargets), crossPanel);
  crossLayout->addWidget(mutual);
  crossLayout->addWidget(note);
  crossLayout->addWidget(crossImage_, 1);
  crossImageDock_ = new QDockWidget(tr("Cross-image"), this);
  crossImageDock_->setObjectName(QStringLiteral("crossImageDock"));
  crossImageDock_->setWidget(scrolling(crossPanel));
  addDockWidget(Qt::BottomDockWidgetArea, crossImageDock_);
  tabifyDockWidget(logDock_, crossImageDock_);
  crossImage_->setModel(service_->extractor(), controls_->inputSize());
  crossImage_->setColormap(controls_->colormap());
  crossImage_->setOverlayOpacity(controls_->opacity());
  connect(mutual, &QCheckBox::toggled, crossImage_, &CrossImageView::setMutualOnly);
  connect(controls_, &SimilarityControls::colormapChanged, crossImage_, &CrossImageView::setColormap);
  connect(controls_, &SimilarityControls::opacityChanged, crossImage_, &CrossImageView::setOverlayOpacity);
  connect(controls_, &SimilarityControls::inputSizeChanged, this, [this](int side) {
    dropPatchBank();  // its grids are of the old size: a jump would pin a patch of another grid
    if (crossImageShown()) crossImage_->setModel(service_->extractor(), side);
  });
  connect(crossImageDock_, &QDockWidget::visibilityChanged, this, [this](bool visible) {
    if (!visible) return;
    QTimer::singleShot(0, this, [this] {  // once the tab switch made it visible
      guardSlot("cross-image", [this] {
        crossImage_->setModel(service_->extractor(), controls_->inputSize());  // no-op when unchanged
        updateCrossImageTargets();
        updateNearFar();
      });
    });
  });
  connect(crossImage_, &CrossImageView::targetActivated, this, [this](const QString& path, QPoint patch) {
    guardSlot("cross-image jump", [&] { jumpTo(path, patch); });
  });

  // Before / after: the query under several models (filmstrip, wipe, linked cursors).
  compare_ = new CompareView(this);
  compareDock_ = new QDockWidget(tr("Before / after"), this);
  compareDock_->setObjectName(QStringLiteral("compareDock"));
  compareDock_->setWidget(scrolling(compare_));
  addDockWidget(Qt::BottomDockWidgetArea, compareDock_);
  tabifyDockWidget(logDock_, compareDock_);
  compare_->setColormap(controls_->colormap());
  compare_->setLayer(controls_->layer());
  connect(controls_, &SimilarityControls::colormapChanged, compare_, &CompareView::setColormap);
  connect(controls_, &SimilarityControls::layerChanged, compare_, &CompareView::setLayer);
  connect(compare_, &CompareView::addCurrentRequested, this,
          [this] { guardSlot("compare: add model", [this] { compareWithCurrentModel(); }); });
  connect(compare_, &CompareView::modelsChanged, this, [this] { guardSlot("compare", [this] { updateCompare(); }); });
  connect(compare_, &CompareView::positionClicked, this, [this](QPointF at) {
    if (!features_) return;  // the tile's grid may differ from the view's (another patch size)
    selectPatch(*patchUnder(at, features_->gridW, features_->gridH));
  });
  connect(canvas_, &PatchCanvas::patchHovered, compare_, [this](QPoint p) {  // linked cursors
    const int columns = canvas_->gridColumns(), rows = canvas_->gridRows();
    compare_->setCursorPosition(p.x() >= 0 && columns > 0 && rows > 0
                                    ? std::optional<QPointF>(patchCentre(p, columns, rows))
                                    : std::nullopt);
  });
  connect(compareDock_, &QDockWidget::visibilityChanged, this, [this](bool visible) {
    if (visible) QTimer::singleShot(0, this, [this] { guardSlot("compare", [this] { updateCompare(); }); });
  });

  // The VTK 3-D views are made when their dock is first shown. NOTE: an OpenGL widget anywhere in a
  // window makes Qt composite every frame of the whole window through OpenGL, which under software
  // rendering (Xvfb, VMs, remote desktops) costs more than the paint itself: a studio whose 3-D docks
  // were never opened keeps the plain raster flush.
  // Embedding 3-D: the patches as a point cloud (VTK), picking both ways.
  embeddingDock_ = new QDockWidget(tr("Embedding 3-D"), this);
  embeddingDock_->setObjectName(QStringLiteral("embeddingDock"));
  embeddingDock_->setWidget(new QWidget(embeddingDock_));  // until first shown
  addDockWidget(Qt::BottomDockWidgetArea, embeddingDock_);
  tabifyDockWidget(logDock_, embeddingDock_);
  connect(embeddingDock_, &QDockWidget::visibilityChanged, this, [this](bool visible) {
    if (!visible) return;
    guardSlot("embedding", [this] { createEmbeddingView(); });
    QTimer::singleShot(0, this, [this] { guardSlot("embedding", [this] { updateEmbedding(); }); });
  });

  // Permutation 3-D: the matrices of the Permutation dock as surfaces, following each re-sort.
  surfaceDock_ = new QDockWidget(tr("Permutation 3-D"), this);
  surfaceDock_->setObjectName(QStringLiteral("permutationSurfaceDock"));
  surfaceDock_->setWidget(new QWidget(surfaceDock_));  // until first shown
  addDockWidget(Qt::BottomDockWidgetArea, surfaceDock_);
  tabifyDockWidget(logDock_, surfaceDock_);
  auto followSort = [this] {
    if (surface_ && surfaceDock_->isVisible())
      guardSlot("permutation surface", [this] { surface_->setRows(permutation_->studentRow(), permutation_->teacherRow()); });
  };
  connect(permutation_, &PermutationView::sorted, this, followSort);
  connect(surfaceDock_, &QDockWidget::visibilityChanged, this, [this, followSort](bool visible) {
    if (!visible) return;
    guardSlot("permutation surface", [this] { createPermutationSurface(); });
    QTimer::singleShot(0, this, followSort);
  });

  bankBuilder_ = new PatchBankBuilder(this);
  connect(nearFar_, &NearFarStrip::patchActivated, this, [this](const QString& path, QPoint patch) {
    guardSlot("near/far jump", [&] { jumpTo(path, patch); });
  });
  connect(bankBuilder_, &PatchBankBuilder::progress, this, [this](int done, int total) {
    status_->setText(tr("patch bank: %1 / %2 images").arg(done).arg(total));
  });
  connect(bankBuilder_, &PatchBankBuilder::imageSkipped, this, [](const QString& path, const QString& reason) {
    spdlog::warn("patch bank: skipped {}: {}", path.toStdString(), reason.toStdString());
  });
  connect(bankBuilder_, &PatchBankBuilder::finished, this, [this](const PatchBankPtr& bank, const QStringList& paths) {
    guardSlot("patch bank ready", [&] {
      spdlog::info("patch bank: {} images, {} patches", paths.size(), bank ? bank->rowCount() : 0);
      nearFar_->setBank(bank);
      hasBank_ = bank != nullptr;
      nearFar_->setScope(NearFarScope::Bank);
      updateStatus();
    });
  });
  connect(bankBuilder_, &PatchBankBuilder::failed, this,
          [this](const QString& message) { showError(tr("Patch bank"), message); });
}

void MainWindow::showNearFar() { showBottomDock("nearFarDock"); }

namespace {

// Puts `view` into `dock` and deletes the empty widget the dock held until then.
void replaceEmptyDockWidget(QDockWidget* dock, QWidget* view) {
  std::unique_ptr<QWidget> empty(dock->widget());
  dock->setWidget(view);
}

}  // namespace

void MainWindow::createEmbeddingView() {
  if (embedding_) return;
  embedding_ = new EmbeddingCloudView(embeddingDock_);
  embedding_->setColormap(controls_->colormap());
  connect(controls_, &SimilarityControls::colormapChanged, embedding_, &EmbeddingCloudView::setColormap);
  connect(embedding_, &EmbeddingCloudView::patchPicked, this, &MainWindow::selectPatch);
  replaceEmptyDockWidget(embeddingDock_, embedding_);  // not scrolled: the GL view takes what the dock has
}

void MainWindow::createPermutationSurface() {
  if (surface_) return;
  surface_ = new PermutationSurfaceView(surfaceDock_);
  surface_->setColormap(controls_->colormap());
  connect(controls_, &SimilarityControls::colormapChanged, surface_, &PermutationSurfaceView::setColormap);
  replaceEmptyDockWidget(surfaceDock_, surface_);
}

void MainWindow::updateEmbedding() {
  if (!embedding_ || !embeddingDock_->isVisible()) return;  // the PCA and the GL scene only while on screen
  if (embeddedFeatures_ != features_) {
    embeddedFeatures_ = features_;
    embedding_->setFeatures(features_);
  }
  embedding_->setSimilarity(similarity_);
  embedding_->setSelectedPatch(query_);
}

void MainWindow::compareWithCurrentModel() { compare_->addModel(checkpoints_->name(), baseModel_); }

void MainWindow::updateCompare() {
  compare_->setQuery(query_ && features_ ? std::optional<QPointF>(patchCentre(*query_, features_->gridW, features_->gridH))
                                        : std::nullopt);
  // Extracting under every model is the costly part: only while the dock is on screen.
  if (!compareDock_->isVisible() || compare_->modelCount() == 0 || image_.empty() || !features_) return;
  const QString key = path_ + QLatin1Char('@') + QString::number(controls_->inputSize());
  if (key == compareImageKey_) return;
  compareImageKey_ = key;
  compare_->setImage(canvas_->image(), image_, controls_->inputSize(), path_);
}

void MainWindow::showBottomDock(const char* objectName) {
  auto* dock = findChild<QDockWidget*>(QLatin1String(objectName), Qt::FindDirectChildrenOnly);
  if (!dock) return;
  dock->show();
  dock->raise();
  QTimer::singleShot(0, this, [this, dock] {  // once the tab switch is laid out (see showXRay)
    if (!dock->isFloating() && !networkDock_->isFloating() && networkDock_->isVisible() && dock->width() < width() / 2)
      resizeDocks({dock, networkDock_}, {width() * 3 / 5, width() * 2 / 5}, Qt::Horizontal);
  });
}

void MainWindow::buildPatchBank() {
  const QStringList images = browser_->images();
  if (images.isEmpty())
    return showError(tr("Patch bank"), tr("No images listed: open a folder or the demo dataset first."));
  spdlog::info("patch bank: extracting {} images at {} px with {}", images.size(), controls_->inputSize(),
               checkpoints_->name().toStdString());
  bankBuilder_->build(images, controls_->inputSize(), service_->extractor());
  showNearFar();
}

void MainWindow::dropPatchBank() {
  if (!bankBuilder_->running() && !hasBank_) return;
  bankBuilder_->cancel();
  nearFar_->setBank(nullptr);
  hasBank_ = false;
  spdlog::info("patch bank dropped: the model changed (Image ▸ Build Patch Bank builds it again)");
}

void MainWindow::updateNearFar() {
  if (!features_ || !query_) {
    crossImage_->setQuery(nullptr, {});
    return nearFar_->clearQuery();
  }
  nearFar_->setQuery(features_, canvas_->image(), path_, *query_);
  crossImage_->setQuery(features_, *query_);
}

bool MainWindow::crossImageShown() const {
  return crossImageDock_->isVisible() && !crossImageDock_->visibleRegion().isEmpty();
}

void MainWindow::updateCrossImageTargets() {
  // Only while the dock is on screen: each target costs a feature extraction.
  if (!crossImageShown()) return;
  // the images after the current one in the Dataset list, wrapping around
  const QStringList images = browser_->images();
  const int current = browser_->currentIndex();
  QStringList targets;
  for (int i = 1; i < images.size() && targets.size() < CrossImageView::kMaxTargets; ++i)
    targets << images[(std::max(current, 0) + i) % images.size()];
  crossImage_->setTargets(targets);
}

void MainWindow::jumpTo(const QString& path, QPoint patch) {
  if (QFileInfo(path) == QFileInfo(path_) && features_) return selectPatch(patch);
  pendingJump_ = {path, patch};  // selected when this image's features arrive
  openImage(path);
}

}  // namespace neco::ui

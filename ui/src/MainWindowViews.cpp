// The window's feature views: the Feature maps dock (PCA-RGB / k-means), the Near / far strip and
// the dataset's patch bank behind it. They follow the current image, features and query.
#include "neco/ui/MainWindow.h"

#include "CheckpointActions.h"
#include "ScrollingDock.h"
#include "SlotGuard.h"
#include "neco/ui/DatasetBrowser.h"
#include "neco/ui/FeatureMapView.h"
#include "neco/ui/NearFarStrip.h"
#include "neco/ui/PatchBankBuilder.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/SimilarityControls.h"

#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QTimer>

#include <spdlog/spdlog.h>

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

void MainWindow::showNearFar() {
  nearFarDock_->show();
  nearFarDock_->raise();
  QTimer::singleShot(0, this, [this] {  // once the tab switch is laid out (see showXRay)
    if (!nearFarDock_->isFloating() && !networkDock_->isFloating() && networkDock_->isVisible() &&
        nearFarDock_->width() < width() / 2)
      resizeDocks({nearFarDock_, networkDock_}, {width() * 3 / 5, width() * 2 / 5}, Qt::Horizontal);
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
  if (!features_ || !query_) return nearFar_->clearQuery();
  nearFar_->setQuery(features_, canvas_->image(), path_, *query_);
}

void MainWindow::jumpTo(const QString& path, QPoint patch) {
  if (QFileInfo(path) == QFileInfo(path_) && features_) return selectPatch(patch);
  pendingJump_ = {path, patch};  // selected when this image's features arrive
  openImage(path);
}

}  // namespace neco::ui

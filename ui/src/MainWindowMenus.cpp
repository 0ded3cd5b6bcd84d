// The studio's menus and keyboard shortcuts (the `?` sheet lists them from here).
#include "neco/ui/MainWindow.h"

#include "CheckpointActions.h"
#include "SlotGuard.h"
#include "neco/core/BuildInfo.h"
#include "neco/ui/DatasetBrowser.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/RecentFiles.h"
#include "neco/ui/ShortcutSheet.h"
#include "neco/ui/SimilarityControls.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>

namespace neco::ui {

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open Image…"), QKeySequence::Open, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open image"), QFileInfo(path_).absolutePath(),
                                                      tr("Images (*.jpg *.jpeg *.png);;All files (*)"));
    if (!path.isEmpty()) openImage(path);
  });
  QAction* folder = file->addAction(tr("Open &Folder…"), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a folder of images or a dataset"),
                                                          QFileInfo(path_).absolutePath());
    if (!dir.isEmpty()) openFolder(dir);
  });
  folder->setObjectName(QStringLiteral("openFolderAction"));
  folder->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));  // D for dataset (Ctrl+Shift+O: checkpoints)
  folder->setToolTip(tr("List every image of a folder (dataset layouts included) in the Dataset browser"));
  file->addMenu(recentDatasets_->menu());
  file->addAction(tr("Open &Demo Dataset"), this, [this] { openDemo(demoRoot_); });
  file->addSeparator();
  addViewFileActions(file);
  addRecordActions(file);
  file->addSeparator();
  checkpoints_->addTo(file);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);

  QMenu* image = menuBar()->addMenu(tr("&Image"));
  QAction* next = image->addAction(tr("&Next Image"), this, [this] { guardSlot("next image", [this] { nextImage(); }); });
  next->setObjectName(QStringLiteral("nextImageAction"));
  next->setShortcuts({QKeySequence(Qt::Key_Right), QKeySequence(Qt::Key_F)});
  QAction* previous =
      image->addAction(tr("&Previous Image"), this, [this] { guardSlot("previous image", [this] { previousImage(); }); });
  previous->setObjectName(QStringLiteral("previousImageAction"));
  previous->setShortcuts({QKeySequence(Qt::Key_Left), QKeySequence(Qt::Key_D)});
  image->addSeparator();
  QAction* bank = image->addAction(tr("Build Patch &Bank"), this,
                                   [this] { guardSlot("patch bank", [this] { buildPatchBank(); }); });
  bank->setObjectName(QStringLiteral("buildPatchBankAction"));
  bank->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
  bank->setToolTip(tr("Extract every listed image with the current model, so the Near / far strip can rank "
                      "patches across the whole dataset"));
  image->addSeparator();
  image->addAction(browserDock_->toggleViewAction());

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
  QAction* hover = view->addAction(tr("&Hover Preview"));
  hover->setObjectName(QStringLiteral("hoverPreviewAction"));
  hover->setCheckable(true);
  hover->setChecked(hoverPreview_);
  hover->setShortcut(QKeySequence(Qt::Key_H));
  hover->setToolTip(tr("Preview the heatmap of the patch under the cursor; click pins it"));
  connect(hover, &QAction::toggled, this, &MainWindow::setHoverPreview);
  view->addSeparator();
  QAction* zoomIn = view->addAction(tr("Zoom &In"), this, [this] { canvas_->zoomBy(PatchCanvas::kWheelStep * PatchCanvas::kWheelStep); });
  zoomIn->setObjectName(QStringLiteral("zoomInAction"));
  zoomIn->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Equal), QKeySequence::ZoomIn});
  QAction* zoomOut = view->addAction(tr("Zoom &Out"), this, [this] { canvas_->zoomBy(1.0 / (PatchCanvas::kWheelStep * PatchCanvas::kWheelStep)); });
  zoomOut->setObjectName(QStringLiteral("zoomOutAction"));
  zoomOut->setShortcuts(QKeySequence::ZoomOut);
  QAction* fit = view->addAction(tr("&Fit Image"), this, [this] { canvas_->resetZoom(); });
  fit->setObjectName(QStringLiteral("fitImageAction"));
  fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  view->addSeparator();
  for (QDockWidget* dock : findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly))
    view->addAction(dock->toggleViewAction());

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* keys = help->addAction(tr("&Keyboard Shortcuts"), this, [this] { toggleShortcutSheet(); });
  keys->setObjectName(QStringLiteral("shortcutSheetAction"));
  keys->setShortcuts({QKeySequence(Qt::Key_Question), QKeySequence(Qt::Key_F1)});
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

void MainWindow::toggleShortcutSheet() {
  if (!shortcuts_->isVisible()) {
    // Read from the menus each time: a shortcut added or changed later is listed as it is.
    QList<ShortcutSheet::Entry> entries;
    for (QAction* menu : menuBar()->actions()) {
      if (!menu->menu()) continue;
      QList<QAction*> actions;
      for (QAction* action : menu->menu()->actions()) {
        if (action->menu()) actions += action->menu()->actions();
        else actions << action;
      }
      entries += ShortcutSheet::entriesFor(menu->text().remove(QLatin1Char('&')), actions);
    }
    const QString mouse = tr("Mouse");
    entries.push_back({mouse, tr("Click"), tr("Pin the query patch: heatmap, orderings, permutation")});
    entries.push_back({mouse, tr("Shift+Click"), tr("Add (or remove) a further query patch")});
    entries.push_back({mouse, tr("Hover"), tr("Read the similarity under the cursor (H: preview its heatmap)")});
    entries.push_back({mouse, tr("Wheel"), tr("Zoom about the cursor; pixel-exact patches up close")});
    entries.push_back({mouse, tr("Drag"), tr("Pan the zoomed image")});
    entries.push_back({mouse, tr("Double-click"), tr("Fit the whole image")});
    entries.push_back({mouse, tr("Drop"), tr("Open an image, a folder or a checkpoint")});
    entries.push_back({mouse, tr("Click a thumbnail"), tr("Open that image (Dataset browser)")});
    shortcuts_->setEntries(std::move(entries));
  }
  shortcuts_->toggle();
}

}  // namespace neco::ui

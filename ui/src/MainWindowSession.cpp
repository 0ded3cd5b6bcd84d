// Session state in the application's QSettings: the window layout and view settings persist
// between runs, and a snapshot of what is open (dataset, image, query patches, checkpoint) is
// autosaved a moment after every change, so a studio that crashed can reopen where it was. A clean
// close marks the snapshot as closed; only a snapshot left open counts as a crash.
#include "neco/ui/MainWindow.h"

#include "CheckpointActions.h"
#include "neco/ui/DatasetBrowser.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/SimilarityControls.h"

#include <QFileInfo>
#include <QSettings>
#include <QTimer>

#include <spdlog/spdlog.h>

namespace neco::ui {
namespace {

// A moment after the last change, so a burst of clicks writes the settings once.
constexpr int kAutosaveDelayMs = 1500;
constexpr int kLayoutVersion = 2;  // bump when docks are added or renamed: an old layout is then ignored
const QString kOpen = QStringLiteral("session/open");  // true from the first autosave until a clean close
// Set while a crashed session is being restored, cleared by the first autosave after it: still set
// at the next start means the restore itself crashed, and it is not tried again.
const QString kRestoring = QStringLiteral("session/restoring");

QVariantList pointsToVariant(const QList<QPoint>& points) {
  QVariantList list;
  for (QPoint p : points) list << p;
  return list;
}

}  // namespace

void MainWindow::setSessionPersistence(bool on) { persistSession_ = on; }

void MainWindow::scheduleAutosave() {
  if (!persistSession_) return;
  if (!autosave_) {
    autosave_ = new QTimer(this);
    autosave_->setSingleShot(true);
    autosave_->setInterval(kAutosaveDelayMs);
    connect(autosave_, &QTimer::timeout, this, [this] { saveSession(); });
  }
  autosave_->start();
}

void MainWindow::saveSession() const {
  QSettings s;
  s.setValue(QStringLiteral("window/geometry"), saveGeometry());
  s.setValue(QStringLiteral("window/state"), saveState(kLayoutVersion));
  s.setValue(QStringLiteral("view/colormap"), QString::fromStdString(colormapName(controls_->colormap())));
  s.setValue(QStringLiteral("view/opacity"), controls_->opacity());
  s.setValue(QStringLiteral("view/grid"), controls_->gridVisible());
  s.setValue(QStringLiteral("view/inputSize"), controls_->inputSize());
  s.setValue(QStringLiteral("view/layer"), controls_->layer());
  s.setValue(QStringLiteral("view/hoverPreview"), hoverPreview_);
  s.setValue(QStringLiteral("session/folder"), browser_->folder());
  s.setValue(QStringLiteral("session/demo"), browser_->folder().isEmpty() && browser_->count() > 0);
  s.setValue(QStringLiteral("session/image"), path_);
  s.setValue(QStringLiteral("session/query"), query_ ? QVariant(*query_) : QVariant());
  s.setValue(QStringLiteral("session/extraQueries"), pointsToVariant(extraQueries_));
  s.setValue(QStringLiteral("session/checkpoint"), checkpoints_->activeIsTraining() ? QString() : checkpoints_->activePath());
  s.setValue(kOpen, !closedCleanly_);
  s.setValue(kRestoring, false);  // a restore that got this far did not crash the studio
  s.sync();
}

bool MainWindow::restoreLayout() {
  QSettings s;
  const QByteArray geometry = s.value(QStringLiteral("window/geometry")).toByteArray();
  const QByteArray state = s.value(QStringLiteral("window/state")).toByteArray();
  bool restored = !geometry.isEmpty() && restoreGeometry(geometry);
  restored = (!state.isEmpty() && restoreState(state, kLayoutVersion)) || restored;
  if (restored) docksSized_ = true;  // the user's own proportions, not the first-show defaults
  return restored;
}

void MainWindow::restoreViewSettings() {
  QSettings s;
  if (s.contains(QStringLiteral("view/colormap"))) {
    try {
      controls_->setColormap(parseColormap(s.value(QStringLiteral("view/colormap")).toString().toStdString()));
    } catch (const std::exception& e) {
      spdlog::warn("settings: {}", e.what());  // an edited or older settings file: keep the default
    }
  }
  if (s.contains(QStringLiteral("view/opacity"))) controls_->setOpacity(s.value(QStringLiteral("view/opacity")).toDouble());
  if (s.contains(QStringLiteral("view/grid"))) controls_->setGridVisible(s.value(QStringLiteral("view/grid")).toBool());
  const int side = s.value(QStringLiteral("view/inputSize")).toInt();
  if (side >= 14 && side <= 2048) controls_->setInputSize(side);
  controls_->setLayer(s.value(QStringLiteral("view/layer"), 0).toInt());  // ignored if the model lacks it
  setHoverPreview(s.value(QStringLiteral("view/hoverPreview"), false).toBool());
}

bool MainWindow::previousSessionCrashed() {
  QSettings s;
  if (s.value(kRestoring, false).toBool()) {
    spdlog::warn("session: restoring the last session did not finish last time; starting fresh instead");
    s.setValue(kRestoring, false);
    s.setValue(kOpen, false);
    return false;
  }
  return s.value(kOpen, false).toBool() && !s.value(QStringLiteral("session/image")).toString().isEmpty();
}

bool MainWindow::restoreSession() {
  QSettings s;
  const QString image = s.value(QStringLiteral("session/image")).toString();
  if (image.isEmpty()) return false;
  if (!QFileInfo::exists(image)) {
    spdlog::warn("session: {} no longer exists; not restored", image.toStdString());
    return false;
  }
  const QString folder = s.value(QStringLiteral("session/folder")).toString();
  if (s.value(QStringLiteral("session/demo")).toBool()) browser_->setImages(DatasetBrowser::imagesIn(QFileInfo(image).absolutePath()), tr("Demo scenes"));
  else if (!folder.isEmpty() && QFileInfo(folder).isDir()) browser_->setFolder(folder);
  const QString checkpoint = s.value(QStringLiteral("session/checkpoint")).toString();
  if (!checkpoint.isEmpty()) openCheckpoint(checkpoint);
  const QVariant query = s.value(QStringLiteral("session/query"));
  if (query.isValid() && !query.isNull()) {
    pendingJump_ = {image, query.toPoint()};
    restoreExtras_.clear();
    for (const QVariant& p : s.value(QStringLiteral("session/extraQueries")).toList()) restoreExtras_ << p.toPoint();
  }
  spdlog::info("session: restoring {}{}", image.toStdString(), checkpoint.isEmpty() ? "" : " on " + checkpoint.toStdString());
  s.setValue(kRestoring, true);  // NOTE: before anything is opened: if this content crashes us, never again
  s.setValue(kOpen, false);
  s.sync();
  openImage(image);
  return true;
}

void MainWindow::markClosedCleanly() {
  if (!persistSession_) return;
  closedCleanly_ = true;
  if (autosave_) autosave_->stop();
  saveSession();
}

}  // namespace neco::ui

// Video recording (issue 7): File ▸ Record ▸ Steepness Sweep… films the permutation view while the
// student steepness sweeps; Record Views films the canvas and the permutation matrices each time
// they are shown anew, so a run of live training steps becomes a video of the representation
// changing. Frames are written by VideoRecorder (OpenCV VideoWriter).
//
// Decisions:
//   - Sweep frames are taken one per event-loop turn (a zero-interval timer), not in a loop, so the
//     studio keeps painting and answering while a long sweep records.
//   - A views frame is taken when the followers (permutation view, near/far) have caught up with
//     the heatmap, so canvas and matrices in one frame always belong to the same query and model.
//   - The target is never the open image or checkpoint; the dialog asks before an existing file is
//     replaced, and it is replaced only when the new video is complete.
#include "neco/ui/MainWindow.h"

#include "CheckpointActions.h"
#include "SlotGuard.h"
#include "VideoRecorder.h"
#include "neco/core/Error.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationView.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSettings>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTimer>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace neco::ui {

namespace {

constexpr int kCaptionHeight = 28;
constexpr int kMaxSweepFrames = 2000;
const QSize kMinFrame(320, 240);

QString defaultVideoFolder() {
  QString folder = QSettings().value(QStringLiteral("export/folder")).toString();
  if (folder.isEmpty() || !QFileInfo(folder).isDir()) folder = QStandardPaths::writableLocation(QStandardPaths::MoviesLocation);
  if (folder.isEmpty() || !QFileInfo(folder).isDir()) folder = QDir::homePath();
  return folder;
}

}  // namespace

bool MainWindow::isRecording() const noexcept { return recorder_ != nullptr; }

std::unique_ptr<VideoRecorder> MainWindow::openRecorder(const QString& path, QSize frameSize, double fps) {
  if (recorder_) throw InvalidArgumentError("a recording is already running: stop it first (File ▸ Record)");
  // NOTE: never over the user's own data: the open image, the checkpoint.
  const QString canonical = QFileInfo(path).canonicalFilePath();
  if (!canonical.isEmpty() && (canonical == QFileInfo(path_).canonicalFilePath() ||
                               canonical == QFileInfo(checkpoints_->activePath()).canonicalFilePath())) {
    throw InvalidArgumentError(
        QStringLiteral("%1 is the open image or checkpoint: choose another name").arg(path).toStdString());
  }
  auto recorder = std::make_unique<VideoRecorder>(path, frameSize.expandedTo(kMinFrame), fps);
  QSettings().setValue(QStringLiteral("export/folder"), QFileInfo(path).absolutePath());
  return recorder;
}

void MainWindow::failRecording(const QString& path, const QString& message) {
  showError(tr("Recording"), message);
  Q_EMIT recordingFailed(path, message);
}

bool MainWindow::recordSteepnessSweep(const QString& path, double from, double to, int frames, double fps) {
  try {
    if (!query_ || !permutation_->studentRow())
      throw InvalidArgumentError("pin a patch first: the sweep films its permutation matrices");
    if (frames < 2 || frames > kMaxSweepFrames)
      throw InvalidArgumentError("a sweep has 2 to " + std::to_string(kMaxSweepFrames) + " frames");
    if (!(from >= 1.0 && from <= 1000.0 && to >= 1.0 && to <= 1000.0))
      throw InvalidArgumentError("the steepness runs from 1 to 1000");
    showBottomDock("permutationDock");
    recorder_ = openRecorder(path, permutation_->size(), fps);
  } catch (const std::exception& e) {
    failRecording(path, QString::fromStdString(e.what()));
    return false;
  }
  // Geometric steps: the matrices change evenly on the steepness's log-scale slider.
  sweep_.resize(static_cast<std::size_t>(frames));
  for (int i = 0; i < frames; ++i) sweep_[std::size_t(i)] = from * std::pow(to / from, double(i) / (frames - 1));
  sweepAt_ = 0;
  sweepRestore_ = permutation_->studentSteepness();
  spdlog::info("recording a steepness sweep {} .. {} in {} frames to {}", from, to, frames, path.toStdString());
  sweepTimer_->start();
  return true;
}

void MainWindow::recordSweepFrame() {
  if (!recorder_ || sweepAt_ >= sweep_.size()) return sweepTimer_->stop();
  permutation_->setStudentSteepness(sweep_[sweepAt_++]);  // re-sorts at once
  QImage frame = permutation_->grab().toImage();
  frame.setDevicePixelRatio(1.0);
  recorder_->addFrame(frame);
  if (sweepAt_ == sweep_.size()) stopRecording();
}

bool MainWindow::startRecording(const QString& path, double fps) {
  try {
    recorder_ = openRecorder(path, viewsFrame().size(), fps);
  } catch (const std::exception& e) {
    failRecording(path, QString::fromStdString(e.what()));
    return false;
  }
  recordingViews_ = true;
  if (recordViewsAction_) {
    const QSignalBlocker quiet(recordViewsAction_);
    recordViewsAction_->setChecked(true);
  }
  spdlog::info("recording the views to {}", path.toStdString());
  if (features_) recordViewsFrame();  // what is on screen now is the first frame
  return true;
}

QImage MainWindow::viewsFrame() const {
  // Device pixels, drawn one to one (on a HiDPI screen a grab carries its ratio and would be drawn
  // at its smaller logical size).
  QImage canvas = canvas_->grab().toImage();
  canvas.setDevicePixelRatio(1.0);
  const bool matrices = permutation_->isVisible() && permutation_->studentRow().has_value();
  QImage perm = matrices ? permutation_->grab().toImage() : QImage();
  perm.setDevicePixelRatio(1.0);
  const int height = std::max(canvas.height(), perm.height());
  QImage frame(canvas.width() + perm.width(), height + kCaptionHeight, QImage::Format_RGB888);
  frame.fill(QColor(24, 24, 24));
  QPainter p(&frame);
  p.drawImage(QPoint(0, (height - canvas.height()) / 2), canvas);
  if (!perm.isNull()) p.drawImage(QPoint(canvas.width(), (height - perm.height()) / 2), perm);
  QString caption = checkpoints_->summary().section(QLatin1Char('\n'), 0, 0);
  if (!path_.isEmpty()) caption += QStringLiteral("  ·  ") + QFileInfo(path_).fileName();
  if (model_.layer != model_.depth) caption += tr("  ·  block %1 of %2").arg(model_.layer).arg(model_.depth);
  if (query_) caption += tr("  ·  query (%1, %2)").arg(query_->x()).arg(query_->y());
  p.setPen(Qt::white);
  p.drawText(QRect(8, height, frame.width() - 16, kCaptionHeight), Qt::AlignVCenter | Qt::AlignLeft, caption);
  return frame;
}

void MainWindow::recordViewsFrame() {
  if (!recorder_ || !recordingViews_) return;
  recorder_->addFrame(viewsFrame());
}

void MainWindow::stopRecording() {
  if (!recorder_) return;
  sweepTimer_->stop();
  if (!sweep_.empty()) {
    sweep_.clear();
    permutation_->setStudentSteepness(sweepRestore_);
  }
  recordingViews_ = false;
  if (recordViewsAction_) {
    const QSignalBlocker quiet(recordViewsAction_);
    recordViewsAction_->setChecked(false);
  }
  const std::unique_ptr<VideoRecorder> recorder = std::move(recorder_);
  const QString path = recorder->path();
  try {
    recorder->finish();
  } catch (const std::exception& e) {
    return failRecording(path, QString::fromStdString(e.what()));
  }
  spdlog::info("recorded {} frames to {}", recorder->frameCount(), path.toStdString());
  Q_EMIT recordingFinished(path, recorder->frameCount());
}

void MainWindow::addRecordActions(QMenu* file) {
  sweepTimer_ = new QTimer(this);
  sweepTimer_->setInterval(0);
  connect(sweepTimer_, &QTimer::timeout, this, [this] {
    guardSlot("record steepness sweep", [this] {
      try {
        recordSweepFrame();
      } catch (const std::exception& e) {
        const QString path = recorder_ ? recorder_->path() : QString();
        sweepTimer_->stop();
        sweep_.clear();
        permutation_->setStudentSteepness(sweepRestore_);
        recorder_.reset();  // discards the partial file
        failRecording(path, QString::fromStdString(e.what()));
      }
    });
  });
  QMenu* record = file->addMenu(tr("&Record"));
  record->setObjectName(QStringLiteral("recordMenu"));
  QAction* sweep = record->addAction(tr("&Steepness Sweep…"), this,
                                     [this] { guardSlot("Steepness Sweep", [this] { chooseRecording(true); }); });
  sweep->setObjectName(QStringLiteral("recordSweepAction"));
  sweep->setToolTip(tr("Film the permutation matrices of the pinned patch while the student steepness sweeps"));
  recordViewsAction_ = record->addAction(tr("Record &Views…"));
  recordViewsAction_->setObjectName(QStringLiteral("recordViewsAction"));
  recordViewsAction_->setCheckable(true);
  recordViewsAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  recordViewsAction_->setToolTip(
      tr("Add a frame each time the views are shown anew (every live training step, image or query); "
         "again to stop and write the video"));
  connect(recordViewsAction_, &QAction::toggled, this, [this](bool on) {
    guardSlot("Record Views", [this, on] {
      if (on) {
        const QSignalBlocker quiet(recordViewsAction_);
        recordViewsAction_->setChecked(false);  // checked once a recording really started
        chooseRecording(false);
      } else {
        stopRecording();
      }
    });
  });
  QAction* stop = record->addAction(tr("S&top Recording"), this, [this] { guardSlot("Stop Recording", [this] { stopRecording(); }); });
  stop->setObjectName(QStringLiteral("stopRecordingAction"));
}

void MainWindow::chooseRecording(bool sweep) {
  if (recorder_) return showError(tr("Recording"), tr("A recording is already running: stop it first (File ▸ Record)."));
  auto* dialog = new QDialog(this);
  dialog->setObjectName(sweep ? QStringLiteral("sweepDialog") : QStringLiteral("recordViewsDialog"));
  dialog->setWindowTitle(sweep ? tr("Record a steepness sweep") : tr("Record the views"));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  auto* name = new QLineEdit(dialog);
  const QString stem = path_.isEmpty() ? QStringLiteral("neco") : QFileInfo(path_).completeBaseName();
  name->setText(QDir(defaultVideoFolder()).filePath(stem + (sweep ? QStringLiteral("-sweep.avi") : QStringLiteral("-views.avi"))));
  auto* browse = new QPushButton(tr("Browse…"), dialog);
  connect(browse, &QPushButton::clicked, dialog, [dialog, name] {
    const QString chosen = QFileDialog::getSaveFileName(dialog, tr("Video file"), name->text(),
                                                        tr("Motion-JPEG AVI (*.avi);;MPEG-4 (*.mp4)"));
    if (!chosen.isEmpty()) name->setText(chosen);
  });
  auto* row = new QHBoxLayout;
  row->addWidget(name, 1);
  row->addWidget(browse);
  auto* form = new QFormLayout(dialog);
  form->addRow(tr("File"), row);
  auto* from = new QDoubleSpinBox(dialog);
  auto* to = new QDoubleSpinBox(dialog);
  auto* frames = new QSpinBox(dialog);
  for (auto* box : {from, to}) {
    box->setRange(1.0, 1000.0);
    box->setDecimals(1);
  }
  from->setValue(1.0);
  to->setValue(1000.0);
  frames->setRange(2, kMaxSweepFrames);
  frames->setValue(60);
  auto* fps = new QDoubleSpinBox(dialog);
  fps->setRange(0.5, 60.0);
  fps->setValue(sweep ? 8.0 : 4.0);
  fps->setSuffix(tr(" frames/s"));
  if (sweep) {
    form->addRow(tr("Student steepness from"), from);
    form->addRow(tr("to"), to);
    form->addRow(tr("Frames"), frames);
  }
  form->addRow(tr("Frame rate"), fps);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
  connect(buttons, &QDialogButtonBox::accepted, dialog, [this, dialog, name, fps, from, to, frames, sweep] {
    const QString path = name->text();
    const double rate = fps->value(), lo = from->value(), hi = to->value();
    const int count = frames->value();
    auto run = [this, sweep, path, rate, lo, hi, count] {
      guardSlot("start recording", [&] {
        if (sweep)
          recordSteepnessSweep(path, lo, hi, count, rate);
        else
          startRecording(path, rate);
      });
    };
    dialog->accept();
    if (!QFileInfo::exists(path)) return run();
    auto* ask = new QMessageBox(QMessageBox::Question, tr("Record"),
                                tr("%1 exists and would be replaced once the new video is complete.").arg(path),
                                QMessageBox::Yes | QMessageBox::Cancel, this);
    ask->setAttribute(Qt::WA_DeleteOnClose);
    connect(ask, &QMessageBox::accepted, this, run);
    ask->open();  // never a nested event loop inside a slot
  });
  dialog->open();
}

}  // namespace neco::ui

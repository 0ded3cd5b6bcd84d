// TrainingPanel: what the worker reports, and the controls each state allows.
#include "neco/ui/TrainingPanel.h"

#include "neco/ui/TrainingCurves.h"

#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>

#include <spdlog/spdlog.h>

#include <cmath>

namespace neco::ui {
namespace {

QString durationText(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
  const qint64 s = std::llround(seconds);
  const QLatin1Char zero('0');
  if (s >= 3600) return QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, zero).arg(s % 60, 2, 10, zero);
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, zero);
}

}  // namespace

QString TrainingPanel::stateName(State state) {
  switch (state) {
    case State::Idle:
      return tr("idle");
    case State::Starting:
      return tr("starting (reading the config and the data)…");
    case State::Running:
      return tr("training");
    case State::Pausing:
      return tr("pausing after this step…");
    case State::Paused:
      return tr("paused");
    case State::Stopping:
      return tr("stopping after this step (saving a checkpoint)…");
    case State::Finished:
      return tr("finished");
    case State::Failed:
      return tr("failed");
  }
  return {};
}

void TrainingPanel::setState(State state) {
  state_ = state;
  const bool idle = state == State::Idle || state == State::Finished || state == State::Failed;
  start_->setEnabled(idle);
  pause_->setEnabled(state == State::Starting || state == State::Running || state == State::Paused);
  pause_->setText(state == State::Paused ? tr("Resume") : tr("Pause"));
  step_->setEnabled(state == State::Paused);
  stop_->setEnabled(!idle && state != State::Stopping);
  for (QWidget* w : std::initializer_list<QWidget*>{config_, openConfig_, runDir_, newRun_, resumeRun_, maxSteps_})
    w->setEnabled(idle);
  if (state != State::Finished) status_->setText(stateName(state));
  Q_EMIT stateChanged(state);
}

void TrainingPanel::showError(const QString& message) {
  spdlog::error("training: {}", message.toStdString());
  error_->setText(message);
  error_->show();
}

void TrainingPanel::onStarted(const QString& runDir, const QString& description, const QStringList& notes) {
  spdlog::info("training {}: {}", runDir.toStdString(), description.toStdString());
  for (const QString& note : notes) spdlog::info("training: {}", note.toStdString());
  runName_ = QFileInfo(runDir).fileName();
  status_->setToolTip(description);
  if (state_ == State::Starting) setState(State::Running);
}

void TrainingPanel::onProgress(const TrainingProgress& p) {
  last_ = p;
  ++progressCount_;
  curves_->addStep(p);
  stepLabel_->setText(tr("%1 / %2").arg(p.stepsDone).arg(p.totalSteps));
  epochLabel_->setText(QString::number(p.epoch));
  const double average = curves_->latestAverage();
  lossLabel_->setText(p.skipped ? tr("skipped (non-finite)")
                                : tr("%1 (average %2)").arg(p.loss, 0, 'f', 4).arg(average, 0, 'f', 4));
  lrLabel_->setText(tr("%1 / %2").arg(p.lrBackbone, 0, 'g', 3).arg(p.lrHead, 0, 'g', 3));
  speedLabel_->setText(QString::number(p.imagesPerSecond, 'f', 1));
  etaLabel_->setText(durationText(p.etaSeconds));
  if (p.monitored)
    status_->setToolTip(tr("held-out loss %1, ordering agreement %2 at step %3")
                            .arg(p.heldOutLoss, 0, 'f', 4)
                            .arg(p.agreement, 0, 'f', 3)
                            .arg(p.stepsDone));
}

void TrainingPanel::onEvaluation(const TrainingEvaluation& e) {
  curves_->addEvaluation(e);
  const QString what = e.protocol == "overcluster" ? tr("overclustering K=%1").arg(e.k) : QString::fromStdString(e.protocol);
  evalLabel_->setText(tr("mIoU %1 % (%2 of the %3, step %4)")
                          .arg(QString::number(100 * e.miou, 'f', 1), what, QString::fromStdString(e.part),
                               QString::number(e.step)));
  evalLabel_->setToolTip(tr("%1; present-class mIoU %2 %, pixel accuracy %3 %, %4 s")
                             .arg(QString::fromStdString(e.data), QString::number(100 * e.miouPresent, 'f', 1),
                                  QString::number(100 * e.pixelAccuracy, 'f', 1), QString::number(e.seconds, 'f', 1)));
}

void TrainingPanel::onCheckpoint(const QString& dir, qint64 step) {
  auto* item = new QListWidgetItem(tr("step %1   %2").arg(step).arg(QFileInfo(dir).fileName()));
  item->setData(Qt::UserRole, dir);
  item->setToolTip(dir);
  checkpoints_->insertItem(0, item);
}

void TrainingPanel::onPausedChanged(bool paused) {
  if (state_ == State::Stopping || state_ == State::Finished || state_ == State::Failed) return;
  setState(paused ? State::Paused : State::Running);
}

void TrainingPanel::onLiveModel(ExtractorPtr student, ExtractorPtr teacher, qint64 step) {
  liveStudent_ = std::move(student);
  liveTeacher_ = std::move(teacher);
  liveStep_ = step;
  if (liveEvery_->value() > 0) applyFollow();
}

void TrainingPanel::applyFollow() {
  const ExtractorPtr& model = followTeacher() ? liveTeacher_ : liveStudent_;
  if (!model) return;
  Q_EMIT followModel(model, tr("%1 of %2 at step %3").arg(follow_->currentText(), runName_).arg(liveStep_));
}

void TrainingPanel::onFinished(bool stopped, qint64 stepsDone, qint64 totalSteps, const QString& lastCheckpoint) {
  const QString where = lastCheckpoint.isEmpty() ? QString() : tr("; checkpoint %1").arg(lastCheckpoint);
  const QString text = stopped ? tr("stopped at step %1 of %2%3").arg(stepsDone).arg(totalSteps).arg(where)
                               : tr("finished: %1 steps%2").arg(stepsDone).arg(where);
  spdlog::info("training {}", text.toStdString());
  status_->setText(text);
  updateRunHint();  // the folder holds a run now: Start continues it
  setState(State::Finished);
}

void TrainingPanel::onFailed(const QString& message) {
  showError(tr("Training failed: %1").arg(message));
  updateRunHint();
  setState(State::Failed);
}

}  // namespace neco::ui

#include "neco/ui/TrainingWorker.h"

#include <QMetaObject>
#include <QPointer>
#include <QThread>

#include <spdlog/spdlog.h>

#include <limits>

namespace neco::ui {
namespace {

// Snapshot cadence while live models are off: the trainer still snapshots on pauses and at the end.
constexpr std::int64_t kNoLiveSnapshots = std::numeric_limits<std::int32_t>::max();

QStringList toQStrings(const std::vector<std::string>& lines) {
  QStringList out;
  for (const std::string& line : lines) out << QString::fromStdString(line);
  return out;
}

}  // namespace

TrainingWorker::TrainingWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<neco::TrainingProgress>("neco::TrainingProgress");
  qRegisterMetaType<neco::TrainingEvaluation>("neco::TrainingEvaluation");
  qRegisterMetaType<neco::ui::ExtractorPtr>("neco::ui::ExtractorPtr");
  qRegisterMetaType<neco::ui::XRayPtr>("neco::ui::XRayPtr");
}

TrainingWorker::~TrainingWorker() {
  shutdown();
}

template <typename F>
void TrainingWorker::post(F&& emitter) {
  // Queued to this object: it runs on the GUI thread, and is dropped if the worker is gone by then
  // or the run it reports on was shut down (generation_ changes only while no thread runs).
  QMetaObject::invokeMethod(
      this,
      [this, generation = generation_, emitter = std::forward<F>(emitter)] {
        if (generation == generation_) emitter();
      },
      Qt::QueuedConnection);
}

bool TrainingWorker::start(const TrainingRequest& request) {
  if (active_) return false;
  if (thread_) {  // the previous run's thread has reported already; it is returning
    thread_->wait();
    delete thread_;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopRequested_ = false;
    pauseRequested_ = false;
  }
  active_ = true;
  ++generation_;
  thread_ = QThread::create([this, request] { runJob(request); });
  thread_->setObjectName(QStringLiteral("training"));
  thread_->start();
  return true;
}

void TrainingWorker::shutdown() {
  stop();
  if (!thread_) return;
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  active_ = false;
  ++generation_;  // what it reported and is still queued is dropped
}

void TrainingWorker::pause() {
  std::lock_guard<std::mutex> lock(mutex_);
  pauseRequested_ = true;
  if (session_) session_->pause();
}

void TrainingWorker::resume() {
  std::lock_guard<std::mutex> lock(mutex_);
  pauseRequested_ = false;
  if (session_) session_->resume();
}

void TrainingWorker::stepOnce() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (session_) session_->stepOnce();
}

void TrainingWorker::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopRequested_ = true;
  if (session_) session_->stop();
}

void TrainingWorker::setLiveEvery(qint64 steps) {
  liveEvery_.store(std::max<qint64>(0, steps));
  std::lock_guard<std::mutex> lock(mutex_);
  if (session_) session_->setLiveEvery(steps > 0 ? steps : kNoLiveSnapshots);
}

void TrainingWorker::requestXRay(int images) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (session_) {
    session_->requestXRay(images);
  } else {
    post([this] { Q_EMIT xray(nullptr, tr("no training run is active")); });
  }
}

void TrainingWorker::attach(TrainingSession* session) {
  std::lock_guard<std::mutex> lock(mutex_);
  session_ = session;
  if (!session) return;
  const qint64 every = liveEvery_.load();
  session->setLiveEvery(every > 0 ? every : kNoLiveSnapshots);
  if (stopRequested_)
    session->stop();
  else if (pauseRequested_)
    session->pause();
}

void TrainingWorker::runJob(const TrainingRequest& request) {
  // NOTE: the thread's top level catches everything: an exception must never leave the thread.
  QString error;
  try {
    TrainingSession session(request);
    attach(&session);
    try {
      trainSession(session);
    } catch (...) {
      attach(nullptr);
      throw;
    }
    attach(nullptr);
    return;
  } catch (const std::exception& e) {
    error = QString::fromStdString(e.what());
  } catch (...) {
    error = QStringLiteral("unknown error in the training thread");
  }
  post([this, error] {
    active_ = false;
    Q_EMIT failed(error);
  });
}

void TrainingWorker::trainSession(TrainingSession& session) {
  const QString runDir = QString::fromStdString(session.runDir().string());
  const QString description = QString::fromStdString(session.describe());
  const QStringList notes = toQStrings(session.notes());
  post([this, runDir, description, notes] { Q_EMIT started(runDir, description, notes); });
  if (session.startStep() > 0) {  // a resumed run: its curves continue from the rows on disk
    QList<TrainingProgress> rows;
    try {
      for (TrainingProgress& p : readTrainingHistory(session.runDir())) rows.push_back(std::move(p));
    } catch (const std::exception& e) {
      spdlog::warn("training history of {}: {}", session.runDir().string(), e.what());
    }
    post([this, rows] { Q_EMIT history(rows); });
    try {
      for (const TrainingEvaluation& e : readEvaluationHistory(session.runDir())) post([this, e] { Q_EMIT evaluated(e); });
    } catch (const std::exception& e) {
      spdlog::warn("evaluation history of {}: {}", session.runDir().string(), e.what());
    }
  }

  // The trainer refreshes its snapshot right after the progress callback of every liveEvery-th
  // step, so that snapshot is read at the next callback (or the pause, or the end).
  qint64 lastStep = session.startStep();
  bool livePending = false;
  TrainingCallbacks callbacks;
  callbacks.onProgress = [&](const TrainingProgress& p) {
    if (livePending) publishLive(session, lastStep);
    lastStep = p.stepsDone;
    const qint64 every = liveEvery_.load();
    livePending = every > 0 && p.stepsDone % every == 0;
    post([this, p] { Q_EMIT progress(p); });
  };
  callbacks.onCheckpoint = [this](const std::filesystem::path& dir, std::int64_t step) {
    const QString path = QString::fromStdString(dir.string());
    post([this, path, step] { Q_EMIT checkpointSaved(path, step); });
  };
  callbacks.onPauseChanged = [&](bool paused) {
    post([this, paused] { Q_EMIT pausedChanged(paused); });
    if (paused) {  // a snapshot of the paused state was just taken
      publishLive(session, lastStep);
      livePending = false;
    }
  };
  callbacks.onEvaluation = [this](const TrainingEvaluation& e) { post([this, e] { Q_EMIT evaluated(e); }); };
  callbacks.onXRay = [this](std::shared_ptr<const TrainingXRay> x, const std::string& error) {
    const QString message = QString::fromStdString(error);
    post([this, x = std::move(x), message] { Q_EMIT xray(x, message); });
  };
  const TrainingSummary summary = session.run(callbacks);
  publishLive(session, summary.stepsDone);
  const QString last = QString::fromStdString(summary.lastCheckpoint.string());
  post([this, summary, last] {
    active_ = false;
    Q_EMIT finished(summary.stopped, summary.stepsDone, summary.totalSteps, last);
  });
}

void TrainingWorker::publishLive(const TrainingSession& session, qint64 step) {
  if (liveEvery_.load() <= 0) return;
  try {  // the views can do without one update; the run goes on
    ExtractorPtr student = session.liveExtractor(false);
    if (!student) return;
    ExtractorPtr teacher = session.liveExtractor(true);
    post([this, student, teacher, step] { Q_EMIT liveModel(student, teacher, step); });
  } catch (const std::exception& e) {
    spdlog::warn("live model at step {}: {}", step, e.what());
  }
}

}  // namespace neco::ui

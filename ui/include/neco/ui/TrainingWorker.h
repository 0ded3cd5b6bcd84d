#pragma once
// Runs one TrainingSession at a time on its own QThread for the studio's training panel. The
// session is constructed on that thread too (it scans data and may fetch weights). Everything the
// trainer reports crosses to the GUI thread as plain values: each signal below is emitted on the
// thread the worker lives in (the GUI thread), never on the training thread.
//
// Controls (pause, resume, stepOnce, stop, setLiveEvery) are called from the GUI thread and return
// at once; they take effect at the trainer's next safe point, between two steps. stop() makes the
// trainer save a checkpoint before run() returns. NOTE: QThread::terminate is never used: the
// destructor asks the run to stop and joins it (within one step, plus the checkpoint save).

#include "neco/core/FeatureExtractor.h"
#include "neco/core/Training.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <memory>
#include <mutex>

class QThread;

namespace neco::ui {

using ExtractorPtr = std::shared_ptr<const FeatureExtractor>;
using XRayPtr = std::shared_ptr<const TrainingXRay>;

class TrainingWorker : public QObject {
  Q_OBJECT
 public:
  explicit TrainingWorker(QObject* parent = nullptr);
  ~TrainingWorker() override;  ///< shutdown()

  /// Starts training `request` on the worker thread. Returns false (and does nothing) while a run
  /// is still active. Whatever the session throws arrives as failed().
  bool start(const TrainingRequest& request);
  /// Whether a run was started and has not reported finished() or failed() yet.
  bool active() const noexcept { return active_; }

  void pause();
  void resume();
  void stepOnce();  ///< while paused: one more step, then paused again
  void stop();      ///< a stop before the session exists ends the run before its first step
  /// Live models every `steps` steps (also on every pause and at the end); 0 turns them off.
  void setLiveEvery(qint64 steps);
  /// A training X-ray of the next step with the first `images` images of its batch, answered by
  /// xray(); served while the run is paused (at once if it is, else at its next pause).
  void requestXRay(int images = 4);
  qint64 liveEvery() const noexcept { return liveEvery_.load(); }
  /// Asks the run to stop and waits for the thread (the trainer saves a checkpoint first). Its
  /// reports still queued are dropped: no finished() follows.
  void shutdown();

 Q_SIGNALS:
  void started(QString runDir, QString description, QStringList notes);
  /// The rows the run folder already held (a resumed run), right after started().
  void history(QList<neco::TrainingProgress> rows);
  /// A dense evaluation of the live weights (neco.eval_every), also each one a resumed run already holds.
  void evaluated(neco::TrainingEvaluation evaluation);
  void progress(neco::TrainingProgress progress);
  void checkpointSaved(QString dir, qint64 step);
  void pausedChanged(bool paused);
  /// Feature extractors on the student's and the teacher's backbone as of step `step`.
  void liveModel(neco::ui::ExtractorPtr student, neco::ui::ExtractorPtr teacher, qint64 step);
  void finished(bool stopped, qint64 stepsDone, qint64 totalSteps, QString lastCheckpoint);
  void failed(QString message);
  /// The answer to requestXRay(): the X-ray, or null and why it failed.
  void xray(neco::ui::XRayPtr xray, QString error);

 private:
  void runJob(const TrainingRequest& request);
  void trainSession(TrainingSession& session);
  void publishLive(const TrainingSession& session, qint64 step);
  void attach(TrainingSession* session);
  /// Runs `emitter` on the worker's own (GUI) thread.
  template <typename F>
  void post(F&& emitter);

  QThread* thread_ = nullptr;
  bool active_ = false;     // GUI thread only
  quint64 generation_ = 0;  // the run being reported; written only while no thread runs
  std::mutex mutex_;        // guards session_ and the requests made before it existed
  TrainingSession* session_ = nullptr;
  bool stopRequested_ = false;
  bool pauseRequested_ = false;
  std::atomic<qint64> liveEvery_{10};
};

}  // namespace neco::ui

Q_DECLARE_METATYPE(neco::TrainingProgress)
Q_DECLARE_METATYPE(neco::TrainingEvaluation)
Q_DECLARE_METATYPE(neco::ui::ExtractorPtr)
Q_DECLARE_METATYPE(neco::ui::XRayPtr)

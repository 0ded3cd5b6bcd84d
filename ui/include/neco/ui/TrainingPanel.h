#pragma once
// The studio's training panel (a dock): what to train (the built-in demo or a YAML config), where
// (a new run folder, or an existing one to continue), how far, how often the views follow the
// weights (student or teacher); Start / Pause / Step / Stop; the live numbers, the curves and the
// checkpoints of the run. It observes a TrainingWorker and holds no training logic; nothing heavy
// runs on the GUI thread. Errors show inline (and in the log), never in a modal dialog.

#include "neco/ui/TrainingWorker.h"

#include <QString>
#include <QStringList>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace neco::ui {

class TrainingCurves;

class TrainingPanel : public QWidget {
  Q_OBJECT
 public:
  enum class State { Idle, Starting, Running, Pausing, Paused, Stopping, Finished, Failed };
  Q_ENUM(State)

  explicit TrainingPanel(QWidget* parent = nullptr);
  ~TrainingPanel() override;  ///< stops a run (it checkpoints) and waits for it

  /// The configuration: the built-in demo, or a YAML file (added to the choice and selected).
  void useDemoConfig();
  void setConfigFile(const QString& path);
  /// The run folder: a new run starts in it when it holds none, otherwise the run there continues.
  void setRunFolder(const QString& path);
  QString runFolder() const;
  /// A new, not yet existing folder under neco::stateDirectory()/runs named after the time.
  static QString newRunFolder();
  void setMaxSteps(int steps);          ///< 0: the schedule
  void setLiveEvery(int steps);         ///< 0: the views keep their model
  void setFollowTeacher(bool teacher);  ///< which network the views follow
  bool followTeacher() const;
  /// Config overrides ("train.batch_size=4") for the next start (no widget; tests and tools).
  void setOverrides(const QStringList& overrides) { overrides_ = overrides; }

  /// Starts the chosen run. False (with the reason in the error label) when it cannot start.
  bool start();
  /// The built-in demo in a new run folder (the studio's Train ▸ Train on the Demo).
  bool startDemo();
  void pauseOrResume();
  void stepOnce();
  void stop();
  /// Stops a run and waits for it (closing the studio): it saves a checkpoint first.
  void shutdown();

  State state() const noexcept { return state_; }
  bool training() const noexcept { return worker_->active(); }
  static QString stateName(State state);
  int progressCount() const noexcept { return progressCount_; }  ///< progress reports of this run
  qint64 stepsDone() const noexcept { return last_.stepsDone; }
  const TrainingProgress& lastProgress() const noexcept { return last_; }
  qint64 liveStep() const noexcept { return liveStep_; }  ///< step of the latest live model, -1 before
  QString errorText() const;
  QString runName() const { return runName_; }

  TrainingWorker* worker() const noexcept { return worker_; }
  TrainingCurves* curves() const noexcept { return curves_; }
  QString evaluationText() const;  ///< the latest in-training evaluation, or a dash
  QListWidget* checkpointList() const noexcept { return checkpoints_; }
  QPushButton* startButton() const noexcept { return start_; }
  QPushButton* pauseButton() const noexcept { return pause_; }
  QPushButton* stepButton() const noexcept { return step_; }
  QPushButton* stopButton() const noexcept { return stop_; }

 Q_SIGNALS:
  void stateChanged(neco::ui::TrainingPanel::State state);
  /// The network the views should show now, and a one-line name ("student of <run> at step N").
  void followModel(neco::ui::ExtractorPtr model, QString label);
  /// A checkpoint of the list was double-clicked: its step folder.
  void checkpointActivated(QString dir);

 private:
  QWidget* buildSetup();
  QWidget* buildStats();
  void setState(State state);
  void updateRunHint();
  void showError(const QString& message);
  void chooseConfig();
  void chooseRunToResume();
  void applyFollow();
  void onStarted(const QString& runDir, const QString& description, const QStringList& notes);
  void onProgress(const TrainingProgress& p);
  void onEvaluation(const TrainingEvaluation& e);
  void onCheckpoint(const QString& dir, qint64 step);
  void onPausedChanged(bool paused);
  void onLiveModel(ExtractorPtr student, ExtractorPtr teacher, qint64 step);
  void onFinished(bool stopped, qint64 stepsDone, qint64 totalSteps, const QString& lastCheckpoint);
  void onFailed(const QString& message);

  TrainingWorker* worker_;
  State state_ = State::Idle;
  QStringList overrides_;
  QString runName_;
  TrainingProgress last_;
  int progressCount_ = 0;
  qint64 liveStep_ = -1;
  ExtractorPtr liveStudent_, liveTeacher_;

  QComboBox* config_ = nullptr;
  QPushButton* openConfig_ = nullptr;
  QLineEdit* runDir_ = nullptr;
  QPushButton* newRun_ = nullptr;
  QPushButton* resumeRun_ = nullptr;
  QLabel* runHint_ = nullptr;
  QSpinBox* maxSteps_ = nullptr;
  QSpinBox* liveEvery_ = nullptr;
  QComboBox* follow_ = nullptr;
  QPushButton* start_ = nullptr;
  QPushButton* pause_ = nullptr;
  QPushButton* step_ = nullptr;
  QPushButton* stop_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* error_ = nullptr;
  QLabel* stepLabel_ = nullptr;
  QLabel* epochLabel_ = nullptr;
  QLabel* lossLabel_ = nullptr;
  QLabel* lrLabel_ = nullptr;
  QLabel* speedLabel_ = nullptr;
  QLabel* etaLabel_ = nullptr;
  QLabel* evalLabel_ = nullptr;
  TrainingCurves* curves_ = nullptr;
  QListWidget* checkpoints_ = nullptr;
};

}  // namespace neco::ui

#pragma once
// The NeCo training loop (issue 5, METHOD.md §2): batches from the background loader, one NecoStep
// per iteration, metrics to callbacks and to <run>/metrics.jsonl and metrics.csv, checkpoints with the commit
// protocol, exact resume, and control from another thread (the studio) or a signal handler (the CLI).
//
// Control is cooperative: pause(), stepOnce(), resume() and stop() take effect at the next safe
// point, between two steps; stop() saves a checkpoint first. requestStopFromSignal() only stores to
// an atomic, so a signal handler may call it. run() blocks until the schedule (or maxSteps) is done,
// stop was asked, or a TrainingError ends the run.

#include "train/BatchLoader.h"
#include "train/NecoStep.h"
#include "train/SampleSource.h"
#include "train/TrainerConfig.h"
#include "train/TrainingMonitor.h"
#include "train/TrainingCheckpoint.h"

#include <ATen/core/Tensor.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace neco::train {

/// A dense evaluation measured during training (neco.eval_every; TrainingSession supplies the evaluator).
struct TrainerEvaluation {
  std::int64_t step = 0;  ///< steps done when measured (0: before the first)
  std::string protocol, part, data;
  int k = 0;              ///< overclustering's K
  double miou = 0, miouPresent = 0, pixelAccuracy = 0, seconds = 0;
};

struct TrainerProgress {
  StepReport report;
  std::int64_t stepsDone = 0;   ///< report.step + 1
  std::int64_t totalSteps = 0;  ///< where this run stops
  std::int64_t epoch = 0;
  double dataWaitMs = 0;        ///< time the step waited for its batch
  double stepMs = 0;            ///< the whole iteration, data wait included
  double imagesPerSecond = 0;   ///< moving average
  double etaSeconds = 0;
  std::vector<std::string> skippedSamples;
  std::optional<MonitorValues> monitor;  ///< set on the steps the held-out monitor measured
};

/// Copies of the networks at a safe point, for views that follow the live weights.
struct NetworkSnapshot {
  std::int64_t step = 0;
  std::vector<std::pair<std::string, at::Tensor>> student, teacher;  ///< backbone parameters and buffers
};

/// The training X-ray (Trainer::requestInspection): the step about to run, on the batch it will use.
struct TrainerInspection {
  StepInspection step;
  LoadedBatch batch;              ///< what the next step() receives
  std::vector<RgbImage> sources;  ///< the first images of the batch as the source returns them
  std::vector<std::string> names;  ///< and what the source calls them
};

struct TrainerCallbacks {
  std::function<void(const TrainerProgress&)> onStep;
  std::function<void(const std::filesystem::path&, std::int64_t step)> onCheckpoint;
  std::function<void(bool paused)> onPauseChanged;
  /// The answer to requestInspection(); `error` non-empty (and the pointer null) when it failed.
  std::function<void(std::shared_ptr<const TrainerInspection>, const std::string& error)> onInspection;
  std::function<void(const TrainerEvaluation&)> onEvaluation;  ///< each dense evaluation (setEvaluator)
};

enum class TrainerOutcome { Finished, Stopped };

struct TrainerResult {
  TrainerOutcome outcome = TrainerOutcome::Finished;
  std::int64_t stepsDone = 0;
  std::optional<std::filesystem::path> lastCheckpoint;
};

class Trainer {
 public:
  /// Builds the networks (random from the seed, then `config.pretrained` when set), the optimizer and
  /// the queue; nothing is read from `runDir` yet. Throws InvalidArgumentError (inconsistent config,
  /// dataset smaller than a batch), and what loading the pretrained weights throws.
  Trainer(TrainerConfig config, std::shared_ptr<const SampleSource> source, std::filesystem::path runDir,
          TrainerCallbacks callbacks = {});
  ~Trainer();

  /// Restores the newest committed checkpoint under <runDir>/checkpoints, if any; returns its step.
  /// Throws InvalidArgumentError when it was saved with different settings, FormatError / IoError.
  std::optional<std::int64_t> resumeFromLatest();

  /// Trains until done or stopped. Throws TrainingError (K non-finite steps in a row, no usable
  /// sample), IoError (a checkpoint could not be written).
  TrainerResult run();

  void pause();
  void resume();
  void stepOnce();  ///< while paused: run exactly one more step, then stay paused
  void stop();      ///< save a checkpoint at the next safe point and return from run()
  /// Async-signal-safe: one atomic store. run() notices within ~100 ms, also while paused.
  void requestStopFromSignal() noexcept { stopRequested_.store(true, std::memory_order_relaxed); }
  bool paused() const;
  /// Asks for a training X-ray of the next step with the first `images` images of its batch; served
  /// on the training thread while paused (at once when paused now, else at the next pause) through
  /// callbacks.onInspection. The batch is then kept for that step, so the X-ray shows exactly it.
  void requestInspection(int images);

  /// The latest snapshot (refreshed every `snapshotEvery` steps and when paused); null before the
  /// first. Thread-safe.
  std::shared_ptr<const NetworkSnapshot> snapshot() const;
  void setSnapshotEvery(std::int64_t steps) { snapshotEvery_.store(std::max<std::int64_t>(1, steps)); }
  /// Measures held-out loss and ordering agreement on the first images of `heldOut` every
  /// config.monitorEvery steps (and before the first step), into <run>/monitor.jsonl and
  /// TrainerProgress::monitor. Throws what TrainingMonitor's constructor throws.
  void setMonitor(const SampleSource& heldOut);
  /// Runs `evaluate` on the snapshot of the current weights every `every` steps, after the last step
  /// and before the first step of a new run, into <run>/eval.jsonl and callbacks.onEvaluation.
  /// The evaluator fills everything but `step`; what it throws is logged and that measurement skipped.
  using Evaluator = std::function<TrainerEvaluation(const NetworkSnapshot&)>;
  void setEvaluator(std::int64_t every, Evaluator evaluate);
  /// Replaces the callbacks (before run()).
  void setCallbacks(TrainerCallbacks callbacks) { callbacks_ = std::move(callbacks); }

  std::int64_t totalSteps() const noexcept { return totalSteps_; }
  std::int64_t scheduleSteps() const noexcept { return step_->config().schedule.totalSteps; }
  std::int64_t iterationsPerEpoch() const noexcept { return perEpoch_; }
  const std::string& fingerprint() const noexcept { return fingerprint_; }
  NecoStep& step() noexcept { return *step_; }
  const std::filesystem::path& runDir() const noexcept { return runDir_; }

 private:
  std::filesystem::path saveCheckpoint();
  void publishSnapshot();
  bool waitWhilePaused(const std::function<void(int images)>& serveInspection);  // false when stop was asked
  void appendMetrics(const TrainerProgress& p);
  MonitorValues runMonitor();
  void runEvaluation();
  void trimMetrics(std::int64_t fromStep);

  TrainerConfig config_;
  std::shared_ptr<const SampleSource> source_;
  std::filesystem::path runDir_;
  TrainerCallbacks callbacks_;
  std::unique_ptr<NecoStep> step_;
  std::unique_ptr<TrainingMonitor> monitor_;
  Evaluator evaluator_;
  std::int64_t evaluateEvery_ = 0;
  CheckpointStore store_;
  std::string fingerprint_;
  std::int64_t perEpoch_ = 0, totalSteps_ = 0, skippedSamples_ = 0;

  mutable std::mutex controlMutex_;
  std::condition_variable controlCv_;
  bool paused_ = false;
  int stepBudget_ = 0;
  int inspectImages_ = 0;  // > 0: an X-ray was asked for
  std::atomic<bool> stopRequested_{false};

  mutable std::mutex snapshotMutex_;
  std::shared_ptr<const NetworkSnapshot> snapshot_;
  std::atomic<std::int64_t> snapshotEvery_{10};
};

/// A stable digest of the settings a resume must keep (architecture, head, crops, batch, schedule,
/// seed, loss, data size); lr changes and cadences are allowed.
std::string configFingerprint(const TrainerConfig& config, std::int64_t datasetSize);

}  // namespace neco::train

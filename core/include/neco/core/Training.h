#pragma once
// NeCo training for front ends (the `neco train` command, the studio's training panel), torch-free:
// a TrainingSession resolves a YAML config (or the built-in demo), opens and pre-scans the data,
// builds the networks (downloading official pretrained weights on first use), continues a run from
// its newest committed checkpoint, and trains with cooperative controls.
//
// A run folder holds config.yml (the resolved configuration), metrics.jsonl / metrics.csv (one
// row per step) and checkpoints/ (RELIABILITY.md commit protocol). Starting a new run in a folder
// that already holds one is refused: continue it with `resumeDir`.

#include "neco/core/FeatureExtractor.h"
#include "neco/core/TrainingXRay.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace neco {

struct TrainingRequest {
  std::filesystem::path config;           ///< YAML with the reference's keys; empty with `demo`
  bool demo = false;                      ///< the built-in demo configuration (configs/demo.yml)
  std::vector<std::string> overrides;     ///< "train.lr_heads=2e-4", applied in order
  std::filesystem::path outDir;           ///< the run folder of a new run
  std::filesystem::path resumeDir;        ///< continue this run (its own config.yml); exclusive with `config`
  std::int64_t maxSteps = 0;              ///< stop once this many steps are done in all (0 = the schedule)
  int loaderThreads = -1;                 ///< -1 = the config's num_workers
};

struct TrainingProgress {
  std::int64_t step = 0;        ///< the step just run (0-based)
  std::int64_t stepsDone = 0;
  std::int64_t totalSteps = 0;  ///< where this run stops
  std::int64_t epoch = 0;
  double loss = 0;              ///< NaN when the step was skipped as non-finite
  bool skipped = false;
  double lrBackbone = 0, lrHead = 0, weightDecay = 0, momentum = 0, gradNorm = 0;
  double dataMs = 0, forwardMs = 0, lossMs = 0, sortMs = 0, backwardMs = 0, optimizerMs = 0, emaMs = 0, stepMs = 0;
  double imagesPerSecond = 0, etaSeconds = 0;
  std::vector<std::string> skippedSamples;
  bool monitored = false;  ///< the held-out monitor measured after this step (neco.monitor_every)
  double heldOutLoss = 0, agreement = 0;
};

struct TrainingSummary {
  bool stopped = false;  ///< stop() or a signal ended the run before the schedule
  std::int64_t stepsDone = 0;
  std::int64_t totalSteps = 0;
  std::filesystem::path lastCheckpoint;
};

/// A dense evaluation of the live weights during training (neco.eval_every; docs/EVALUATION.md).
struct TrainingEvaluation {
  std::int64_t step = 0;  ///< steps done when measured (0: before the first step)
  std::string protocol;   ///< overcluster, nn-retrieval
  std::string part;       ///< student, teacher
  std::string data;       ///< what was evaluated on
  int k = 0;              ///< overclustering's K
  double miou = 0;        ///< the reference's mIoU (all classes), in [0, 1]
  double miouPresent = 0, pixelAccuracy = 0, seconds = 0;
};

/// Called on the training thread (run()'s caller): keep them short and thread-safe.
struct TrainingCallbacks {
  std::function<void(const TrainingProgress&)> onProgress;                         ///< after each step
  std::function<void(const std::filesystem::path& dir, std::int64_t step)> onCheckpoint;  ///< committed
  std::function<void(bool paused)> onPauseChanged;  ///< entering / leaving a pause (a snapshot is fresh)
  /// The answer to requestXRay(): the X-ray, or null and the reason it failed.
  std::function<void(std::shared_ptr<const TrainingXRay>, const std::string& error)> onXRay;
  /// Each dense evaluation (neco.eval_every), the one before the first step of a new run included.
  std::function<void(const TrainingEvaluation&)> onEvaluation;
};

/// The per-step rows a run folder already holds (metrics.jsonl, with monitor.jsonl's held-out values
/// on the rows they followed), in step order: what a resumed run's curves start from. A missing file
/// gives an empty list; unreadable lines (a crash can cut the last one short) are skipped.
std::vector<TrainingProgress> readTrainingHistory(const std::filesystem::path& runDir);
/// The dense evaluations a run folder already holds (eval.jsonl), in step order; the same rules.
std::vector<TrainingEvaluation> readEvaluationHistory(const std::filesystem::path& runDir);

class TrainingSession {
 public:
  /// Prepares everything up to the first step. `scanProgress` follows the dataset pre-scan.
  /// Throws InvalidArgumentError (bad request or config value, naming it; a folder that already
  /// holds a run), IoError / FormatError (config, dataset layout, too many bad files, checkpoints),
  /// UnsupportedError (a setting this version cannot run), NetworkError (pretrained weights
  /// missing and not downloadable).
  explicit TrainingSession(const TrainingRequest& request,
                           const std::function<void(std::size_t done, std::size_t total)>& scanProgress = {});
  ~TrainingSession();
  TrainingSession(const TrainingSession&) = delete;
  TrainingSession& operator=(const TrainingSession&) = delete;

  /// Trains until the end, stop() or a signal; `onProgress` runs on the calling thread after each
  /// step. Throws TrainingError (non-finite steps in a row, no usable images), IoError.
  TrainingSummary run(const std::function<void(const TrainingProgress&)>& onProgress = {});
  TrainingSummary run(const TrainingCallbacks& callbacks);

  void pause();
  void resume();
  void stepOnce();
  void stop();
  void requestStopFromSignal() noexcept;  ///< async-signal-safe
  /// Asks for a training X-ray of the next step with the first `images` images of its batch. It is
  /// computed on the training thread while paused (at once when paused, else at the next pause) and
  /// delivered through TrainingCallbacks::onXRay; that step then runs on exactly the batch shown.
  void requestXRay(int images = 4);

  /// A feature extractor on a copy of the student's (or teacher's) backbone as of the latest snapshot,
  /// for views that follow the live weights; null before the first snapshot. Thread-safe.
  std::shared_ptr<const FeatureExtractor> liveExtractor(bool teacher) const;
  /// Snapshots are taken every `steps` steps (default 10), when paused, and at the end.
  void setLiveEvery(std::int64_t steps);

  /// Config warnings, ignored reference keys, the data scan's findings, the resume point.
  const std::vector<std::string>& notes() const noexcept;
  std::int64_t startStep() const noexcept;  ///< 0, or the step a resume continues from
  std::int64_t totalSteps() const noexcept;
  const std::filesystem::path& runDir() const noexcept;
  std::string describe() const;  ///< one line: model, data, batch, steps

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neco

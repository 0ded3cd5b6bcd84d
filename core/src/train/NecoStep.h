#pragma once
// One NeCo optimisation step (METHOD.md §2.4-2.6) on an already augmented batch: teacher forward on
// the global crops (no autograd), student forward on every crop, queue update, the loss, then -- only
// when the loss and every gradient are finite -- the EMA teacher update and the AdamW step with this
// step's scheduled lr and weight decay. The pure computation a trainer loop (data, checkpoints,
// signals, callbacks) drives; it owns the networks, the optimizer, the queue and the step's RNG.
//
// Order, as the reference does it: the EMA uses the student *before* this step's update (a one-step
// lag); gradient clipping, when enabled, acts on this step's gradients (the reference would clip stale
// ones) and, like the reference, only on the weight-decayed parameters (groups 0 and 2). Non-finite loss or gradients: the step is skipped before the EMA and the optimizer, counted,
// and after `maxConsecutiveNonFinite` in a row step() throws TrainingError. Test hook: the environment
// variable NECO_FAULT=nan-loss:<step>:<count> makes those steps' loss NaN (read at construction).

#include "train/NecoLoss.h"
#include "train/NecoModel.h"
#include "train/ReferenceQueue.h"
#include "train/Schedules.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <torch/optim/adamw.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace neco::train {

struct NecoBatch {
  std::vector<at::Tensor> crops;  ///< per crop (B, 3, S_v, S_v), normalised; the global crops first
  at::Tensor inGlobal;            ///< (B, G, V, 4) intersection boxes in global crop pixels
  at::Tensor inCrop;              ///< (B, V, G, 4) the same in each crop's pixels
};

struct StepConfig {
  NecoLossConfig loss;
  ScheduleConfig schedule;
  HeadConfig head;
  double studentDropPath = 0.1;        ///< the reference's hard-coded rate (teacher: 0)
  bool useTeacher = true;              ///< use_teacher (false: the student is its own teacher)
  bool useQueue = true;                ///< is_queue_usable
  std::int64_t queueLength = 8192;
  int queueRowsPerImage = 10;          ///< n = min(10 B, queueLength) teacher rows pushed per crop and step
  bool exactQueueFill = false;         ///< see ReferenceQueue
  std::optional<double> gradClipNorm;  ///< grad_norm_clipping (null: off)
  std::optional<std::vector<int>> trainableBlocks;
  int maxConsecutiveNonFinite = 10;
  int globalCrops = 2;                 ///< G: one queue per global crop; batches must match
  std::uint64_t seed = 400;
  /// Where the networks, the queue and the step's tensors live: "cpu", "cuda" or "cuda:N". Batches
  /// arrive on the CPU and are moved; the generators stay on the CPU (their draws are moved), so a
  /// CUDA run draws the same references and drop-path masks as a CPU run.
  std::string device = "cpu";
  bool mixedPrecision = true;          ///< bf16 autocast for the backbones on CUDA (no effect on the CPU)
};

struct StepReport {
  std::int64_t step = 0;        ///< the step just run (0-based)
  double loss = 0;              ///< NaN/inf when skipped for that reason
  bool skipped = false;
  bool emptyMask = false;       ///< skipped because no position was in the fg / bg loss mask
  double gradNorm = 0;          ///< before clipping
  StepHyperParameters hyper;    ///< what the optimizer and the EMA used
  double forwardMs = 0, lossMs = 0, backwardMs = 0, optimizerMs = 0, emaMs = 0;
  double sortMs = 0;            ///< the sorts' share of lossMs (forward only; their backward is in backwardMs)
};

/// One (global c, other v) pair of an inspected step (the training X-ray), for every image.
struct PairInspection {
  PairTrace trace;       ///< similarities, per-patch loss, mask positions, subloss
  at::Tensor provenance;  ///< (B K^2) long: the queue slot of each reference, or its in-batch row b K^2 + y K + x
  bool fromQueue = false;
};

struct StepInspection {
  std::int64_t step = 0;
  double loss = 0;                    ///< the loss step() computes for this batch
  std::vector<PairInspection> pairs;  ///< in the loss's order: c = 0..G-1, v != c
  std::int64_t queueFill = 0;         ///< fill count of queue 0 before the step (0 without a queue)
  std::int64_t queueRowsPerPush = 0;  ///< rows each global crop pushes per step
};

class NecoStep {
 public:
  /// Student and teacher start from `backbone` (random init from the seed unless weights are loaded
  /// afterwards); the two heads are initialised independently, as the reference does. The loss's
  /// patch size is taken from the backbone. Throws InvalidArgumentError for schedule.totalSteps < 1,
  /// globalCrops < 1 or a queue shorter than one push.
  NecoStep(const nn::ViTConfig& backbone, StepConfig config);

  /// Runs step number step() and advances it. Throws InvalidArgumentError for a malformed batch,
  /// TrainingError after maxConsecutiveNonFinite skipped steps in a row.
  StepReport step(const NecoBatch& batch);

  std::int64_t stepIndex() const noexcept { return step_; }
  int consecutiveNonFinite() const noexcept { return nonFiniteRun_; }
  std::int64_t skippedSteps() const noexcept { return skipped_; }
  NecoNetwork& student() noexcept { return student_; }
  at::Generator& generator() noexcept { return generator_; }
  at::Generator& dropPathGenerator() noexcept { return dropPathGenerator_; }
  NecoNetwork& teacher() noexcept { return teacher_; }
  ReferenceQueue* queue() noexcept { return queue_.get(); }
  torch::optim::AdamW& optimizer() noexcept { return *optimizer_; }
  const StepConfig& config() const noexcept { return config_; }
  const at::Device& device() const noexcept { return device_; }
  /// The training X-ray: runs step()'s forward, queue update and loss on `batch` and records what the
  /// loss saw, changing nothing (no gradient, optimizer or EMA; the queue and both generators are
  /// restored), so the next step() on the same batch reports exactly `loss`. Throws like step().
  StepInspection inspect(const NecoBatch& batch);

  /// Sets the counters from a checkpoint (the tensors are restored through the accessors).
  void restoreProgress(std::int64_t step, std::int64_t skipped, int nonFiniteRun);

 private:
  struct Forward {
    std::vector<at::Tensor> teacherMaps, teacherMasks, studentMaps;
  };
  Forward forward(const NecoBatch& batch);  // checks the batch, runs both networks, updates the queue
  at::Tensor referencesFor(int crop, const at::Tensor& teacherAligned, std::int64_t batch,
                           PairInspection* record = nullptr);
  void updateQueue(const std::vector<at::Tensor>& teacherMaps, const std::vector<at::Tensor>& masks);

  StepConfig config_;
  at::Device device_{at::kCPU};
  NecoNetwork student_{nullptr}, teacher_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<ReferenceQueue> queue_;
  at::Generator generator_;          // references, queue picks
  at::Generator dropPathGenerator_;  // the student's stochastic depth
  std::int64_t step_ = 0, skipped_ = 0;
  std::int64_t nanFrom_ = -1, nanCount_ = 0;  // the NECO_FAULT=nan-loss test hook
  int nonFiniteRun_ = 0;
};

}  // namespace neco::train

#pragma once
// NeCo's per-step schedules (METHOD.md §2.6), all cosine over T = iters_per_epoch * max_epochs steps:
//   lr_t  = final + (base - final) (1 + cos(pi t / T)) / 2          per parameter group, no warm-up
//   wd_t  = end + (start - end) (1 + cos(pi t / T)) / 2             0.04 -> 0.5 on the decayed groups
//   m_t   = 1 + (start - 1) (1 + cos(pi t / T)) / 2                 EMA momentum 0.9995 -> 1
// Pure functions of the step: a resumed run recomputes them, nothing to checkpoint but the step.
// Torch-free.

#include <cstdint>

namespace neco::train {

/// The cosine from `start` (t = 0) to `end` (t >= total). Throws InvalidArgumentError for total < 1
/// or t < 0.
double cosineSchedule(double start, double end, std::int64_t t, std::int64_t total);

struct ScheduleConfig {
  std::int64_t totalSteps = 0;     ///< T = iterations per epoch * epochs (must be set; 0 is rejected)
  double lrBackbone = 1e-5;        ///< groups 0 and 1 start here
  double lrHead = 1e-4;            ///< groups 2 and 3
  double finalLr = 0.0;            ///< eta_min of the cosine annealing
  double weightDecayStart = 0.04;  ///< groups 0 and 2 only; 1 and 3 stay 0
  double weightDecayEnd = 0.5;
  double momentumStart = 0.9995;   ///< EMA teacher momentum, to 1
};

struct StepHyperParameters {
  double lrBackbone = 0, lrHead = 0, weightDecay = 0, momentum = 0;
};

/// Everything the optimizer and the EMA need at step t (0-based, before its update).
StepHyperParameters hyperParametersAt(const ScheduleConfig& config, std::int64_t t);

/// iters_per_epoch = floor(images / (gpus * batch)) (drop_last); throws InvalidArgumentError when it is 0.
std::int64_t iterationsPerEpoch(std::int64_t images, std::int64_t batch, std::int64_t gpus = 1);

}  // namespace neco::train

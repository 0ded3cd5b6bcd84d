#include "train/Schedules.h"

#include "neco/core/Error.h"

#include <cmath>
#include <string>

namespace neco::train {

double cosineSchedule(double start, double end, std::int64_t t, std::int64_t total) {
  if (total < 1) throw InvalidArgumentError("schedule: total steps must be >= 1, got " + std::to_string(total));
  if (t < 0) throw InvalidArgumentError("schedule: step must be >= 0, got " + std::to_string(t));
  if (t >= total) return end;
  const double pi = 3.14159265358979323846;
  return end + (start - end) * 0.5 * (1.0 + std::cos(pi * static_cast<double>(t) / static_cast<double>(total)));
}

StepHyperParameters hyperParametersAt(const ScheduleConfig& c, std::int64_t t) {
  StepHyperParameters h;
  h.lrBackbone = cosineSchedule(c.lrBackbone, c.finalLr, t, c.totalSteps);
  h.lrHead = cosineSchedule(c.lrHead, c.finalLr, t, c.totalSteps);
  h.weightDecay = cosineSchedule(c.weightDecayStart, c.weightDecayEnd, t, c.totalSteps);
  h.momentum = cosineSchedule(c.momentumStart, 1.0, t, c.totalSteps);
  return h;
}

std::int64_t iterationsPerEpoch(std::int64_t images, std::int64_t batch, std::int64_t gpus) {
  if (batch < 1 || gpus < 1) throw InvalidArgumentError("schedule: batch size and GPU count must be >= 1");
  const std::int64_t iters = images / (batch * gpus);
  if (iters < 1) {
    throw InvalidArgumentError("schedule: " + std::to_string(images) + " images make no full batch of " +
                               std::to_string(batch * gpus) + " (the last partial batch is dropped)");
  }
  return iters;
}

}  // namespace neco::train

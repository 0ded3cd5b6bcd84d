#include "NecoTest.h"
#include "neco/core/Error.h"
#include "train/Schedules.h"

#include <cmath>

using namespace neco::train;

NECO_TEST(Schedules, cosineEndpointsMidpointAndClamp) {
  NECO_CHECK_NEAR(cosineSchedule(1e-5, 0.0, 0, 100), 1e-5, 1e-20);
  NECO_CHECK_NEAR(cosineSchedule(1e-5, 0.0, 50, 100), 0.5e-5, 1e-20);
  NECO_CHECK_NEAR(cosineSchedule(0.04, 0.5, 25, 100), 0.5 + 0.5 * (0.04 - 0.5) * (1 + std::cos(M_PI / 4)), 1e-15);
  NECO_CHECK_EQ(cosineSchedule(3.0, 7.0, 100, 100), 7.0);
  NECO_CHECK_EQ(cosineSchedule(3.0, 7.0, 1000, 100), 7.0);  // past the end stays at the end
  NECO_CHECK_THROWS(neco::InvalidArgumentError, cosineSchedule(1, 0, 0, 0));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, cosineSchedule(1, 0, -1, 10));
}

NECO_TEST(Schedules, canonicalConfigValuesAtKnownSteps) {
  // COCO train2017, batch 64, 25 epochs: 1848 iterations per epoch, 46 200 steps (METHOD.md §2.6).
  ScheduleConfig c;
  c.totalSteps = iterationsPerEpoch(118287, 64) * 25;
  NECO_CHECK_EQ(c.totalSteps, 46200);
  const StepHyperParameters first = hyperParametersAt(c, 0);
  NECO_CHECK_NEAR(first.lrBackbone, 1e-5, 1e-20);
  NECO_CHECK_NEAR(first.lrHead, 1e-4, 1e-20);
  NECO_CHECK_NEAR(first.weightDecay, 0.04, 1e-15);
  NECO_CHECK_NEAR(first.momentum, 0.9995, 1e-15);
  const StepHyperParameters mid = hyperParametersAt(c, 23100);
  NECO_CHECK_NEAR(mid.lrHead, 0.5e-4, 1e-18);
  NECO_CHECK_NEAR(mid.weightDecay, 0.27, 1e-12);
  NECO_CHECK_NEAR(mid.momentum, 0.99975, 1e-12);
  const StepHyperParameters last = hyperParametersAt(c, 46199);
  NECO_CHECK(last.lrBackbone > 0 && last.lrBackbone < 1e-13);
  NECO_CHECK(last.momentum < 1.0 && last.momentum > 1.0 - 1e-9);
  // monotone: lr down, weight decay and momentum up
  double lr = 1, wd = 0, m = 0;
  for (std::int64_t t = 0; t < c.totalSteps; t += 997) {
    const StepHyperParameters h = hyperParametersAt(c, t);
    NECO_CHECK(h.lrBackbone <= lr && h.weightDecay >= wd && h.momentum >= m);
    lr = h.lrBackbone, wd = h.weightDecay, m = h.momentum;
  }
}

NECO_TEST(Schedules, iterationsPerEpochDropsTheLastPartialBatch) {
  NECO_CHECK_EQ(iterationsPerEpoch(130, 64), 2);
  NECO_CHECK_EQ(iterationsPerEpoch(130, 16, 2), 4);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, iterationsPerEpoch(63, 64));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, iterationsPerEpoch(100, 0));
}

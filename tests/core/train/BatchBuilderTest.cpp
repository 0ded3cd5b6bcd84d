#include "NecoTest.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "train/BatchBuilder.h"

#include <ATen/ATen.h>

#include <cmath>

using namespace neco::train;

namespace {

MultiCropConfig smallCrops() {
  MultiCropConfig c;
  c.globalSize = 56;
  c.localSize = 28;
  return c;
}

std::vector<SampleCrops> demoSamples(std::uint64_t seed, std::uint64_t epoch, int count) {
  neco::DemoDatasetOptions options;
  std::vector<SampleCrops> out;
  for (int i = 0; i < count; ++i) {
    const at::Tensor image = imageTensor(neco::renderDemoScene(7, i, options).image);
    CropRng rng = CropRng::forSample(seed, epoch, static_cast<std::uint64_t>(i));
    out.push_back(makeSampleCrops(image, smallCrops(), PhotometricConfig{}, rng));
  }
  return out;
}

}  // namespace

NECO_TEST(BatchBuilder, demoImagesBecomeADeterministicBatch) {
  const NecoBatch a = collate(demoSamples(400, 0, 2)), b = collate(demoSamples(400, 0, 2));
  const NecoBatch other = collate(demoSamples(400, 1, 2));
  NECO_REQUIRE(a.crops.size() == 6);
  NECO_CHECK_EQ(a.crops[0].size(0), 2);
  NECO_CHECK_EQ(a.crops[0].size(2), 56);
  NECO_CHECK_EQ(a.crops[5].size(3), 28);
  NECO_CHECK_EQ(a.inGlobal.size(1), 2);
  NECO_CHECK_EQ(a.inCrop.size(1), 6);
  for (std::size_t v = 0; v < 6; ++v) NECO_CHECK(a.crops[v].equal(b.crops[v]));  // same (seed, epoch, index)
  NECO_CHECK(!a.crops[0].equal(other.crops[0]));                                   // another epoch
  // a global crop paired with itself is the whole crop
  NECO_CHECK_NEAR(a.inGlobal[1][1][1][2].item<double>(), 56.0, 1e-9);
  NECO_CHECK_NEAR(a.inGlobal[0][0][0][0].item<double>(), 0.0, 1e-12);
  // normalised crops: finite, roughly centred (ImageNet statistics on textured scenes)
  for (const at::Tensor& c : a.crops) {
    NECO_REQUIRE(c.isfinite().all().item<bool>());
    NECO_REQUIRE(std::abs(c.mean().item<double>()) < 2.5);
  }
}

NECO_TEST(BatchBuilder, aStepRunsOnDemoCrops) {
  StepConfig config;
  config.head = HeadConfig{64, 32};
  config.schedule.totalSteps = 10;
  config.queueLength = 256;
  NecoStep trainer(neco::nn::ViTConfig::tiny(), config);
  const StepReport r = trainer.step(collate(demoSamples(400, 0, 2)));
  NECO_CHECK(std::isfinite(r.loss) && !r.skipped);
  // a cross-entropy over 49 ranks; near -log(1e-12) = 27.6 it would mean the student's probabilities
  // sit at the log floor (a broken pipeline), far below it they are real distributions
  NECO_CHECK(r.loss > 0 && r.loss < 20);
}

NECO_TEST(BatchBuilder, rejectsBadInput) {
  NECO_CHECK_THROWS(neco::InvalidArgumentError, imageTensor(neco::RgbImage{}));
  CropRng rng(1);
  NECO_CHECK_THROWS(neco::InvalidArgumentError,
                    makeSampleCrops(at::rand({4, 20, 20}), smallCrops(), PhotometricConfig{}, rng));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, collate({}));
  std::vector<SampleCrops> mixed = demoSamples(1, 0, 2);
  mixed[1].crops.pop_back();
  NECO_CHECK_THROWS(neco::InvalidArgumentError, collate(mixed));
}

#include "NecoTest.h"
#include "TrainerFixtures.h"
#include "neco/core/Error.h"
#include "train/BatchLoader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <set>

using namespace neco::train;

namespace {

BatchPlan tinyPlan() {
  const TrainerConfig c = neco::test::tinyTrainerConfig();
  return BatchPlan{c.seed, c.batchSize, c.crops, c.photometric};
}

bool sameBatch(const LoadedBatch& a, const LoadedBatch& b) {
  if (a.indices != b.indices || a.batch.crops.size() != b.batch.crops.size()) return false;
  for (std::size_t v = 0; v < a.batch.crops.size(); ++v) {
    if (!at::equal(a.batch.crops[v], b.batch.crops[v])) return false;
  }
  return at::equal(a.batch.inGlobal, b.batch.inGlobal) && at::equal(a.batch.inCrop, b.batch.inCrop);
}

/// The demo scenes, with some indices that throw as an unreadable file would.
class FlakySource final : public SampleSource {
 public:
  FlakySource(std::set<std::int64_t> bad, bool allBad = false)
      : inner_(demoSampleSource(neco::test::tinyDemo())), bad_(std::move(bad)), allBad_(allBad) {}
  std::int64_t size() const override { return inner_->size(); }
  neco::RgbImage image(std::int64_t i) const override {
    if (allBad_ || bad_.count(i) != 0) throw neco::FormatError("scene" + std::to_string(i) + ".jpg", "truncated JPEG");
    return inner_->image(i);
  }
  std::string describe(std::int64_t i) const override { return inner_->describe(i); }

 private:
  std::unique_ptr<SampleSource> inner_;
  std::set<std::int64_t> bad_;
  bool allBad_;
};

}  // namespace

NECO_TEST(BatchLoader, epochOrderIsASeededPermutation) {
  const auto a = epochOrder(50, 3, 0), b = epochOrder(50, 3, 0), c = epochOrder(50, 3, 1), d = epochOrder(50, 4, 0);
  NECO_CHECK(a == b);
  NECO_CHECK(a != c);
  NECO_CHECK(a != d);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 50; ++i) NECO_CHECK_EQ(sorted[static_cast<std::size_t>(i)], i);
}

NECO_TEST(BatchLoader, threadsAndStartStepDoNotChangeTheBatches) {
  const auto source = demoSampleSource(neco::test::tinyDemo());
  BatchLoader inline0(*source, tinyPlan(), 0, 1);
  BatchLoader threaded(*source, tinyPlan(), 2, 3);
  std::vector<LoadedBatch> reference;
  for (int s = 0; s < 6; ++s) {  // 4 steps per epoch: crosses into epoch 1
    reference.push_back(inline0.next());
    const LoadedBatch t = threaded.next();
    NECO_CHECK_EQ(t.step, s);
    NECO_CHECK_EQ(t.epoch, s / 4);
    NECO_CHECK(sameBatch(reference.back(), t));
  }
  BatchLoader late(*source, tinyPlan(), 2, 2, /*firstStep=*/3);  // a resume at step 3
  for (int s = 3; s < 6; ++s) NECO_CHECK(sameBatch(reference[static_cast<std::size_t>(s)], late.next()));
  // one epoch uses every image at most once (drop_last)
  std::set<std::int64_t> seen;
  for (int s = 0; s < 4; ++s) seen.insert(reference[static_cast<std::size_t>(s)].indices.begin(), reference[static_cast<std::size_t>(s)].indices.end());
  NECO_CHECK_EQ(seen.size(), std::size_t{8});
}

NECO_TEST(BatchLoader, badSamplesAreReplacedAndReported) {
  FlakySource source({2, 5});
  BatchLoader loader(source, tinyPlan(), 2, 2);
  std::size_t skipped = 0;
  for (int s = 0; s < 4; ++s) {
    const LoadedBatch b = loader.next();
    for (std::int64_t i : b.indices) NECO_CHECK(i != 2 && i != 5);
    for (const std::string& r : b.skipped) NECO_CHECK(r.find("truncated JPEG") != std::string::npos);
    skipped += b.skipped.size();
  }
  NECO_CHECK_EQ(skipped, std::size_t{2});  // each bad image is drawn once per epoch
}

NECO_TEST(BatchLoader, anUnusableDatasetStopsWithTheReason) {
  FlakySource source({}, /*allBad=*/true);
  BatchLoader loader(source, tinyPlan(), 1, 1);
  try {
    loader.next();
    NECO_CHECK(false);
  } catch (const neco::TrainingError& e) {
    NECO_CHECK(std::string(e.what()).find("could not be used") != std::string::npos);
    NECO_CHECK(std::string(e.what()).find("truncated JPEG") != std::string::npos);
  }
  const auto tinySource = demoSampleSource(neco::test::tinyDemo(1));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, BatchLoader(*tinySource, tinyPlan(), 0, 1));
}

#include "NecoTest.h"
#include "TrainerFixtures.h"
#include "neco/core/Error.h"
#include "train/BatchLoader.h"
#include "train/TrainingCheckpoint.h"

#include <ATen/ATen.h>

#include <fstream>

using namespace neco::train;
namespace fs = std::filesystem;

namespace {

StepConfig stepConfig() {
  StepConfig c = neco::test::tinyTrainerConfig().step;
  c.globalCrops = 2;
  c.schedule.totalSteps = 50;
  c.seed = 5;
  return c;
}

/// A NecoStep that has run `steps` steps (so the optimizer, queue and RNGs all have state).
std::unique_ptr<NecoStep> trained(int steps) {
  auto step = std::make_unique<NecoStep>(neco::nn::ViTConfig::tiny(), stepConfig());
  const auto source = demoSampleSource(neco::test::tinyDemo());
  const TrainerConfig tc = neco::test::tinyTrainerConfig();
  BatchLoader loader(*source, BatchPlan{tc.seed, tc.batchSize, tc.crops, tc.photometric}, 0, 1);
  for (int s = 0; s < steps; ++s) step->step(loader.next().batch);
  return step;
}

RunCounters countersOf(NecoStep& s) {
  RunCounters c;
  c.step = s.stepIndex();
  c.skippedSteps = s.skippedSteps();
  c.skippedSamples = 3;
  c.configFingerprint = "abc123";
  return c;
}

void flipByte(const fs::path& file, std::uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

}  // namespace

NECO_TEST(TrainingCheckpoint, roundTripRestoresEveryTensorAndCounter) {
  neco::test::TempFolder tmp("ckpt");
  auto a = trained(2);
  CheckpointStore store(tmp.path / "checkpoints");
  const fs::path dir = store.save(*a, countersOf(*a));
  NECO_CHECK_EQ(dir.filename().string(), checkpointName(2));
  NECO_CHECK(fs::exists(dir / "manifest.json"));
  NECO_CHECK(store.latest().value() == dir);

  auto b = std::make_unique<NecoStep>(neco::nn::ViTConfig::tiny(), stepConfig());
  const RunCounters c = CheckpointStore::load(dir, *b, "abc123");
  NECO_CHECK_EQ(c.step, 2);
  NECO_CHECK_EQ(c.skippedSamples, 3);
  NECO_CHECK_EQ(b->stepIndex(), 2);
  const auto pa = a->student()->named_parameters(), pb = b->student()->named_parameters();
  for (const auto& p : pa) NECO_CHECK(at::equal(p.value(), pb[p.key()]));
  const auto ta = a->teacher()->named_parameters(), tb = b->teacher()->named_parameters();
  for (const auto& p : ta) NECO_CHECK(at::equal(p.value(), tb[p.key()]));
  NECO_CHECK(at::equal(a->queue()->storage(), b->queue()->storage()));
  NECO_CHECK(a->queue()->fillCounts() == b->queue()->fillCounts());
  NECO_CHECK(at::equal(a->generator().get_state(), b->generator().get_state()));
  NECO_CHECK(at::equal(a->dropPathGenerator().get_state(), b->dropPathGenerator().get_state()));
  // the next step is identical: optimizer moments and step counts came back too
  const auto source = demoSampleSource(neco::test::tinyDemo());
  const TrainerConfig tc = neco::test::tinyTrainerConfig();
  BatchLoader loader(*source, BatchPlan{tc.seed, tc.batchSize, tc.crops, tc.photometric}, 0, 1, 2);
  const NecoBatch batch = loader.next().batch;
  const StepReport ra = a->step(batch), rb = b->step(batch);
  NECO_CHECK_EQ(ra.loss, rb.loss);
  for (const auto& p : a->student()->named_parameters()) NECO_CHECK(at::equal(p.value(), b->student()->named_parameters()[p.key()]));
}

NECO_TEST(TrainingCheckpoint, aDifferentConfigurationIsRefusedBeforeAnythingChanges) {
  neco::test::TempFolder tmp("ckpt");
  auto a = trained(1);
  CheckpointStore store(tmp.path);
  const fs::path dir = store.save(*a, countersOf(*a));
  auto b = std::make_unique<NecoStep>(neco::nn::ViTConfig::tiny(), stepConfig());
  const at::Tensor before = b->student()->named_parameters()[0].value().clone();
  NECO_CHECK_THROWS(neco::InvalidArgumentError, CheckpointStore::load(dir, *b, "another"));
  NECO_CHECK(at::equal(before, b->student()->named_parameters()[0].value()));
  NECO_CHECK_EQ(b->stepIndex(), 0);
  StepConfig other = stepConfig();
  other.head = HeadConfig{64, 16};
  NecoStep c(neco::nn::ViTConfig::tiny(), other);
  NECO_CHECK_THROWS(neco::FormatError, CheckpointStore::load(dir, c));
}

NECO_TEST(TrainingCheckpoint, damagedCheckpointsAreSkippedAndTemporariesRemoved) {
  neco::test::TempFolder tmp("ckpt");
  auto a = trained(1);
  CheckpointStore store(tmp.path);
  const fs::path first = store.save(*a, countersOf(*a));
  RunCounters later = countersOf(*a);
  later.step = 7;
  const fs::path second = store.save(*a, later);
  NECO_CHECK(store.latest().value() == second);

  fs::create_directory(tmp.path / (".tmp-" + checkpointName(9) + "-123"));  // a crashed save
  flipByte(second / "state.safetensors", fs::file_size(second / "state.safetensors") / 2);
  NECO_CHECK_THROWS(neco::FormatError, CheckpointStore::verify(second));
  std::vector<std::string> notes;
  NECO_CHECK(store.latest(&notes).value() == first);
  NECO_CHECK(fs::exists(tmp.path / (".tmp-" + checkpointName(9) + "-123")));  // latest() only reads
  store.removeTemporaries(&notes);
  NECO_CHECK(!fs::exists(tmp.path / (".tmp-" + checkpointName(9) + "-123")));
  bool mentioned = false;
  for (const auto& n : notes) mentioned = mentioned || n.find("SHA-256") != std::string::npos;
  NECO_CHECK(mentioned);

  // a garbage pointer falls back to the scan; an uncommitted folder (no manifest) is never trusted
  std::ofstream(tmp.path / "latest") << "../../etc";
  fs::remove(second / "manifest.json");
  NECO_CHECK(store.latest().value() == first);
  fs::remove(first / "manifest.json");
  NECO_CHECK(!store.latest().has_value());
}

NECO_TEST(TrainingCheckpoint, pruneKeepsTheNewest) {
  neco::test::TempFolder tmp("ckpt");
  auto a = trained(1);
  CheckpointStore store(tmp.path);
  for (int s : {1, 2, 3, 4}) {
    RunCounters c = countersOf(*a);
    c.step = s;
    store.save(*a, c);
  }
  store.prune(2);
  const auto left = store.list();
  NECO_REQUIRE(left.size() == 2);
  NECO_CHECK_EQ(left[0].filename().string(), checkpointName(3));
  NECO_CHECK_EQ(left[1].filename().string(), checkpointName(4));
  NECO_CHECK(store.latest().value() == left[1]);
}

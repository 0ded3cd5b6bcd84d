#include "NecoTest.h"
#include "TrainerFixtures.h"
#include "neco/core/Error.h"
#include "train/Trainer.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <fstream>
#include <thread>

using namespace neco::train;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<const SampleSource> tinySource() { return demoSampleSource(neco::test::tinyDemo()); }

struct Recorded {
  std::vector<double> losses;
  std::vector<std::int64_t> steps;
};

TrainerCallbacks recordInto(Recorded& r) {
  TrainerCallbacks cb;
  cb.onStep = [&r](const TrainerProgress& p) {
    r.losses.push_back(p.report.loss);
    r.steps.push_back(p.report.step);
  };
  return cb;
}

bool sameWeights(Trainer& a, Trainer& b) {
  const auto pb = b.step().student()->named_parameters(), tb = b.step().teacher()->named_parameters();
  for (const auto& p : a.step().student()->named_parameters()) {
    if (!at::equal(p.value(), pb[p.key()])) return false;
  }
  for (const auto& p : a.step().teacher()->named_parameters()) {
    if (!at::equal(p.value(), tb[p.key()])) return false;
  }
  return true;
}

/// Sets an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* value) : name(n) { ::setenv(n, value, 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

}  // namespace

NECO_TEST(Trainer, runsTheScheduleAndWritesMetricsAndCheckpoints) {
  neco::test::TempFolder tmp("trainer");
  TrainerConfig c = neco::test::tinyTrainerConfig();
  c.checkpointEvery = 3;
  Recorded r;
  Trainer t(c, tinySource(), tmp.path, recordInto(r));
  NECO_CHECK_EQ(t.iterationsPerEpoch(), 4);
  NECO_CHECK_EQ(t.totalSteps(), 8);
  const TrainerResult result = t.run();
  NECO_CHECK(result.outcome == TrainerOutcome::Finished);
  NECO_CHECK_EQ(result.stepsDone, 8);
  NECO_CHECK_EQ(r.losses.size(), std::size_t{8});
  for (double l : r.losses) NECO_CHECK(std::isfinite(l) && l > 0);
  std::ifstream metrics(tmp.path / "metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(metrics, line)) {
    NECO_CHECK(line.find("\"step\":" + std::to_string(lines) + ",") == 1);
    NECO_CHECK(line.find("\"loss\":") != std::string::npos && line.find("\"data_ms\":") != std::string::npos);
    ++lines;
  }
  NECO_CHECK_EQ(lines, 8);
  CheckpointStore store(tmp.path / "checkpoints");
  NECO_CHECK(store.latest().value().filename() == checkpointName(8));
  NECO_CHECK_EQ(store.list().size(), std::size_t{3});  // steps 3, 6 and the final 8
  NECO_CHECK(t.snapshot() != nullptr && t.snapshot()->step == 8);
}

NECO_TEST(Trainer, resumeIsBitIdenticalToAnUninterruptedRun) {
  // RELIABILITY.md promise 2: 2N steps == N steps, a fresh process state, resume, N steps.
  neco::test::TempFolder straight("straight"), split("split");
  TrainerConfig c = neco::test::tinyTrainerConfig();
  c.checkpointEvery = 100;
  Recorded whole, firstHalf, secondHalf;
  Trainer a(c, tinySource(), straight.path, recordInto(whole));
  a.run();
  TrainerConfig half = c;
  half.maxSteps = 5;  // stops mid-epoch, between checkpoints of the cadence
  {
    Trainer b(half, tinySource(), split.path, recordInto(firstHalf));
    NECO_CHECK(!b.resumeFromLatest().has_value());
    NECO_CHECK_EQ(b.run().stepsDone, 5);
    at::manual_seed(12345);  // the global generator is not part of the state: disturbing it changes nothing
  }
  Trainer resumed(c, tinySource(), split.path, recordInto(secondHalf));
  NECO_CHECK_EQ(resumed.resumeFromLatest().value_or(-1), 5);
  resumed.run();
  NECO_REQUIRE(whole.losses.size() == 8 && firstHalf.losses.size() == 5 && secondHalf.losses.size() == 3);
  for (std::size_t i = 0; i < 5; ++i) NECO_CHECK_EQ(whole.losses[i], firstHalf.losses[i]);
  for (std::size_t i = 0; i < 3; ++i) {
    NECO_CHECK_EQ(secondHalf.steps[i], static_cast<std::int64_t>(5 + i));
    NECO_CHECK_EQ(whole.losses[5 + i], secondHalf.losses[i]);
  }
  NECO_CHECK(sameWeights(a, resumed));
  // metrics of the split run read like one run
  std::ifstream metrics(split.path / "metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(metrics, line)) NECO_CHECK(line.find("\"step\":" + std::to_string(lines++) + ",") == 1);
  NECO_CHECK_EQ(lines, 8);
}

NECO_TEST(Trainer, pauseSingleStepAndStopFromAnotherThread) {
  neco::test::TempFolder tmp("trainer");
  TrainerConfig c = neco::test::tinyTrainerConfig();
  c.epochs = 50;
  std::atomic<int> steps{0}, pauses{0};
  TrainerCallbacks cb;
  cb.onStep = [&](const TrainerProgress&) { ++steps; };
  cb.onPauseChanged = [&](bool paused) {
    if (paused) ++pauses;
  };
  Trainer t(c, tinySource(), tmp.path, cb);
  t.pause();  // paused before the first step
  TrainerResult result;
  std::thread worker([&] { result = t.run(); });
  const auto waitFor = [](const std::function<bool()>& cond) {
    for (int i = 0; i < 600 && !cond(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return cond();
  };
  NECO_CHECK(waitFor([&] { return pauses.load() == 1; }));
  NECO_CHECK_EQ(steps.load(), 0);
  t.stepOnce();
  NECO_CHECK(waitFor([&] { return steps.load() == 1 && pauses.load() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  NECO_CHECK_EQ(steps.load(), 1);  // still paused after the single step
  NECO_CHECK(t.snapshot()->step == 1);
  t.resume();
  NECO_CHECK(waitFor([&] { return steps.load() >= 3; }));
  t.stop();
  worker.join();
  NECO_CHECK(result.outcome == TrainerOutcome::Stopped);
  NECO_CHECK(result.stepsDone < 400);
  NECO_REQUIRE(result.lastCheckpoint.has_value());
  NECO_CHECK_EQ(result.lastCheckpoint->filename().string(), checkpointName(result.stepsDone));

  // a signal-style stop while paused is noticed too
  Trainer again(c, tinySource(), tmp.path);
  NECO_CHECK_EQ(again.resumeFromLatest().value_or(-1), result.stepsDone);
  again.pause();
  std::thread w2([&] { result = again.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  again.requestStopFromSignal();
  w2.join();
  NECO_CHECK(result.outcome == TrainerOutcome::Stopped);
}

NECO_TEST(Trainer, nonFiniteStepsAreSkippedThenTheRunStops) {
  neco::test::TempFolder tmp("trainer");
  TrainerConfig c = neco::test::tinyTrainerConfig();
  c.step.maxConsecutiveNonFinite = 3;
  {
    ScopedEnv fault("NECO_FAULT", "nan-loss:2:2");  // two bad steps: skipped, the run goes on
    Recorded r;
    Trainer t(c, tinySource(), tmp.path / "a", recordInto(r));
    NECO_CHECK_EQ(t.run().stepsDone, 8);
    NECO_CHECK(std::isnan(r.losses[2]) && std::isnan(r.losses[3]) && std::isfinite(r.losses[4]));
    NECO_CHECK_EQ(t.step().skippedSteps(), 2);
  }
  {
    ScopedEnv fault("NECO_FAULT", "nan-loss:1:100");
    Trainer t(c, tinySource(), tmp.path / "b");
    try {
      t.run();
      NECO_CHECK(false);
    } catch (const neco::TrainingError& e) {
      NECO_CHECK(std::string(e.what()).find("3 consecutive") != std::string::npos);
    }
  }
}

NECO_TEST(Trainer, rejectsInconsistentSettings) {
  neco::test::TempFolder tmp("trainer");
  TrainerConfig c = neco::test::tinyTrainerConfig();
  c.batchSize = 9;  // 8 images
  NECO_CHECK_THROWS(neco::InvalidArgumentError, Trainer(c, tinySource(), tmp.path));
  c = neco::test::tinyTrainerConfig();
  c.crops.globalCrops = 3;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, Trainer(c, tinySource(), tmp.path));
  // a run folder of another configuration is not resumed
  c = neco::test::tinyTrainerConfig();
  c.maxSteps = 1;
  Trainer(c, tinySource(), tmp.path / "run").run();
  TrainerConfig other = neco::test::tinyTrainerConfig();
  other.seed = 99;
  Trainer t(other, tinySource(), tmp.path / "run");
  NECO_CHECK_THROWS(neco::InvalidArgumentError, t.resumeFromLatest());
}

NECO_TEST(Trainer, monitorMeasuresHeldOutLossAndAgreementOnSchedule) {
  neco::test::TempFolder tmp("trainer");
  TrainerConfig c = neco::test::tinyTrainerConfig();
  c.monitorEvery = 3;
  neco::DemoDatasetOptions demo = neco::test::tinyDemo();
  demo.valCount = 4;
  std::vector<std::int64_t> measured;
  TrainerCallbacks cb;
  cb.onStep = [&](const TrainerProgress& p) {
    if (p.monitor) {
      measured.push_back(p.monitor->step);
      NECO_CHECK(std::isfinite(p.monitor->heldOutLoss) && p.monitor->heldOutLoss > 0);
      NECO_CHECK(p.monitor->agreement > -1.0 && p.monitor->agreement <= 1.0);
    }
  };
  Trainer t(c, tinySource(), tmp.path, cb);
  t.setMonitor(*demoValidationSource(demo));
  const at::Tensor before = t.step().student()->named_parameters()[0].value().clone();
  t.run();
  NECO_CHECK((measured == std::vector<std::int64_t>{3, 6, 8}));
  std::ifstream in(tmp.path / "monitor.jsonl");
  std::string line;
  std::vector<std::string> rows;
  while (std::getline(in, line)) rows.push_back(line);
  NECO_REQUIRE(rows.size() == 4);  // before the first step, then 3, 6, 8
  NECO_CHECK(rows[0].rfind("{\"step\":0,", 0) == 0);
  // measuring does not change training: same losses as an unmonitored run
  neco::test::TempFolder plain("trainer");
  Recorded a, b;
  TrainerConfig once = c;
  once.maxSteps = 4;
  Trainer m(once, tinySource(), tmp.path / "m", recordInto(a));
  m.setMonitor(*demoValidationSource(demo));
  m.run();
  Trainer u(once, tinySource(), plain.path, recordInto(b));
  u.run();
  NECO_CHECK(a.losses == b.losses);
  NECO_CHECK(!at::equal(before, t.step().student()->named_parameters()[0].value()));
}

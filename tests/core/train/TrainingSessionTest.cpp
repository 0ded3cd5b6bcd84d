#include "NecoTest.h"
#include "TrainerFixtures.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "neco/core/Training.h"

#include <fstream>

namespace fs = std::filesystem;

namespace {

neco::TrainingRequest tinyDemoRequest(const fs::path& out, std::int64_t steps) {
  neco::TrainingRequest r;
  r.demo = true;
  r.outDir = out;
  r.maxSteps = steps;
  r.overrides = {"data.size_crops=[56, 28]",        "data.nmb_samples=[2, 2]", "train.batch_size=4",
                 "train.projection_hidden_dim=64",  "train.projection_feat_dim=32",
                 "train.queue_length=256",          "neco.monitor_every=2"};
  return r;
}

}  // namespace

NECO_TEST(TrainingSession, demoRunWithLiveWeightsCallbacksAndResume) {
  neco::test::TempFolder tmp("session");
  const fs::path run = tmp.path / "run";
  std::int64_t progressed = 0, checkpoints = 0, monitored = 0;
  {
    neco::TrainingSession session(tinyDemoRequest(run, 2));
    NECO_CHECK(session.liveExtractor(false) == nullptr || session.liveExtractor(false)->describe().weights.find("step 0") != std::string::npos);
    NECO_CHECK(session.describe().find("batch 4") != std::string::npos);
    neco::TrainingCallbacks cb;
    cb.onProgress = [&](const neco::TrainingProgress& p) {
      ++progressed;
      monitored += p.monitored ? 1 : 0;
      NECO_CHECK(std::isfinite(p.loss));
    };
    cb.onCheckpoint = [&](const fs::path& dir, std::int64_t step) {
      ++checkpoints;
      NECO_CHECK(fs::exists(dir / "manifest.json") && step == 2);
    };
    const neco::TrainingSummary summary = session.run(cb);
    NECO_CHECK(!summary.stopped);
    NECO_CHECK_EQ(summary.stepsDone, 2);
    NECO_CHECK_EQ(progressed, 2);
    NECO_CHECK_EQ(checkpoints, 1);
    NECO_CHECK_EQ(monitored, 1);
    const auto student = session.liveExtractor(false), teacher = session.liveExtractor(true);
    NECO_REQUIRE(student && teacher);
    NECO_CHECK(student->describe().weights.find("student") != std::string::npos);
    NECO_CHECK(student->describe().weights.find("step 2") != std::string::npos);
    const neco::RgbImage image = neco::renderDemoScene(7, 0, neco::DemoDatasetOptions{}).image;
    const neco::PatchFeatures s = student->extract(image, 56), t = teacher->extract(image, 56);
    NECO_CHECK_EQ(s.patchCount(), 16);
    NECO_CHECK(s.tokens != t.tokens);  // the student moved away from its EMA teacher
  }
  NECO_CHECK(fs::exists(run / "config.yml") && fs::exists(run / "metrics.csv") && fs::exists(run / "monitor.jsonl"));
  // a new run in that folder is refused; --resume continues it with its own config
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::TrainingSession(tinyDemoRequest(run, 4)));
  neco::TrainingRequest resume;
  resume.resumeDir = run;
  resume.maxSteps = 3;
  neco::TrainingSession again(resume);
  NECO_CHECK_EQ(again.startStep(), 2);
  NECO_CHECK_EQ(again.run().stepsDone, 3);
  // bad requests name the problem
  neco::TrainingRequest neither;
  neither.outDir = tmp.path / "other";
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::TrainingSession(neither));
  neco::TrainingRequest badKey = tinyDemoRequest(tmp.path / "bad", 2);
  badKey.overrides.push_back("train.sort_net=quicksort");
  try {
    neco::TrainingSession s(badKey);
    NECO_CHECK(false);
  } catch (const neco::InvalidArgumentError& e) {
    NECO_CHECK(std::string(e.what()).find("sort_net") != std::string::npos);
  }
}

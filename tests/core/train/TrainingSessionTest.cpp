#include "NecoTest.h"
#include "TrainerFixtures.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "neco/core/Training.h"

#include <cmath>
#include <fstream>
#include <memory>
#include <utility>

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

NECO_TEST(TrainingSession, xrayShowsTheNextStepOnItsOwnBatch) {
  // Pause after the first step, ask for an X-ray, resume: the step that follows runs on the batch the
  // X-ray showed and reports exactly its loss; the geometry is consistent between image and crops.
  neco::test::TempFolder tmp("xray");
  neco::TrainingSession session(tinyDemoRequest(tmp.path / "run", 3));
  std::shared_ptr<const neco::TrainingXRay> xray;
  std::string error;
  double nextLoss = std::nan("");
  neco::TrainingCallbacks cb;
  cb.onProgress = [&](const neco::TrainingProgress& p) {
    if (p.stepsDone == 1) session.pause();
    if (xray && p.step == xray->step) nextLoss = p.loss;
  };
  cb.onPauseChanged = [&](bool paused) {
    if (paused && !xray && error.empty()) session.requestXRay(2);
  };
  cb.onXRay = [&](std::shared_ptr<const neco::TrainingXRay> x, const std::string& e) {
    xray = std::move(x);
    error = e;
    session.resume();
  };
  NECO_CHECK_EQ(session.run(cb).stepsDone, 3);
  NECO_CHECK_EQ(error, std::string());
  NECO_REQUIRE(xray != nullptr);
  NECO_CHECK_EQ(xray->step, 1);
  NECO_CHECK_EQ(xray->stepLoss, nextLoss);
  NECO_CHECK_EQ(xray->references, std::string("queue"));
  NECO_CHECK_EQ(xray->batchSize, 4);
  NECO_CHECK_EQ(xray->roiSize, 7);
  NECO_REQUIRE(xray->images.size() == 2u);
  for (const neco::XRayImage& image : xray->images) {
    NECO_CHECK(!image.name.empty() && !image.source.empty());
    NECO_REQUIRE(image.crops.size() == 4u);
    for (const neco::XRayCrop& crop : image.crops) {
      NECO_CHECK_EQ(crop.pixels.width, crop.size);
      NECO_CHECK_EQ(crop.size, crop.global ? 56 : 28);
      NECO_CHECK(crop.inImage.x1 >= 0 && crop.inImage.y1 >= 0 && crop.inImage.x2 <= image.source.width &&
                 crop.inImage.y2 <= image.source.height && crop.inImage.width() > 0);
      NECO_CHECK(!crop.augmentation.empty());
    }
    NECO_REQUIRE(image.pairs.size() == 6u);
    for (const neco::XRayPair& pair : image.pairs) {
      NECO_CHECK(pair.traced);
      NECO_CHECK_EQ(pair.studentSimilarity.size(), 49u * 49u);
      NECO_CHECK_EQ(pair.teacherSimilarity.size(), 49u * 49u);
      NECO_CHECK_EQ(pair.patchLoss.size(), 49u);
      NECO_CHECK_EQ(pair.references.size(), 49u);
      NECO_CHECK(pair.references[0].fromQueue && pair.references[0].slot >= 0);
      NECO_CHECK(std::isfinite(pair.imageLoss) && pair.imageLoss > 0);
      // the intersection seen from the image maps onto its boxes in both crops
      for (const auto& [box, crop] : {std::pair{pair.inGlobal, image.crops[static_cast<std::size_t>(pair.global)]},
                                      std::pair{pair.inOther, image.crops[static_cast<std::size_t>(pair.other)]}}) {
        const double sx = crop.size / crop.inImage.width(), sy = crop.size / crop.inImage.height();
        NECO_CHECK_NEAR(box.x1, (pair.inImage.x1 - crop.inImage.x1) * sx, 1e-6);
        NECO_CHECK_NEAR(box.y2, (pair.inImage.y2 - crop.inImage.y1) * sy, 1e-6);
      }
    }
  }
}

NECO_TEST(TrainingSession, historyOfARunFolderReadsItsMetricsAndMonitorRows) {
  neco::test::TempFolder tmp("history");
  const fs::path run = tmp.path / "run";
  NECO_CHECK(neco::readTrainingHistory(run).empty());  // no run yet
  {
    neco::TrainingSession session(tinyDemoRequest(run, 4));
    session.run();
  }
  std::ofstream(run / "metrics.jsonl", std::ios::app) << "{\"step\":4,\"loss\":3.";  // a crash cut this line
  const std::vector<neco::TrainingProgress> rows = neco::readTrainingHistory(run);
  NECO_REQUIRE(rows.size() == 4u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    NECO_CHECK_EQ(rows[i].stepsDone, static_cast<std::int64_t>(i) + 1);
    NECO_CHECK(std::isfinite(rows[i].loss) && rows[i].lrHead > 0 && rows[i].stepMs > 0);
    NECO_CHECK_EQ(rows[i].monitored, rows[i].stepsDone % 2 == 0);  // neco.monitor_every=2
  }
  NECO_CHECK(std::isfinite(rows[3].heldOutLoss) && rows[3].agreement >= -1 && rows[3].agreement <= 1);
}

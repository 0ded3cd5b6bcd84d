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

NECO_TEST(TrainingSession, denseEvaluationDuringTrainingIsStreamedLoggedAndResumed) {
  neco::test::TempFolder tmp("evaluation");
  const fs::path run = tmp.path / "run";
  std::vector<neco::TrainingEvaluation> seen;
  {
    neco::TrainingRequest r = tinyDemoRequest(run, 4);
    r.overrides.push_back("neco.eval_every=2");
    neco::TrainingSession session(r);
    bool noted = false;
    for (const std::string& n : session.notes()) noted = noted || n.find("evaluation: overcluster of the student") != std::string::npos;
    NECO_CHECK(noted);
    neco::TrainingCallbacks cb;
    cb.onEvaluation = [&](const neco::TrainingEvaluation& e) { seen.push_back(e); };
    session.run(cb);
  }
  // before the first step, then every 2 steps
  NECO_REQUIRE(seen.size() == 3u);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    NECO_CHECK_EQ(seen[i].step, static_cast<std::int64_t>(2 * i));
    NECO_CHECK_EQ(seen[i].protocol, std::string("overcluster"));
    NECO_CHECK_EQ(seen[i].part, std::string("student"));
    NECO_CHECK_EQ(seen[i].k, 7);  // the demo's class count
    NECO_CHECK(seen[i].miou > 0 && seen[i].miou < 1 && seen[i].miouPresent >= seen[i].miou);
    NECO_CHECK(seen[i].data.find("16") != std::string::npos);
  }
  NECO_CHECK(seen[0].miou != seen[2].miou);  // the weights moved
  const std::vector<neco::TrainingEvaluation> logged = neco::readEvaluationHistory(run);
  NECO_REQUIRE(logged.size() == 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    NECO_CHECK_EQ(logged[i].step, seen[i].step);
    NECO_CHECK_NEAR(logged[i].miou, seen[i].miou, 1e-9);
  }
  // a resume continues the rows; retrieval of the teacher from the command line
  neco::TrainingRequest resume;
  resume.resumeDir = run;
  resume.maxSteps = 6;
  resume.overrides = {"neco.eval_protocol=nn-retrieval", "neco.eval_part=teacher", "neco.eval_every=2"};
  {
    neco::TrainingSession again(resume);
    neco::TrainingCallbacks cb;
    cb.onEvaluation = [&](const neco::TrainingEvaluation& e) { seen.push_back(e); };
    again.run(cb);
  }
  NECO_REQUIRE(seen.size() == 4u);  // no new "before" row on a resume
  NECO_CHECK_EQ(seen[3].step, 6);
  NECO_CHECK_EQ(seen[3].protocol, std::string("nn-retrieval"));
  NECO_CHECK_EQ(seen[3].part, std::string("teacher"));
  NECO_CHECK_EQ(neco::readEvaluationHistory(run).size(), 4u);
  // bad settings name the key
  for (const std::string& bad : {std::string("neco.eval_protocol=linear"), std::string("neco.eval_part=both"),
                                 std::string("neco.eval_seeds=0"), std::string("neco.eval_dataset=coco")}) {
    neco::TrainingRequest r = tinyDemoRequest(tmp.path / ("bad-" + std::to_string(seen.size())), 2);
    r.overrides.push_back("neco.eval_every=2");
    r.overrides.push_back(bad);
    try {
      neco::TrainingSession s(r);
      NECO_CHECK(false);
    } catch (const neco::InvalidArgumentError& e) {
      NECO_CHECK(std::string(e.what()).find(bad.substr(0, bad.find('='))) != std::string::npos);
    }
  }
}

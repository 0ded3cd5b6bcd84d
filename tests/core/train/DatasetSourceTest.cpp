#include "NecoTest.h"
#include "TrainerFixtures.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"
#include "train/DatasetSource.h"
#include "train/Trainer.h"

#include <fstream>
#include <sstream>

using namespace neco::train;
namespace fs = std::filesystem;

namespace {

std::string bytesOf(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A small demo dataset on disk (VOC layout): 6 train + 2 val images.
fs::path writeSmallDemo(const fs::path& root) {
  neco::DemoDatasetOptions o;
  o.trainCount = 6;
  o.valCount = 2;
  o.minSide = 64;
  o.maxSide = 96;
  neco::writeDemoDataset(root, o);
  return root;
}

}  // namespace

NECO_TEST(DatasetSource, theEmbeddedDemoNeedsNoFiles) {
  const OpenedSource s = openSampleSource(DataSourceConfig{});
  NECO_CHECK_EQ(s.source->size(), 48);
  NECO_REQUIRE(s.heldOut != nullptr);
  NECO_CHECK_EQ(s.heldOut->size(), 16);
  NECO_CHECK(s.source->describe(0) != s.heldOut->describe(0));
}

NECO_TEST(DatasetSource, aCorruptImageIsReportedAndStopsTheRunOverTheThreshold) {
  if (!neco::imageCodecsAvailable()) NECO_SKIP("this build has no image codecs");
  neco::test::TempFolder tmp("source");
  const fs::path root = writeSmallDemo(tmp.path / "demo");
  // truncate one photo in the middle: its JPEG end marker is gone
  const fs::path bad = root / "JPEGImages" / (neco::demoSceneId(3) + ".jpg");
  const std::string full = bytesOf(bad);
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << full.substr(0, full.size() / 2);
  const std::string damaged = bytesOf(bad);

  DataSourceConfig folder;
  folder.dataset = "folder";
  folder.root = root / "JPEGImages";
  folder.split = "";
  try {
    openSampleSource(folder);  // 1 of 8 bad > 1 %
    NECO_CHECK(false);
  } catch (const neco::FormatError& e) {
    NECO_CHECK(std::string(e.what()).find(bad.filename().string()) != std::string::npos);
  }
  folder.maxBadFraction = 0.2;
  const OpenedSource s = openSampleSource(folder);
  NECO_CHECK_EQ(s.source->size(), 7);
  bool named = false;
  for (const std::string& n : s.notes) named = named || n.find(bad.filename().string()) != std::string::npos;
  NECO_CHECK(named);
  for (std::int64_t i = 0; i < s.source->size(); ++i) NECO_CHECK(s.source->describe(i).find(bad.filename().string()) == std::string::npos);
  NECO_CHECK(bytesOf(bad) == damaged);  // the user's file is not touched

  // and a run trains on what is left
  TrainerConfig c = neco::test::tinyTrainerConfig();
  c.maxSteps = 2;
  Trainer t(c, s.source, tmp.path / "run");
  NECO_CHECK_EQ(t.run().stepsDone, 2);
}

NECO_TEST(DatasetSource, theDemoDatasetOnDiskHasItsValidationSplitForTheMonitor) {
  if (!neco::imageCodecsAvailable()) NECO_SKIP("this build has no image codecs");
  neco::test::TempFolder tmp("source");
  DataSourceConfig demo;
  demo.dataset = "demo";
  demo.root = writeSmallDemo(tmp.path / "demo");
  const OpenedSource s = openSampleSource(demo);
  NECO_CHECK_EQ(s.source->size(), 6);
  NECO_REQUIRE(s.heldOut != nullptr);
  NECO_CHECK_EQ(s.heldOut->size(), 2);
  NECO_CHECK(s.source->image(0).width >= 64);
  DataSourceConfig missing = demo;
  missing.root = tmp.path / "nowhere";
  NECO_CHECK_THROWS(neco::Error, openSampleSource(missing));
  DataSourceConfig unknown = demo;
  unknown.dataset = "mnist";
  NECO_CHECK_THROWS(neco::InvalidArgumentError, openSampleSource(unknown));
}

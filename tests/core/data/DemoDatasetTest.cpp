// writeDemoDataset: a readable VOC 2012 layout whose files match the renderer, reproducible bytes,
// idempotence, and refusal to touch folders that are not its own.

#include "NecoTest.h"
#include "TestFiles.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

// Every case exists in every build; without codecs the file-based ones skip at their first line.
#define REQUIRE_IMAGE_CODECS() \
  if (!neco::imageCodecsAvailable()) NECO_SKIP("built without image codecs")

namespace {

namespace fs = std::filesystem;
using neco::test::Bytes;
using neco::test::readBytes;
using neco::test::TempDir;
using neco::test::writeBytes;

neco::DemoDatasetOptions smallOptions() {
  neco::DemoDatasetOptions o;
  o.trainCount = 5, o.valCount = 3, o.seed = 11, o.minSide = 96, o.maxSide = 160;
  return o;
}

std::vector<std::string> readLines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Relative path -> contents of every file below `root` (hidden files included).
std::map<std::string, Bytes> snapshot(const fs::path& root) {
  std::map<std::string, Bytes> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), root).generic_string()] = readBytes(entry.path());
  }
  return files;
}

double psnr(const neco::RgbImage& a, const neco::RgbImage& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    const double d = double(a.pixels[i]) - double(b.pixels[i]);
    sum += d * d;
  }
  return 10 * std::log10(255.0 * 255.0 / std::max(sum / a.pixels.size(), 1e-12));
}

bool leftoverStagingFolder(const fs::path& parent) {
  for (const auto& entry : fs::directory_iterator(parent)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

NECO_TEST(DemoDataset, writesAReadableVocLayout) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  const neco::DemoDatasetOptions o;  // the dataset the product ships: 48 + 16 images
  const neco::DemoDatasetSummary summary = neco::writeDemoDataset(tmp / "voc", o);
  NECO_CHECK(summary.created);
  NECO_CHECK(summary.root == tmp / "voc");
  NECO_CHECK(summary.imagesDir == tmp / "voc" / "JPEGImages");
  NECO_CHECK(summary.masksDir == tmp / "voc" / "SegmentationClass");
  NECO_CHECK(summary.imageSetsDir == tmp / "voc" / "ImageSets" / "Segmentation");
  NECO_CHECK_EQ(summary.trainCount, 48);
  NECO_CHECK_EQ(summary.valCount, 16);
  NECO_CHECK_EQ(summary.classCount, 7);
  NECO_CHECK(neco::isDemoDataset(summary.root));
  NECO_CHECK(readLines(summary.root / "classes.txt") == neco::demoClassNames());
  NECO_CHECK(fs::is_regular_file(summary.root / "README.txt"));

  const auto train = readLines(summary.imageSetsDir / "train.txt"), val = readLines(summary.imageSetsDir / "val.txt");
  const auto trainval = readLines(summary.imageSetsDir / "trainval.txt");
  NECO_CHECK_EQ(train.size(), std::size_t{48});
  NECO_CHECK_EQ(val.size(), std::size_t{16});
  const std::set<std::string> trainSet(train.begin(), train.end()), valSet(val.begin(), val.end());
  std::set<std::string> both = trainSet;
  both.insert(valSet.begin(), valSet.end());
  NECO_CHECK_EQ(both.size(), trainSet.size() + valSet.size());  // train and val are disjoint
  NECO_CHECK(std::set<std::string>(trainval.begin(), trainval.end()) == both);
  NECO_CHECK_EQ(trainval.size(), both.size());

  for (const std::string& id : trainval) {
    const int index = std::stoi(id.substr(id.find('_') + 1));
    NECO_REQUIRE(id == neco::demoSceneId(index));
    const neco::DemoScene scene = neco::renderDemoScene(o.seed, index, o);
    std::vector<neco::PaletteColor> palette;
    const neco::LabelImage mask = neco::readPalettePng(summary.masksDir / (id + ".png"), &palette);
    const neco::RgbImage image = neco::readImage(summary.imagesDir / (id + ".jpg"));
    NECO_CHECK(palette == neco::vocPalette());
    NECO_CHECK(mask.labels == scene.labels.labels);
    NECO_REQUIRE(image.width == mask.width && image.height == mask.height);
    NECO_REQUIRE(image.width == scene.image.width && image.height == scene.image.height);
    NECO_CHECK(psnr(image, scene.image) > 30.0);
  }
}

NECO_TEST(DemoDataset, sameOptionsGiveIdenticalBytes) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  neco::writeDemoDataset(tmp / "a", smallOptions());
  neco::writeDemoDataset(tmp / "b", smallOptions());
  const auto a = snapshot(tmp / "a"), b = snapshot(tmp / "b");
  NECO_CHECK_EQ(a.size(), std::size_t{8 * 2 + 3 + 3});  // images, masks, lists, classes, README, marker
  NECO_CHECK(a == b);
}

NECO_TEST(DemoDataset, staleStagingFoldersOfDeadWritersAreRemovedAndNothingElse) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  const long long deadPid = 2147483000LL;  // above any pid_max: kill() answers ESRCH
  auto makeFolder = [&](const std::string& name, bool stagingFile) {
    fs::create_directories(tmp / name / "JPEGImages");
    if (stagingFile) std::ofstream(tmp / name / ".neco-demo-staging") << "x";
    return tmp / name;
  };
  const fs::path stale = makeFolder("voc.tmp-" + std::to_string(deadPid), true);
  const fs::path stale2 = makeFolder("voc.tmp-" + std::to_string(deadPid) + "-3", true);
  const fs::path foreign = makeFolder("voc.tmp-" + std::to_string(deadPid) + "-9", false);   // not ours
  const fs::path alive = makeFolder("voc.tmp-" + std::to_string(::getpid()) + "-7", true);   // writer still running
  const fs::path other = makeFolder("voc.tmpfoo-" + std::to_string(deadPid), true);           // other name shape
  neco::writeDemoDataset(tmp / "voc", smallOptions());
  NECO_CHECK(!fs::exists(stale));
  NECO_CHECK(!fs::exists(stale2));
  NECO_CHECK(fs::exists(foreign));
  NECO_CHECK(fs::exists(alive));
  NECO_CHECK(fs::exists(other));
  NECO_CHECK(!fs::exists(tmp / "voc" / ".neco-demo-staging"));
  NECO_CHECK(neco::isDemoDataset(tmp / "voc"));
}

NECO_TEST(DemoDataset, secondCallIsANoOp) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  neco::writeDemoDataset(tmp / "voc", smallOptions());
  const auto before = snapshot(tmp / "voc");
  const auto time = fs::last_write_time(tmp / "voc" / "JPEGImages" / "demo_000000.jpg");
  const neco::DemoDatasetSummary again = neco::writeDemoDataset(tmp / "voc/", smallOptions());  // trailing slash too
  NECO_CHECK(!again.created);
  NECO_CHECK(again.root == tmp / "voc");
  NECO_CHECK(snapshot(tmp / "voc") == before);
  NECO_CHECK(fs::last_write_time(tmp / "voc" / "JPEGImages" / "demo_000000.jpg") == time);
}

NECO_TEST(DemoDataset, refusesAForeignFolderAndLeavesItUntouched) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  fs::create_directory(tmp / "mine");
  std::ofstream(tmp / "mine" / "notes.txt") << "precious";
  const auto before = snapshot(tmp / "mine");
  try {
    neco::writeDemoDataset(tmp / "mine", smallOptions());
    NECO_CHECK(false);
  } catch (const neco::InvalidArgumentError& e) {
    NECO_CHECK(std::string(e.what()).find((tmp / "mine").string()) != std::string::npos);
  }
  NECO_CHECK(snapshot(tmp / "mine") == before);
  NECO_CHECK(!leftoverStagingFolder(tmp.path()));
  std::ofstream(tmp / "file") << "x";
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeDemoDataset(tmp / "file", smallOptions()));
  NECO_CHECK(!neco::isDemoDataset(tmp / "mine"));
  NECO_CHECK(!neco::isDemoDataset(tmp / "does-not-exist"));
}

NECO_TEST(DemoDataset, refusesDifferentOptionsOnAnExistingDemoFolder) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  neco::writeDemoDataset(tmp / "voc", smallOptions());
  const auto before = snapshot(tmp / "voc");
  neco::DemoDatasetOptions other = smallOptions();
  other.seed = 12;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeDemoDataset(tmp / "voc", other));
  other = smallOptions();
  other.valCount = 4;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeDemoDataset(tmp / "voc", other));
  NECO_CHECK(snapshot(tmp / "voc") == before);
  NECO_CHECK(!leftoverStagingFolder(tmp.path()));
}

NECO_TEST(DemoDataset, createsParentsAndFillsAnEmptyFolder) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  NECO_CHECK(neco::writeDemoDataset(tmp / "a" / "b" / "c", smallOptions()).created);
  NECO_CHECK(neco::isDemoDataset(tmp / "a" / "b" / "c"));
  fs::create_directory(tmp / "empty");
  NECO_CHECK(neco::writeDemoDataset(tmp / "empty", smallOptions()).created);
  NECO_CHECK(fs::is_regular_file(tmp / "empty" / "SegmentationClass" / "demo_000007.png"));
  NECO_CHECK(!leftoverStagingFolder(tmp.path()));
}

NECO_TEST(DemoDataset, concurrentWritersAgree) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  // The studio's first run and `neco demo-data` may target the same folder at once: both succeed.
  // A first dataset written on this thread creates spdlog's and OpenCV's lazily built registries, so
  // that a ThreadSanitizer build (whose system libraries are not instrumented) sees only our threads.
  neco::writeDemoDataset(tmp / "warm-up", smallOptions());
  std::vector<neco::DemoDatasetSummary> results(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> writers;
  for (std::size_t i = 0; i < results.size(); ++i) {
    writers.emplace_back([&, i] {
      try {
        results[i] = neco::writeDemoDataset(tmp / "voc", smallOptions());
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (std::thread& t : writers) t.join();
  NECO_CHECK(errors == std::vector<std::string>(2));
  NECO_CHECK(results[0].created || results[1].created);
  NECO_CHECK(neco::isDemoDataset(tmp / "voc"));
  NECO_CHECK_EQ(snapshot(tmp / "voc").size(), std::size_t{8 * 2 + 3 + 3});
  NECO_CHECK(!leftoverStagingFolder(tmp.path()));
}

NECO_TEST(DemoDataset, rejectsBadOptions) {
  TempDir tmp;
  neco::DemoDatasetOptions o = smallOptions();
  o.trainCount = -1;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeDemoDataset(tmp / "x", o));
  o.trainCount = 0, o.valCount = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeDemoDataset(tmp / "x", o));
  o = smallOptions();
  o.maxSide = 20000;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeDemoDataset(tmp / "x", o));
  NECO_CHECK(!fs::exists(tmp / "x"));
}

NECO_TEST(DemoDataset, unsupportedWithoutCodecs) {
  if (neco::imageCodecsAvailable()) NECO_SKIP("this build has image codecs");
  TempDir tmp;
  NECO_CHECK_THROWS(neco::UnsupportedError, neco::writeDemoDataset(tmp / "x", smallOptions()));
  NECO_CHECK(!fs::exists(tmp / "x"));
}

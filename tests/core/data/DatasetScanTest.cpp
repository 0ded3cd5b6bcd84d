// scanDataset: every kind of bad file is reported with its reason (never thrown, never crashing), the
// verdict cache is reused and invalidated by size/mtime, a damaged cache costs only a rescan, the
// threshold of requireUsable, and the dataset's files are never touched.

#include "NecoTest.h"
#include "TestFiles.h"
#include "data/DatasetScan.h"
#include "data/ImageDatasets.h"
#include "formats/Sha256.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#define REQUIRE_IMAGE_CODECS() \
  if (!neco::imageCodecsAvailable()) NECO_SKIP("built without image codecs")

namespace {

namespace fs = std::filesystem;
using neco::data::DatasetKind;
using neco::data::ScanOptions;
using neco::data::ScanReport;
using neco::test::Bytes;
using neco::test::readBytes;
using neco::test::TempDir;
using neco::test::writeBytes;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

neco::RgbImage pattern(int width, int height) {
  neco::RgbImage img{width, height, Bytes(static_cast<std::size_t>(width) * height * 3)};
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<std::uint8_t>(i * 37 % 251);
  return img;
}

void writeImage(const fs::path& path, int width, int height, int quality = 90) {
  fs::create_directories(path.parent_path());
  neco::writeJpeg(path, pattern(width, height), quality);
}

void writeMask(const fs::path& path, int width, int height) {
  fs::create_directories(path.parent_path());
  neco::LabelImage labels{width, height, Bytes(static_cast<std::size_t>(width) * height, 0)};
  labels.labels[0] = 255;
  neco::writePalettePng(path, labels, neco::vocPalette());
}

void appendBe32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void appendChunk(Bytes& out, const char* type, const Bytes& data) {
  appendBe32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t typeAt = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  appendBe32(out, neco::formats::crc32(&out[typeAt], data.size() + 4));
}

// A structurally valid PNG (correct CRCs) whose image data is not even zlib: only a decode finds that.
Bytes handMadePng(std::uint32_t width, std::uint32_t height, std::uint8_t colorType) {
  Bytes png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  Bytes ihdr;
  appendBe32(ihdr, width);
  appendBe32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, colorType, 0, 0, 0});
  appendChunk(png, "IHDR", ihdr);
  if (colorType == 3) appendChunk(png, "PLTE", Bytes{0, 0, 0, 255, 255, 255});
  appendChunk(png, "IDAT", Bytes{1, 2, 3, 4});
  appendChunk(png, "IEND", {});
  return png;
}

// A VOC 2012 tree with one item per kind of defect, each image 32x24 with a 32x24 mask unless broken.
// Sorted ids: good_a, good_b, huge, mismatch, text, trunc, zero.
fs::path makeMixedVoc(const fs::path& root) {
  const fs::path images = root / "JPEGImages", masks = root / "SegmentationClass";
  const std::vector<std::string> ids = {"good_b", "good_a", "trunc", "zero", "text", "huge", "mismatch"};
  for (const std::string& id : ids) {
    writeImage(images / (id + ".jpg"), 32, 24);
    writeMask(masks / (id + ".png"), id == "mismatch" ? 30 : 32, 24);
  }
  Bytes jpeg = readBytes(images / "trunc.jpg");
  jpeg.resize(jpeg.size() - 40);  // cut inside the entropy-coded data, before the end marker
  writeBytes(images / "trunc.jpg", jpeg);
  writeBytes(images / "zero.jpg", {});
  const std::string text = "this is a text file, not a photo\n";
  writeBytes(images / "text.jpg", Bytes(text.begin(), text.end()));
  writeBytes(images / "huge.jpg", handMadePng(100000, 100000, 2));  // a PNG header under a .jpg name
  fs::create_directories(root / "ImageSets" / "Segmentation");
  std::string list;
  for (const std::string& id : ids) list += id + "\n";
  writeBytes(root / "ImageSets" / "Segmentation" / "train.txt", Bytes(list.begin(), list.end()));
  return root;
}

std::vector<std::size_t> badIndices(const ScanReport& r) {
  std::vector<std::size_t> out;
  for (const auto& b : r.bad) out.push_back(b.index);
  return out;
}

ScanOptions optionsIn(const TempDir& tmp) {
  ScanOptions o;
  o.cacheDir = tmp / "cache";
  return o;
}

// Relative path -> SHA-256 of every file below `root`.
std::map<std::string, std::string> hashes(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      out[fs::relative(entry.path(), root).generic_string()] = neco::formats::sha256OfFile(entry.path());
    }
  }
  return out;
}

// `count` copies of one small JPEG in a flat folder, the file at `badAt` replaced by text.
neco::data::ImageDataset folderWithOneBad(const fs::path& root, int count, int badAt) {
  writeImage(root / "img_0000.jpg", 16, 16);
  const Bytes good = readBytes(root / "img_0000.jpg");
  for (int i = 1; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "img_%04d.jpg", i);
    writeBytes(root / name, good);
  }
  char bad[32];
  std::snprintf(bad, sizeof bad, "img_%04d.jpg", badAt);
  writeBytes(root / bad, Bytes{'o', 'o', 'p', 's'});
  return neco::data::openDataset(DatasetKind::Folder, root, "");
}

}  // namespace

NECO_TEST(DatasetScan, reportsEachBadFileWithAReason) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  const auto d = neco::data::openDataset(DatasetKind::Voc, makeMixedVoc(tmp / "voc"), "train");
  NECO_REQUIRE(d.items.size() == 7);
  ScanOptions o = optionsIn(tmp);
  o.useCache = false;
  const ScanReport probe = neco::data::scanDataset(d, o);
  NECO_CHECK_EQ(probe.total, std::size_t{7});
  NECO_CHECK_EQ(probe.checked, std::size_t{7});
  NECO_CHECK_EQ(probe.cached, std::size_t{0});
  NECO_REQUIRE(badIndices(probe) == (std::vector<std::size_t>{2, 3, 4, 5, 6}));
  const auto& bad = probe.bad;
  NECO_CHECK(bad[0].path == d.items[2].image && contains(bad[0].reason, "100000x100000"));
  NECO_CHECK(bad[1].path == *d.items[3].mask && contains(bad[1].reason, "mask is 30x24"));
  NECO_CHECK(contains(bad[1].reason, d.items[3].image.string()) && contains(bad[1].reason, "32x24"));
  NECO_CHECK(bad[2].path == d.items[4].image && contains(bad[2].reason, "unknown image format"));
  NECO_CHECK(bad[3].path == d.items[5].image && contains(bad[3].reason, "truncated JPEG"));
  NECO_CHECK(bad[4].path == d.items[6].image && contains(bad[4].reason, "empty file"));
  for (const auto& b : bad) NECO_CHECK(contains(b.reason, b.path.string()));
  NECO_CHECK_NEAR(probe.badFraction(), 5.0 / 7.0, 1e-12);

  // A full decode finds the same files for the same reasons.
  o.decode = true;
  const ScanReport decoded = neco::data::scanDataset(d, o);
  NECO_REQUIRE(badIndices(decoded) == badIndices(probe));
  for (std::size_t i = 0; i < bad.size(); ++i) {
    NECO_CHECK(decoded.bad[i].path == bad[i].path);
    NECO_CHECK_EQ(decoded.bad[i].reason, bad[i].reason);
  }
}

NECO_TEST(DatasetScan, probeNeedsNoCodecsButDecodingDoes) {
  TempDir tmp;
  const fs::path root = tmp / "photos";
  fs::create_directories(root);
  writeBytes(root / "a.png", handMadePng(40, 30, 2));  // passes the probe; its data is not zlib
  writeBytes(root / "b.png", {});
  const std::string text = "hello";
  writeBytes(root / "c.jpg", Bytes(text.begin(), text.end()));
  const auto d = neco::data::openDataset(DatasetKind::Folder, root, "");
  ScanOptions o = optionsIn(tmp);
  const ScanReport r = neco::data::scanDataset(d, o);
  NECO_CHECK(badIndices(r) == (std::vector<std::size_t>{1, 2}));
  const neco::ImageProbe probe = neco::probeImage(root / "a.png");
  NECO_CHECK(probe.format == neco::ImageFileFormat::Png && probe.width == 40 && probe.height == 30);
  writeBytes(root / "m.png", handMadePng(7, 5, 3));
  NECO_CHECK_EQ(neco::probeMaskPng(root / "m.png").width, 7);
  NECO_CHECK_THROWS(neco::FormatError, neco::probeMaskPng(root / "a.png"));  // colour type 2: not a mask
  o.decode = true;
  if (neco::imageCodecsAvailable()) {
    NECO_CHECK(badIndices(neco::data::scanDataset(d, o)) == (std::vector<std::size_t>{0, 1, 2}));
  } else {
    NECO_CHECK_THROWS(neco::UnsupportedError, neco::data::scanDataset(d, o));
  }
}

NECO_TEST(DatasetScan, cacheIsReusedAndInvalidatedByChanges) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  const auto d = neco::data::openDataset(DatasetKind::Voc, makeMixedVoc(tmp / "voc"), "train");
  const ScanOptions o = optionsIn(tmp);
  const ScanReport first = neco::data::scanDataset(d, o);
  NECO_CHECK_EQ(first.checked, std::size_t{7});
  const fs::path cacheFile = neco::data::scanCachePath(d, o);
  NECO_CHECK(cacheFile.parent_path() == tmp / "cache");
  NECO_CHECK(fs::is_regular_file(cacheFile));

  const ScanReport second = neco::data::scanDataset(d, o);
  NECO_CHECK_EQ(second.checked, std::size_t{0});
  NECO_CHECK_EQ(second.cached, second.total);
  NECO_REQUIRE(second.bad.size() == first.bad.size());
  for (std::size_t i = 0; i < first.bad.size(); ++i) {
    NECO_CHECK_EQ(second.bad[i].index, first.bad[i].index);
    NECO_CHECK(second.bad[i].path == first.bad[i].path);
    NECO_CHECK_EQ(second.bad[i].reason, first.bad[i].reason);
  }

  // A changed good image (other size) is checked again; so is a repaired bad one.
  const fs::path goodA = d.items[0].image;
  const auto oldSize = fs::file_size(goodA);
  writeImage(goodA, 32, 24, 40);
  NECO_REQUIRE(fs::file_size(goodA) != oldSize);
  writeImage(d.items[6].image, 32, 24);  // "zero" is a real photo now
  const ScanReport third = neco::data::scanDataset(d, o);
  NECO_CHECK_EQ(third.checked, std::size_t{2});
  NECO_CHECK_EQ(third.cached, std::size_t{5});
  NECO_CHECK(badIndices(third) == (std::vector<std::size_t>{2, 3, 4, 5}));
  // A changed mask invalidates its item too.
  writeMask(*d.items[3].mask, 32, 24);
  const ScanReport fourth = neco::data::scanDataset(d, o);
  NECO_CHECK_EQ(fourth.checked, std::size_t{1});
  NECO_CHECK(badIndices(fourth) == (std::vector<std::size_t>{2, 4, 5}));

  // The decode scan has its own cache; useCache = false reads and writes none.
  ScanOptions decode = o;
  decode.decode = true;
  NECO_CHECK(neco::data::scanCachePath(d, decode) != cacheFile);
  NECO_CHECK_EQ(neco::data::scanDataset(d, decode).checked, std::size_t{7});
  NECO_CHECK_EQ(neco::data::scanDataset(d, decode).cached, std::size_t{7});
  ScanOptions noCache = o;
  noCache.useCache = false;
  NECO_CHECK_EQ(neco::data::scanDataset(d, noCache).checked, std::size_t{7});
}

NECO_TEST(DatasetScan, damagedCacheIsIgnoredAndRebuilt) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  const auto d = neco::data::openDataset(DatasetKind::Voc, makeMixedVoc(tmp / "voc"), "train");
  const ScanOptions o = optionsIn(tmp);
  const ScanReport reference = neco::data::scanDataset(d, o);
  const fs::path cacheFile = neco::data::scanCachePath(d, o);
  const Bytes good = readBytes(cacheFile);

  const std::vector<Bytes> damaged = {
      Bytes{0x00, 0xFF, 0x13, 0x37},                                                         // binary garbage
      Bytes(good.begin(), std::find(good.begin() + good.size() / 2, good.end(), '\t') + 1),  // cut mid-line
      [&] {
        Bytes b = good;
        const std::string x = "junk\tline\n";
        b.insert(b.end(), x.begin(), x.end());
        return b;
      }(),
      [&] {
        Bytes b = good;
        b[good.size() - 3] = '\\';
        return b;
      }(),  // a broken escape
      {},   // empty
  };
  for (const Bytes& bytes : damaged) {
    writeBytes(cacheFile, bytes);
    const ScanReport r = neco::data::scanDataset(d, o);
    NECO_CHECK_EQ(r.checked, std::size_t{7});
    NECO_CHECK(badIndices(r) == badIndices(reference));
    NECO_CHECK_EQ(neco::data::scanDataset(d, o).cached, std::size_t{7});  // rebuilt
  }
  // A cache that cannot even be opened (a folder in its place) or written: still no error.
  fs::remove(cacheFile);
  fs::create_directories(cacheFile);
  NECO_CHECK_EQ(neco::data::scanDataset(d, o).checked, std::size_t{7});
  NECO_CHECK_EQ(neco::data::scanDataset(d, o).checked, std::size_t{7});
}

NECO_TEST(DatasetScan, requireUsableThreshold) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  const auto big = folderWithOneBad(tmp / "big", 200, 17);
  const ScanReport bigReport = neco::data::scanDataset(big, optionsIn(tmp));
  NECO_REQUIRE(bigReport.bad.size() == 1);
  neco::data::requireUsable(bigReport);  // 0.5 % <= 1 %: passes
  NECO_CHECK_EQ(neco::data::withoutBad(big, bigReport).items.size(), std::size_t{199});

  const auto small = folderWithOneBad(tmp / "small", 10, 3);
  const ScanReport smallReport = neco::data::scanDataset(small, optionsIn(tmp));
  NECO_REQUIRE(smallReport.bad.size() == 1);
  std::string message;
  try {
    neco::data::requireUsable(smallReport);
  } catch (const neco::FormatError& e) {
    message = e.what();
  }
  NECO_CHECK(contains(message, (tmp / "small").string()));
  NECO_CHECK(contains(message, "1 of 10") && contains(message, "10.00 %"));
  NECO_CHECK(contains(message, (tmp / "small" / "img_0003.jpg").string()) && contains(message, "unknown image format"));
  NECO_CHECK_THROWS(neco::FormatError, neco::data::requireUsable(bigReport, 0.0));  // evaluation: none allowed
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::data::requireUsable(bigReport, -0.5));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::data::requireUsable(bigReport, 1.5));

  const auto kept = neco::data::withoutBad(small, smallReport);
  NECO_REQUIRE(kept.items.size() == 9);
  NECO_CHECK(std::none_of(kept.items.begin(), kept.items.end(),
                          [&](const auto& item) { return item.image == small.items[3].image; }));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::data::withoutBad(big, smallReport));
  // Many bad files: the message lists the first few and counts the rest.
  ScanReport many = smallReport;
  for (std::size_t i = 0; i < 8; ++i) many.bad.push_back({i, "x", "reason " + std::to_string(i)});
  try {
    neco::data::requireUsable(many);
  } catch (const neco::FormatError& e) {
    message = e.what();
  }
  NECO_CHECK(contains(message, "and 4 more"));
}

NECO_TEST(DatasetScan, demoDatasetIsAllGood) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  neco::DemoDatasetOptions demo;
  demo.trainCount = 6, demo.valCount = 3, demo.minSide = 64, demo.maxSide = 128;
  const auto summary = neco::writeDemoDataset(tmp / "demo", demo);
  for (const char* split : {"train", "val"}) {
    const auto d = neco::data::openDataset(DatasetKind::Demo, summary.root, split);
    for (bool decode : {false, true}) {
      ScanOptions o = optionsIn(tmp);
      o.decode = decode;
      const ScanReport r = neco::data::scanDataset(d, o);
      NECO_CHECK_EQ(r.total, d.items.size());
      NECO_CHECK(r.bad.empty());
      neco::data::requireUsable(r, 0.0);
    }
  }
}

NECO_TEST(DatasetScan, neverChangesTheDatasetFiles) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  const fs::path root = makeMixedVoc(tmp / "voc");
  const auto before = hashes(root);
  const auto d = neco::data::openDataset(DatasetKind::Voc, root, "train");
  ScanOptions o = optionsIn(tmp);
  neco::data::scanDataset(d, o);
  neco::data::scanDataset(d, o);  // from the cache
  o.decode = true;
  neco::data::scanDataset(d, o);
  ScanOptions inside;
  inside.cacheDir = root / "cache";  // refused: no cache inside the dataset
  neco::data::scanDataset(d, inside);
  NECO_CHECK(!fs::exists(root / "cache"));
  NECO_CHECK(hashes(root) == before);  // same files, same bytes, nothing added
}

NECO_TEST(DatasetScan, threadCountDoesNotChangeTheReportAndProgressCanCancel) {
  REQUIRE_IMAGE_CODECS();
  TempDir tmp;
  const auto d = folderWithOneBad(tmp / "many", 60, 41);
  ScanOptions o = optionsIn(tmp);
  o.useCache = false;
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  o.progress = [&](std::size_t done, std::size_t total) { calls.emplace_back(done, total); };
  o.threads = 1;
  const ScanReport one = neco::data::scanDataset(d, o);
  NECO_REQUIRE(!calls.empty());
  NECO_CHECK(calls.back() == std::make_pair(std::size_t{60}, std::size_t{60}));
  for (std::size_t i = 1; i < calls.size(); ++i) NECO_CHECK(calls[i].first >= calls[i - 1].first);
  o.threads = 5;
  const ScanReport five = neco::data::scanDataset(d, o);
  NECO_CHECK(badIndices(one) == (std::vector<std::size_t>{41}));
  NECO_CHECK(badIndices(five) == badIndices(one));
  NECO_CHECK_EQ(five.bad[0].reason, one.bad[0].reason);
  o.threads = -1;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::data::scanDataset(d, o));

  // A progress callback that throws cancels the scan; nothing is cached.
  o.threads = 0;
  o.useCache = true;
  o.progress = [](std::size_t, std::size_t) { throw std::runtime_error("cancelled"); };
  NECO_CHECK_THROWS(std::runtime_error, neco::data::scanDataset(d, o));
  NECO_CHECK(!fs::exists(neco::data::scanCachePath(d, o)));
}

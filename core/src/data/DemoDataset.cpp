// Writes the demo dataset in the Pascal VOC 2012 layout, atomically and without touching user files.

#include "neco/core/DemoDataset.h"

#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <system_error>

#ifdef _WIN32
#include <process.h>
#else
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace neco {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMarkerFile = ".neco-demo";
// Written first into every staging folder: only folders carrying it are ever cleaned up.
constexpr const char* kStagingFile = ".neco-demo-staging";
// Bump the version when the generator's output changes: an old folder then counts as "other options".
constexpr const char* kMarkerMagic = "neco-demo-dataset";
constexpr const char* kMarkerVersion = "1";
constexpr int kJpegQuality = 95;

long long processId() {
#ifdef _WIN32
  return _getpid();
#else
  return static_cast<long long>(::getpid());
#endif
}

void validateOptions(const DemoDatasetOptions& o) {
  if (o.trainCount < 0 || o.valCount < 0 || o.trainCount + 0ll + o.valCount < 1 ||
      o.trainCount + 0ll + o.valCount > kDemoMaxImages) {
    throw InvalidArgumentError("demo dataset needs 0 <= trainCount, valCount and 1.." + std::to_string(kDemoMaxImages) +
                               " images in all, got " + std::to_string(o.trainCount) + " + " +
                               std::to_string(o.valCount));
  }
  if (o.minSide < kDemoMinSide || o.maxSide < o.minSide || o.maxSide > kDemoMaxSide) {
    throw InvalidArgumentError("demo dataset sides must satisfy " + std::to_string(kDemoMinSide) +
                               " <= minSide <= maxSide <= " + std::to_string(kDemoMaxSide) + ", got " +
                               std::to_string(o.minSide) + ".." + std::to_string(o.maxSide));
  }
}

std::string markerText(const DemoDatasetOptions& o) {
  return std::string(kMarkerMagic) + " " + kMarkerVersion + "\ntrainCount=" + std::to_string(o.trainCount) +
         "\nvalCount=" + std::to_string(o.valCount) + "\nseed=" + std::to_string(o.seed) +
         "\nminSide=" + std::to_string(o.minSide) + "\nmaxSide=" + std::to_string(o.maxSide) + "\n";
}

std::string readSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(4096, '\0');  // a marker is a few lines; never read an arbitrary file whole
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return text;
}

void writeTextFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw IoError(path, "cannot write the file");
}

void createDirectories(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir, "cannot create the folder: " + ec.message());
}

// Absolute, without "." / ".." parts or a trailing separator, so that the sibling and rename work.
fs::path normalizedRoot(const fs::path& root) {
  if (root.empty()) throw InvalidArgumentError("the demo dataset folder must not be an empty path");
  std::error_code ec;
  fs::path p = fs::absolute(root, ec).lexically_normal();
  if (ec) throw IoError(root, "cannot resolve the path: " + ec.message());
  if (!p.has_filename()) p = p.parent_path();
  if (p == p.root_path()) {
    throw InvalidArgumentError("refusing to write the demo dataset into the root folder " + p.string());
  }
  return p;
}

// True when `root` already holds this very dataset; throws when writing there could touch user files.
bool alreadyPresent(const fs::path& root, const std::string& marker) {
  std::error_code ec;
  const fs::file_status status = fs::status(root, ec);
  if (ec && status.type() != fs::file_type::not_found) throw IoError(root, "cannot inspect: " + ec.message());
  if (!fs::exists(status)) return false;
  if (!fs::is_directory(status)) throw InvalidArgumentError(root.string() + " exists and is not a folder");
  const bool empty = fs::is_empty(root, ec);
  if (ec) throw IoError(root, "cannot list: " + ec.message());
  if (empty) return false;
  if (!isDemoDataset(root)) {
    throw InvalidArgumentError("refusing to write the demo dataset into " + root.string() +
                               ": the folder is not empty and is not a demo dataset");
  }
  if (readSmallFile(root / kMarkerFile) != marker) {
    throw InvalidArgumentError("the demo dataset in " + root.string() +
                               " was made with other options or by another generator version; choose another folder");
  }
  return true;
}

bool processAlive(long long pid) {
#ifdef _WIN32
  return true;  // no cheap check: never clean up on Windows
#else
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
#endif
}

// A writer killed mid-way leaves "<root>.tmp-<pid>[-n]" behind. Such a folder is removed only when
// its name has exactly that shape, it carries our staging file, and its process no longer exists.
void removeStaleStagingFolders(const fs::path& root) {
  const std::string prefix = root.filename().string() + ".tmp-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const std::string pidText = rest.substr(0, rest.find('-'));
    if (pidText.empty() || pidText.find_first_not_of("0123456789") != std::string::npos) continue;
    if (processAlive(std::stoll(pidText)) || !fs::is_regular_file(entry.path() / kStagingFile, ec)) continue;
    spdlog::info("removing the staging folder {} left by an interrupted run", entry.path().string());
    fs::remove_all(entry.path(), ec);
  }
}

// Claims a fresh sibling folder atomically (creating a folder fails on an existing name), so that two
// writers never share one, not even two threads of one process.
fs::path claimStagingFolder(const fs::path& root) {
  const std::string base = root.filename().string() + ".tmp-" + std::to_string(processId());
  for (int n = 0; n < 1000; ++n) {
    fs::path candidate = root.parent_path() / (n == 0 ? base : base + "-" + std::to_string(n));
    std::error_code ec;
    if (fs::create_directory(candidate, ec)) {
      std::ofstream(candidate / kStagingFile) << "staging folder of the NeCo demo dataset generator\n";
      return candidate;
    }
    if (ec && ec != std::errc::file_exists) {
      throw IoError(candidate, "cannot create the staging folder: " + ec.message());
    }
  }
  throw IoError(root.parent_path(), "cannot find a free name for the staging folder of " + root.filename().string());
}

void writeScenes(const fs::path& dir, const DemoDatasetOptions& o) {
  const std::vector<PaletteColor> palette = vocPalette();
  const int total = o.trainCount + o.valCount;
  for (int i = 0; i < total; ++i) {
    const DemoScene scene = renderDemoScene(o.seed, i, o);
    const std::string id = demoSceneId(i);
    writeJpeg(dir / "JPEGImages" / (id + ".jpg"), scene.image, kJpegQuality);
    writePalettePng(dir / "SegmentationClass" / (id + ".png"), scene.labels, palette);
    if ((i + 1) % 16 == 0 || i + 1 == total) spdlog::info("demo dataset: {}/{} images written", i + 1, total);
  }
}

void writeImageSets(const fs::path& dir, const DemoDatasetOptions& o) {
  std::string train, val;
  for (int i = 0; i < o.trainCount + o.valCount; ++i) (i < o.trainCount ? train : val) += demoSceneId(i) + "\n";
  writeTextFile(dir / "train.txt", train);
  writeTextFile(dir / "val.txt", val);
  writeTextFile(dir / "trainval.txt", train + val);
}

std::string readmeText(const DemoDatasetOptions& o) {
  std::string text =
      "NeCo Studio demo dataset (Pascal VOC 2012 layout)\n\n"
      "Made by NeCo's built-in generator, without any download: every file is a pure function of the\n"
      "options below (regenerate with `neco demo-data --out DIR`).\n\n";
  text += "seed " + std::to_string(o.seed) + ", " + std::to_string(o.trainCount) + " train + " +
          std::to_string(o.valCount) + " val images, sides " + std::to_string(o.minSide) + ".." +
          std::to_string(o.maxSide) + " px\n\n";
  text +=
      "Each scene is a textured background (fine noise, soft gradient or grass-like strokes) with 1-4\n"
      "textured shapes that may overlap (later ones on top). Every foreground class is a fixed\n"
      "(shape, texture) pairing with per-instance colours, so the texture identifies the class.\n\n"
      "Classes (index name):\n";
  const std::vector<std::string> names = demoClassNames();
  for (std::size_t i = 0; i < names.size(); ++i) text += "  " + std::to_string(i) + " " + names[i] + "\n";
  text +=
      "  255 void: a 2-3 px band along every boundary between two labels, ignored by metrics\n\n"
      "JPEGImages/<id>.jpg           images, JPEG quality 95\n"
      "SegmentationClass/<id>.png    8-bit palette PNG masks with the VOC colour map\n"
      "ImageSets/Segmentation/       train.txt, val.txt, trainval.txt (one id per line)\n"
      "classes.txt                   class names in index order\n";
  return text;
}

void writeDatasetInto(const fs::path& dir, const DemoDatasetOptions& o, const std::string& marker) {
  createDirectories(dir / "JPEGImages");
  createDirectories(dir / "SegmentationClass");
  createDirectories(dir / "ImageSets" / "Segmentation");
  writeScenes(dir, o);
  writeImageSets(dir / "ImageSets" / "Segmentation", o);
  std::string classes;
  for (const std::string& name : demoClassNames()) classes += name + "\n";
  writeTextFile(dir / "classes.txt", classes);
  writeTextFile(dir / "README.txt", readmeText(o));
  writeTextFile(dir / kMarkerFile, marker);
}

}  // namespace

std::string demoSceneId(int index) {
  char id[32];
  std::snprintf(id, sizeof id, "demo_%06d", index);
  return id;
}

bool isDemoDataset(const std::filesystem::path& root) noexcept {
  try {
    std::error_code ec;
    if (!fs::is_regular_file(root / kMarkerFile, ec) || ec) return false;
    return readSmallFile(root / kMarkerFile).rfind(std::string(kMarkerMagic) + " ", 0) == 0;
  } catch (...) {  // bad_alloc or a stream exception: "not a demo dataset" is the honest answer
    return false;
  }
}

DemoDatasetSummary writeDemoDataset(const std::filesystem::path& rootPath, const DemoDatasetOptions& options) {
  validateOptions(options);
  if (!imageCodecsAvailable()) {
    throw UnsupportedError(
        "cannot write the demo dataset: this build has no image codecs (configured without OpenCV/zlib)");
  }
  DemoDatasetSummary summary;
  summary.root = normalizedRoot(rootPath);
  summary.imagesDir = summary.root / "JPEGImages";
  summary.masksDir = summary.root / "SegmentationClass";
  summary.imageSetsDir = summary.root / "ImageSets" / "Segmentation";
  summary.trainCount = options.trainCount;
  summary.valCount = options.valCount;
  summary.classCount = static_cast<int>(demoClassNames().size());
  const std::string marker = markerText(options);
  if (alreadyPresent(summary.root, marker)) {
    spdlog::info("demo dataset already present at {}", summary.root.string());
    return summary;
  }
  createDirectories(summary.root.parent_path());
  spdlog::info("writing demo dataset ({} train + {} val images, seed {}) to {}", options.trainCount, options.valCount,
               options.seed, summary.root.string());
  removeStaleStagingFolders(summary.root);
  const fs::path staging = claimStagingFolder(summary.root);
  try {
    writeDatasetInto(staging, options, marker);
    fs::rename(staging, summary.root);  // replaces an empty folder; fails if someone filled it meanwhile
    std::error_code ignored;
    fs::remove(summary.root / kStagingFile, ignored);
  } catch (const fs::filesystem_error& e) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);  // only our own staging folder, never anything under root
    // The studio and the CLI may both have been writing the very same dataset: theirs is as good.
    if (isDemoDataset(summary.root) && readSmallFile(summary.root / kMarkerFile) == marker) return summary;
    throw IoError(summary.root, std::string("cannot move the finished dataset into place: ") + e.code().message());
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
  summary.created = true;
  spdlog::info("demo dataset ready at {}", summary.root.string());
  return summary;
}

}  // namespace neco

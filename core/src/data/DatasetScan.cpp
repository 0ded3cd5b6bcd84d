// The pre-scan: checks every item on a few threads, caching verdicts per (size, mtime) of its files.

#include "data/DatasetScan.h"

#include "formats/AtomicFile.h"
#include "formats/Sha256.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"
#include "neco/core/Paths.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace neco::data {
namespace {

namespace fs = std::filesystem;

// Bump the version whenever a check changes, so that old verdicts are not trusted.
constexpr const char* kCacheMagic = "neco-dataset-scan 1";
constexpr std::uintmax_t kMaxCacheFileBytes = 1024ull * 1024 * 1024;
constexpr std::size_t kItemsPerChunk = 8;
constexpr int kMaxDefaultThreads = 8;
constexpr int kMaxThreads = 64;
constexpr std::size_t kBadFilesInMessage = 5;

struct FileStamp {
  std::uintmax_t size = 0;
  long long mtimeNs = 0;
  bool operator==(const FileStamp& o) const noexcept { return size == o.size && mtimeNs == o.mtimeNs; }
};

enum class Culprit { None, Image, Mask };

struct Verdict {
  Culprit culprit = Culprit::None;
  std::string reason;
  bool cacheable = true;  // false for I/O failures (a chmod fixes them without changing the file)
};

// One item's cache record: the files' relative paths and stamps, and the verdict on them.
struct Record {
  std::string image, mask;  // mask "" when the item has none
  FileStamp imageStamp, maskStamp;
  Verdict verdict;
  bool valid = false;  // false when a file could not be stat'ed: never cached
};

std::optional<FileStamp> stampOf(const fs::path& file) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) return std::nullopt;
  const fs::file_time_type time = fs::last_write_time(file, ec);
  if (ec) return std::nullopt;
  return FileStamp{size, std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count()};
}

std::string relativeKey(const fs::path& file, const fs::path& root) {
  const fs::path relative = file.lexically_relative(root);
  const std::string key = relative.generic_string();
  return key.empty() || key.rfind("..", 0) == 0 ? file.generic_string() : key;
}

// Cache fields are tab-separated on one line; file names and messages may hold tabs and newlines.
constexpr char kEscapable[] = {'\\', '\t', '\n', '\r'};
constexpr char kEscapeLetters[] = {'\\', 't', 'n', 'r'};

std::string escapeField(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const char* hit = std::find(std::begin(kEscapable), std::end(kEscapable), c);
    if (hit == std::end(kEscapable)) {
      out += c;
    } else {
      out += '\\';
      out += kEscapeLetters[hit - std::begin(kEscapable)];
    }
  }
  return out;
}

std::optional<std::string> unescapeField(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    const char* hit = std::find(std::begin(kEscapeLetters), std::end(kEscapeLetters), s[i]);
    if (hit == std::end(kEscapeLetters)) return std::nullopt;
    out += kEscapable[hit - std::begin(kEscapeLetters)];
  }
  return out;
}

std::vector<std::string> splitTabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) {
    fields.push_back(line.substr(start, tab - start));
  }
  fields.push_back(line.substr(start));
  return fields;
}

template <typename Integer>
bool parseInteger(const std::string& s, Integer& out) {
  std::istringstream in(s);
  in >> out;
  return !s.empty() && in && in.peek() == std::char_traits<char>::eof();
}

fs::path canonicalRoot(const fs::path& root) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(root, ec);
  if (ec) canonical = fs::absolute(root, ec);
  return ec ? root : canonical;
}

// The line identifying what a cache file is for; a file with another identity line is not used.
std::string identityLine(const ImageDataset& dataset, bool decode) {
  return escapeField(datasetKindName(dataset.kind)) + "\t" + escapeField(canonicalRoot(dataset.root).string()) + "\t" +
         escapeField(dataset.split) + "\t" + (decode ? "decode" : "probe");
}

std::string formatRecord(const Record& r) {
  const char* culprit = r.verdict.culprit == Culprit::None    ? "ok"
                        : r.verdict.culprit == Culprit::Image ? "image"
                                                              : "mask";
  return escapeField(r.image) + "\t" + std::to_string(r.imageStamp.size) + "\t" + std::to_string(r.imageStamp.mtimeNs) +
         "\t" + escapeField(r.mask) + "\t" + std::to_string(r.maskStamp.size) + "\t" +
         std::to_string(r.maskStamp.mtimeNs) + "\t" + culprit + "\t" + escapeField(r.verdict.reason) + "\n";
}

std::optional<Record> parseRecord(const std::string& line) {
  const std::vector<std::string> f = splitTabs(line);
  if (f.size() != 8) return std::nullopt;
  Record r;
  const auto image = unescapeField(f[0]), mask = unescapeField(f[3]), reason = unescapeField(f[7]);
  if (!image || image->empty() || !mask || !reason) return std::nullopt;
  if (!parseInteger(f[1], r.imageStamp.size) || !parseInteger(f[2], r.imageStamp.mtimeNs) ||
      !parseInteger(f[4], r.maskStamp.size) || !parseInteger(f[5], r.maskStamp.mtimeNs)) {
    return std::nullopt;
  }
  if (f[6] == "image") {
    r.verdict.culprit = Culprit::Image;
  } else if (f[6] == "mask") {
    r.verdict.culprit = Culprit::Mask;
  } else if (f[6] != "ok") {
    return std::nullopt;
  }
  if ((r.verdict.culprit == Culprit::None) != reason->empty()) return std::nullopt;
  r.image = *image, r.mask = *mask, r.verdict.reason = *reason, r.valid = true;
  return r;
}

using RecordMap = std::unordered_map<std::string, Record>;

// The cached records keyed by image path; empty when the file is missing, unreadable or malformed in
// any way (a damaged cache only costs a rescan).
RecordMap loadCache(const fs::path& file, const std::string& identity) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec || size > kMaxCacheFileBytes) return {};
  std::ifstream in(file, std::ios::binary);
  std::string magic, id;
  if (!std::getline(in, magic) || magic != kCacheMagic || !std::getline(in, id) || id != identity) {
    if (in.is_open()) spdlog::debug("dataset scan: ignoring the cache {} (other version or dataset)", file.string());
    return {};
  }
  RecordMap records;
  for (std::string line; std::getline(in, line);) {
    std::optional<Record> r = parseRecord(line);
    if (!r) {
      spdlog::warn("dataset scan: ignoring the damaged cache {}; rescanning", file.string());
      return {};
    }
    const std::string key = r->image;
    records[key] = std::move(*r);
  }
  if (in.bad()) return {};
  return records;
}

void saveCache(const fs::path& file, const std::string& identity, const std::vector<Record>& records) {
  std::string text = std::string(kCacheMagic) + "\n" + identity + "\n";
  for (const Record& r : records) {
    if (r.valid && r.verdict.cacheable) text += formatRecord(r);
  }
  try {
    fs::create_directories(file.parent_path());
    formats::writeFileAtomically(file, text.data(), text.size());
  } catch (const std::exception& e) {
    spdlog::warn("dataset scan: cannot write the cache {}: {}", file.string(), e.what());
  }
}

bool isInside(const fs::path& inner, const fs::path& outer) {
  const fs::path a = canonicalRoot(inner), b = canonicalRoot(outer);
  auto ai = a.begin();
  for (const fs::path& part : b) {
    if (part.empty()) continue;  // a trailing separator
    if (ai == a.end() || *ai != part) return false;
    ++ai;
  }
  return true;
}

std::string reasonOf(const std::exception& e, const fs::path& file) {
  if (dynamic_cast<const Error*>(&e)) return e.what();  // core's messages name the file already
  return file.string() + ": " + e.what();
}

Verdict checkItem(const DatasetItem& item, bool decode) {
  int width = 0, height = 0;
  try {
    if (decode) {
      const RgbImage image = readImage(item.image);
      width = image.width, height = image.height;
    } else {
      const ImageProbe probe = probeImage(item.image);
      width = probe.width, height = probe.height;
    }
  } catch (const std::exception& e) {
    return {Culprit::Image, reasonOf(e, item.image), dynamic_cast<const FormatError*>(&e) != nullptr};
  }
  if (!item.mask) return {};
  const fs::path& maskPath = *item.mask;
  try {
    int maskWidth = 0, maskHeight = 0;
    if (decode) {
      const LabelImage mask = readPalettePng(maskPath);
      maskWidth = mask.width, maskHeight = mask.height;
    } else {
      const ImageProbe probe = probeMaskPng(maskPath);
      maskWidth = probe.width, maskHeight = probe.height;
    }
    if (maskWidth != width || maskHeight != height) {
      throw FormatError(maskPath, "mask is " + std::to_string(maskWidth) + "x" + std::to_string(maskHeight) +
                                      " but its image " + item.image.string() + " is " + std::to_string(width) + "x" +
                                      std::to_string(height));
    }
  } catch (const std::exception& e) {
    return {Culprit::Mask, reasonOf(e, maskPath), dynamic_cast<const FormatError*>(&e) != nullptr};
  }
  return {};
}

// Fills `record` for item `item`: from `cache` when the files' stamps still match, else by checking.
// Returns true when the verdict came from the cache.
bool scanItem(const DatasetItem& item, const fs::path& root, bool decode, const RecordMap& cache, Record& record) {
  record.image = relativeKey(item.image, root);
  record.mask = item.mask ? relativeKey(*item.mask, root) : std::string();
  const std::optional<FileStamp> imageStamp = stampOf(item.image);
  const std::optional<FileStamp> maskStamp = item.mask ? stampOf(*item.mask) : FileStamp{};
  record.valid = imageStamp && maskStamp;
  if (record.valid) {
    record.imageStamp = *imageStamp, record.maskStamp = *maskStamp;
    const auto hit = cache.find(record.image);
    if (hit != cache.end() && hit->second.mask == record.mask && hit->second.imageStamp == record.imageStamp &&
        hit->second.maskStamp == record.maskStamp) {
      record.verdict = hit->second.verdict;
      return true;
    }
  }
  record.verdict = checkItem(item, decode);
  return false;
}

int threadCount(const ScanOptions& options, std::size_t items) {
  int threads = options.threads;
  if (threads == 0) threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxDefaultThreads);
  const std::size_t chunks = (items + kItemsPerChunk - 1) / kItemsPerChunk;
  return static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>({std::size_t(threads), chunks, kMaxThreads})));
}

// Runs scanItem over every item on `threads` threads, reporting progress on the calling thread.
// Returns the number of cached verdicts.
std::size_t scanAll(const ImageDataset& dataset, const ScanOptions& options, const RecordMap& cache,
                    std::vector<Record>& records) {
  const std::size_t total = dataset.items.size();
  const int threads = threadCount(options, total);
  std::atomic<std::size_t> next{0}, done{0}, cached{0};
  std::atomic<int> running{threads};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable wake;
  std::exception_ptr workerError;
  const auto work = [&] {
    try {
      while (!stop.load()) {
        const std::size_t begin = next.fetch_add(kItemsPerChunk);
        if (begin >= total) break;
        const std::size_t end = std::min(total, begin + kItemsPerChunk);
        for (std::size_t i = begin; i < end; ++i) {
          if (scanItem(dataset.items[i], dataset.root, options.decode, cache, records[i])) cached.fetch_add(1);
        }
        done.fetch_add(end - begin);
        std::lock_guard<std::mutex> lock(mutex);
        wake.notify_one();
      }
    } catch (...) {  // out of memory in bookkeeping: stop everyone, rethrow on the calling thread
      std::lock_guard<std::mutex> lock(mutex);
      if (!workerError) workerError = std::current_exception();
      stop = true;
    }
    std::lock_guard<std::mutex> lock(mutex);
    --running;
    wake.notify_one();
  };
  std::vector<std::thread> pool;
  const auto joinAll = [&] {
    stop = true;
    for (std::thread& t : pool) t.join();
  };
  try {
    for (int t = 0; t < threads; ++t) pool.emplace_back(work);
    std::size_t reported = total + 1;
    for (;;) {
      const std::size_t now = done.load();
      if (options.progress && now != reported) options.progress(now, total);
      reported = now;
      std::unique_lock<std::mutex> lock(mutex);
      if (running.load() == 0 && done.load() == reported) break;
      wake.wait_for(lock, std::chrono::milliseconds(100),
                    [&] { return done.load() != reported || running.load() == 0; });
    }
  } catch (...) {  // progress threw (a cancel) or a thread could not start
    joinAll();
    throw;
  }
  joinAll();
  if (workerError) std::rethrow_exception(workerError);
  return cached.load();
}

}  // namespace

double ScanReport::badFraction() const noexcept {
  return total == 0 ? 0.0 : static_cast<double>(bad.size()) / static_cast<double>(total);
}

std::filesystem::path scanCachePath(const ImageDataset& dataset, const ScanOptions& options) {
  try {
    const fs::path folder = options.cacheDir ? *options.cacheDir : cacheDirectory() / "dataset-scan";
    const std::string identity = identityLine(dataset, options.decode);
    return folder / (formats::sha256Hex(identity.data(), identity.size()) + ".scan");
  } catch (...) {
    return {};
  }
}

ScanReport scanDataset(const ImageDataset& dataset, const ScanOptions& options) {
  if (options.decode && !imageCodecsAvailable()) {
    throw UnsupportedError("a decoding dataset scan needs the image codecs, which this build lacks");
  }
  if (options.threads < 0) {
    throw InvalidArgumentError("dataset scan: thread count must be >= 0, got " + std::to_string(options.threads));
  }
  fs::path cacheFile;
  if (options.useCache) {
    cacheFile = scanCachePath(dataset, options);
    if (!cacheFile.empty() && isInside(cacheFile.parent_path(), dataset.root)) {
      spdlog::warn("dataset scan: not caching in {}, which is inside the dataset", cacheFile.parent_path().string());
      cacheFile.clear();  // never write into the user's dataset
    }
  }
  const std::string identity = identityLine(dataset, options.decode);
  const RecordMap cache = cacheFile.empty() ? RecordMap{} : loadCache(cacheFile, identity);

  ScanReport report;
  report.root = dataset.root;
  report.total = dataset.items.size();
  std::vector<Record> records(report.total);
  report.cached = scanAll(dataset, options, cache, records);
  report.checked = report.total - report.cached;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Verdict& v = records[i].verdict;
    if (v.culprit == Culprit::None) continue;
    const DatasetItem& item = dataset.items[i];
    report.bad.push_back({i, v.culprit == Culprit::Mask ? *item.mask : item.image, v.reason});
  }
  const auto cacheable = static_cast<std::size_t>(
      std::count_if(records.begin(), records.end(), [](const Record& r) { return r.valid && r.verdict.cacheable; }));
  if (!cacheFile.empty() && (report.checked > 0 || cache.size() != cacheable)) {
    saveCache(cacheFile, identity, records);
  }
  return report;
}

void requireUsable(const ScanReport& report, double maxBadFraction) {
  if (!(maxBadFraction >= 0.0 && maxBadFraction <= 1.0)) {
    throw InvalidArgumentError("the allowed fraction of bad images must be in [0, 1], got " +
                               std::to_string(maxBadFraction));
  }
  if (report.badFraction() <= maxBadFraction) return;
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "%zu of %zu images are unusable (%.2f %%), more than the %.2f %% allowed",
                report.bad.size(), report.total, 100.0 * report.badFraction(), 100.0 * maxBadFraction);
  std::string message = numbers;
  message += "; first bad files:";
  for (std::size_t i = 0; i < report.bad.size() && i < kBadFilesInMessage; ++i)
    message += "\n  " + report.bad[i].reason;
  if (report.bad.size() > kBadFilesInMessage) {
    message += "\n  ... and " + std::to_string(report.bad.size() - kBadFilesInMessage) + " more";
  }
  throw FormatError(report.root, message);
}

ImageDataset withoutBad(const ImageDataset& dataset, const ScanReport& report) {
  if (report.total != dataset.items.size()) {
    throw InvalidArgumentError("scan report of " + std::to_string(report.total) + " items does not belong to the " +
                               std::to_string(dataset.items.size()) + "-item dataset " + dataset.root.string());
  }
  std::vector<bool> drop(dataset.items.size(), false);
  for (const BadItem& b : report.bad) {
    if (b.index >= drop.size())
      throw InvalidArgumentError("scan report names item " + std::to_string(b.index) + " of " +
                                 std::to_string(drop.size()));
    drop[b.index] = true;
  }
  ImageDataset kept = dataset;
  kept.items.clear();
  for (std::size_t i = 0; i < dataset.items.size(); ++i) {
    if (!drop[i]) kept.items.push_back(dataset.items[i]);
  }
  return kept;
}

}  // namespace neco::data

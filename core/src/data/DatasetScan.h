#pragma once
// The validating pre-scan of a dataset (RELIABILITY.md promise 3, images): every image and mask is
// checked before training starts, so a bad file is reported with its reason up front instead of
// killing a run at hour 9. Verdicts are cached per file (size + modification time), so a second scan
// of an unchanged dataset reads no image. The scan never writes into the dataset folder.

#include "data/ImageDatasets.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace neco::data {

/// Training stops before its first step when more than this fraction of the set is unreadable.
inline constexpr double kDefaultMaxBadFraction = 0.01;

struct ScanOptions {
  /// false: header probes (probeImage / probeMaskPng: magic bytes, caps, end markers, PNG structure);
  /// true: full decodes (readImage / readPalettePng; needs the image codecs).
  bool decode = false;
  int threads = 0;  ///< 0 = hardware concurrency, at most 8
  /// Where verdicts are cached; default cacheDirectory()/"dataset-scan". A folder inside the dataset
  /// is refused (the cache is then not used).
  std::optional<std::filesystem::path> cacheDir;
  bool useCache = true;
  /// Called on the calling thread (never concurrently) with the items done so far, cached ones
  /// included, at least once at the start and once at the end. It may throw to cancel the scan: the
  /// workers stop, nothing is cached, and the exception propagates.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

struct BadItem {
  std::size_t index = 0;       ///< into ImageDataset::items
  std::filesystem::path path;  ///< the offending file (the image, or its mask)
  std::string reason;          ///< the typed error's message (it names the file)
};

struct ScanReport {
  std::filesystem::path root;  ///< the dataset's root, for messages
  std::size_t total = 0;       ///< items scanned
  std::size_t checked = 0;     ///< verdicts computed by this scan
  std::size_t cached = 0;      ///< verdicts reused from the cache (total == checked + cached)
  std::vector<BadItem> bad;    ///< sorted by index

  /// bad.size() / total (0 for an empty report).
  double badFraction() const noexcept;
};

/// Checks every item: the image (probe or decode), its mask (probe or decode), and that both have the
/// same size. Runs on several threads; the report is the same for any thread count. A cache that
/// cannot be read or parsed is ignored and rebuilt; one that cannot be written is logged, not fatal.
/// Throws UnsupportedError (decode requested in a build without image codecs), InvalidArgumentError
/// (negative thread count), and whatever `progress` throws.
ScanReport scanDataset(const ImageDataset& dataset, const ScanOptions& options = {});

/// The cache file scanDataset uses for this dataset and these options: <cacheDir>/<sha256 of kind,
/// canonical root, split, decode flag>.scan. Never throws.
std::filesystem::path scanCachePath(const ImageDataset& dataset, const ScanOptions& options);

/// Throws FormatError naming the dataset root, the number and fraction of bad items and the first few
/// bad files with their reasons when badFraction() > maxBadFraction. Evaluation passes 0: an
/// evaluation split must be complete. Throws InvalidArgumentError for a fraction outside [0, 1].
void requireUsable(const ScanReport& report, double maxBadFraction = kDefaultMaxBadFraction);

/// The dataset without the report's bad items, for training only.
/// NOTE: never use it for an evaluation split: dropping images there silently changes the metric
/// (RELIABILITY.md: an evaluation split never drops images); call requireUsable(report, 0) instead.
/// Throws InvalidArgumentError when the report was made for a dataset of another size.
ImageDataset withoutBad(const ImageDataset& dataset, const ScanReport& report);

}  // namespace neco::data

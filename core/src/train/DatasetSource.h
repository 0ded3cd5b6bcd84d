#pragma once
// Opens the training images a DataSourceConfig names: the embedded demo scenes, or a dataset folder
// that is listed, pre-scanned (every file validated, verdicts cached) and checked against the
// bad-file threshold before the first step (RELIABILITY.md promise 3).

#include "train/SampleSource.h"
#include "train/TrainerConfig.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace neco::train {

struct OpenedSource {
  std::shared_ptr<const SampleSource> source;
  std::shared_ptr<const SampleSource> heldOut;  ///< validation images for the monitor; null when none
  std::vector<std::string> notes;  ///< what the scan found: counts, cached verdicts, skipped files
};

/// Throws InvalidArgumentError (unknown dataset name, bad split), IoError / FormatError (layout,
/// bad fraction over data.maxBadFraction, naming the first bad files), UnsupportedError (a dataset
/// in a build without image codecs).
OpenedSource openSampleSource(const DataSourceConfig& config,
                              const std::function<void(std::size_t done, std::size_t total)>& scanProgress = {});

}  // namespace neco::train

#include "train/DatasetSource.h"

#include "data/DatasetScan.h"
#include "data/ImageDatasets.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace neco::train {
namespace {

class DatasetSource final : public SampleSource {
 public:
  explicit DatasetSource(data::ImageDataset dataset) : dataset_(std::move(dataset)) {}
  std::int64_t size() const override { return static_cast<std::int64_t>(dataset_.items.size()); }
  RgbImage image(std::int64_t index) const override { return readImage(item(index).image); }
  std::string describe(std::int64_t index) const override { return item(index).image.string(); }

 private:
  const data::DatasetItem& item(std::int64_t index) const {
    if (index < 0 || index >= size()) throw InvalidArgumentError("dataset sample " + std::to_string(index) + " out of range");
    return dataset_.items[static_cast<std::size_t>(index)];
  }
  data::ImageDataset dataset_;
};

}  // namespace

OpenedSource openSampleSource(const DataSourceConfig& config,
                              const std::function<void(std::size_t, std::size_t)>& scanProgress) {
  OpenedSource out;
  if (config.dataset == "demo" && config.root.empty()) {
    out.source = demoSampleSource();
    out.heldOut = demoValidationSource();
    out.notes.push_back("data: the embedded demo scenes (" + std::to_string(out.source->size()) + " images, rendered in memory)");
    return out;
  }
  if (!imageCodecsAvailable()) {
    throw UnsupportedError("data: reading a dataset needs the image codecs (OpenCV + zlib), which this build lacks; "
                           "use the demo dataset");
  }
  const data::DatasetKind kind = data::datasetKindFromName(config.dataset);
  data::ImageDataset dataset = data::openDataset(kind, config.root, config.split);
  data::ScanOptions scan;
  scan.decode = config.scanDecode;
  scan.progress = scanProgress;
  const data::ScanReport report = data::scanDataset(dataset, scan);
  char line[256];
  std::snprintf(line, sizeof line, "data: %s %s (%s): %zu images, %zu checked, %zu verdicts cached, %zu bad (%.2f %%)",
                data::datasetKindName(kind), config.root.string().c_str(), config.split.c_str(), report.total,
                report.checked, report.cached, report.bad.size(), 100.0 * report.badFraction());
  out.notes.emplace_back(line);
  for (const data::BadItem& b : report.bad) out.notes.push_back("data: skipped " + b.reason);
  data::requireUsable(report, config.maxBadFraction);
  out.source = std::make_shared<DatasetSource>(data::withoutBad(dataset, report));
  if (config.split != "val") {
    try {  // the monitor's held-out images: the dataset's validation split, when it has one
      out.heldOut = std::make_shared<DatasetSource>(data::openDataset(kind, config.root, "val"));
    } catch (const Error& e) {
      out.notes.push_back(std::string("data: no validation split for the monitor (") + e.what() + ")");
    }
  }
  return out;
}

}  // namespace neco::train

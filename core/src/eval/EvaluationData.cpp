// Labelled evaluation data: the demo's validation scenes in memory, or a dataset on disk.
#include "data/ImageDatasets.h"
#include "formats/Sha256.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"
#include "neco/core/ImageIo.h"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace neco {
namespace {

/// Scenes are rendered on first use and kept (a protocol reads each image once per epoch or view;
/// rendering costs more than a small model's forward pass). Thread-safe.
class DemoEvaluationData final : public EvaluationData {
 public:
  DemoEvaluationData(const DemoDatasetOptions& o, bool train)
      : options_(o), train_(train), scenes_(static_cast<std::size_t>(train ? o.trainCount : o.valCount)) {}
  std::size_t size() const override { return static_cast<std::size_t>(train_ ? options_.trainCount : options_.valCount); }
  RgbImage image(std::size_t i) const override { return scene(i).image; }
  LabelImage mask(std::size_t i) const override { return scene(i).labels; }
  std::string id(std::size_t i) const override { return demoSceneId(index(i)); }
  int classCount() const override { return static_cast<int>(demoClassNames().size()); }
  int ignoreIndex() const override { return 255; }
  std::vector<std::string> classNames() const override { return demoClassNames(); }
  std::string describe() const override {
    return std::string("demo ") + (train_ ? "train" : "val") + " (" + std::to_string(size()) + " scenes)";
  }

 private:
  int index(std::size_t i) const { return (train_ ? 0 : options_.trainCount) + static_cast<int>(i); }  // val follows train
  const DemoScene& scene(std::size_t i) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::optional<DemoScene>& s = scenes_.at(i);
    if (!s) s = renderDemoScene(options_.seed, index(i), options_);
    return *s;
  }
  DemoDatasetOptions options_;
  bool train_ = false;
  mutable std::mutex mutex_;
  mutable std::vector<std::optional<DemoScene>> scenes_;
};

const std::vector<std::string>& vocClassNames() {
  static const std::vector<std::string> names{
      "background", "aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",
      "car",        "cat",       "chair",   "cow",   "diningtable", "dog",    "horse",
      "motorbike",  "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor"};
  return names;
}

class DiskEvaluationData final : public EvaluationData {
 public:
  DiskEvaluationData(data::ImageDataset d, std::size_t limit) : d_(std::move(d)) {
    if (limit > 0 && d_.items.size() > limit) d_.items.resize(limit);
  }
  std::size_t size() const override { return d_.items.size(); }
  RgbImage image(std::size_t i) const override { return readImage(d_.items[i].image); }
  LabelImage mask(std::size_t i) const override {
    LabelImage m = readPalettePng(*d_.items[i].mask);
    if (d_.kind == data::DatasetKind::Cityscapes) {
      static const auto table = data::cityscapesLabelIdToTrainId();
      for (auto& v : m.labels) v = table[v];
    }
    return m;
  }
  std::string id(std::size_t i) const override { return d_.items[i].id; }
  int classCount() const override { return d_.classCount; }
  int ignoreIndex() const override { return d_.ignoreIndex; }
  std::vector<std::string> classNames() const override {
    if (d_.kind == data::DatasetKind::Voc) return vocClassNames();
    if (d_.kind == data::DatasetKind::Demo) return demoClassNames();
    return {};
  }
  std::string describe() const override {
    return std::string(data::datasetKindName(d_.kind)) + " " + d_.split + " (" + std::to_string(size()) + " images)";
  }

 private:
  data::ImageDataset d_;
};

}  // namespace

std::unique_ptr<EvaluationData> demoEvaluationData(const DemoDatasetOptions& options) {
  return std::make_unique<DemoEvaluationData>(options, false);
}

std::unique_ptr<EvaluationData> demoEvaluationData(const DemoDatasetOptions& options, const std::string& split) {
  if (split != "train" && split != "val") throw InvalidArgumentError("demo data: split must be train or val, got '" + split + "'");
  return std::make_unique<DemoEvaluationData>(options, split == "train");
}

std::unique_ptr<EvaluationData> openEvaluationData(const std::string& kind, const std::filesystem::path& root,
                                                   const std::string& split, std::size_t limit) {
  data::ImageDataset d = data::openDataset(data::datasetKindFromName(kind), root, split);
  if (d.classCount <= 0) {
    throw InvalidArgumentError("evaluation needs a labelled dataset: " + kind + " has no masks");
  }
  return std::make_unique<DiskEvaluationData>(std::move(d), limit);
}

std::string fileSha256(const std::filesystem::path& file) { return formats::sha256OfFile(file); }

}  // namespace neco

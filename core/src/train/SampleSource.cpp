#include "train/SampleSource.h"

#include "neco/core/Error.h"

namespace neco::train {
namespace {

class DemoSource final : public SampleSource {
 public:
  DemoSource(const DemoDatasetOptions& options, int first, int count) : options_(options), first_(first), count_(count) {
    if (count_ < 1) throw InvalidArgumentError("demo sample source: the split is empty");
  }
  std::int64_t size() const override { return count_; }
  RgbImage image(std::int64_t index) const override {
    return renderDemoScene(options_.seed, first_ + static_cast<int>(index), options_).image;
  }
  std::string describe(std::int64_t index) const override {
    return "demo scene " + demoSceneId(first_ + static_cast<int>(index));
  }

 private:
  DemoDatasetOptions options_;
  int first_, count_;
};

}  // namespace

std::unique_ptr<SampleSource> demoSampleSource(const DemoDatasetOptions& options) {
  return std::make_unique<DemoSource>(options, 0, options.trainCount);
}

std::unique_ptr<SampleSource> demoValidationSource(const DemoDatasetOptions& options) {
  return std::make_unique<DemoSource>(options, options.trainCount, options.valCount);
}

}  // namespace neco::train

#include "train/SampleSource.h"

#include "neco/core/Error.h"

namespace neco::train {
namespace {

class DemoSource final : public SampleSource {
 public:
  explicit DemoSource(const DemoDatasetOptions& options) : options_(options) {
    if (options_.trainCount < 1) throw InvalidArgumentError("demo sample source: the train split is empty");
  }
  std::int64_t size() const override { return options_.trainCount; }
  RgbImage image(std::int64_t index) const override {
    return renderDemoScene(options_.seed, static_cast<int>(index), options_).image;
  }
  std::string describe(std::int64_t index) const override { return "demo scene " + demoSceneId(static_cast<int>(index)); }

 private:
  DemoDatasetOptions options_;
};

}  // namespace

std::unique_ptr<SampleSource> demoSampleSource(const DemoDatasetOptions& options) {
  return std::make_unique<DemoSource>(options);
}

}  // namespace neco::train

#pragma once
// Where training images come from: an indexed, thread-safe source of RGB images. The trainer never
// sees file formats or dataset layouts; the sampler and the batch loader only ask for image i.

#include "neco/core/DemoDataset.h"
#include "neco/core/Image.h"

#include <cstdint>
#include <memory>
#include <string>

namespace neco::train {

class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual std::int64_t size() const = 0;
  /// Image `index` in [0, size()). Called from several loader threads at once. Throws a neco::Error
  /// subclass naming the file and the reason when the sample cannot be read.
  virtual RgbImage image(std::int64_t index) const = 0;
  /// What to call sample `index` in messages: its path or scene id.
  virtual std::string describe(std::int64_t index) const = 0;
};

/// The embedded demo scenes of the train split (DemoDatasetOptions::trainCount), rendered in memory:
/// needs no file and no image codec, identical on every machine.
std::unique_ptr<SampleSource> demoSampleSource(const DemoDatasetOptions& options = {});

/// The demo scenes of the validation split (indices trainCount .. trainCount + valCount - 1).
std::unique_ptr<SampleSource> demoValidationSource(const DemoDatasetOptions& options = {});

}  // namespace neco::train

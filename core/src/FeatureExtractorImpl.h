#pragma once
// The inside of a FeatureExtractor, shared with the code that builds one from live training weights.

#include "neco/core/FeatureExtractor.h"
#include "nn/VisionTransformer.h"

#include <memory>
#include <string>

namespace neco {

struct FeatureExtractor::Impl {
  nn::VisionTransformer model{nullptr};
  std::string weights;
  int layer = 0;  ///< 1-based block whose normed output extract() reads; 0: the last
};

/// For core code that feeds the network prepared tensors (the evaluation protocols' augmentations)
/// or builds an extractor from weights it holds (live training snapshots).
struct FeatureExtractorAccess {
  using Impl = FeatureExtractor::Impl;
  static FeatureExtractor::Impl& impl(const FeatureExtractor& f) { return *f.impl_; }
  static std::shared_ptr<const FeatureExtractor> make(std::unique_ptr<FeatureExtractor::Impl> impl) {
    return std::shared_ptr<const FeatureExtractor>(new FeatureExtractor(std::move(impl)));
  }
};

}  // namespace neco

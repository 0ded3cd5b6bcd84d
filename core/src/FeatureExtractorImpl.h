#pragma once
// The inside of a FeatureExtractor, shared with the code that builds one from live training weights.

#include "neco/core/FeatureExtractor.h"
#include "nn/VisionTransformer.h"

#include <string>

namespace neco {

struct FeatureExtractor::Impl {
  nn::VisionTransformer model{nullptr};
  std::string weights;
};

/// For core code that feeds the network prepared tensors (the evaluation protocols' augmentations).
struct FeatureExtractorAccess {
  static FeatureExtractor::Impl& impl(const FeatureExtractor& f) { return *f.impl_; }
};

}  // namespace neco

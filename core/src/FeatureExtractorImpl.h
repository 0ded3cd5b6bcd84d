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

}  // namespace neco

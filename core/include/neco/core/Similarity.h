#pragma once
// Patch-to-patch cosine similarity on extracted features (the studio's heatmap).

#include "neco/core/FeatureExtractor.h"

#include <vector>

namespace neco {

/// Cosine similarity of patch `queryPatch` (row-major index) to every patch of `target`, as a
/// row-major gridH x gridW map in [-1, 1]. `query` and `target` may be the same image or two
/// images with the same feature dimension. Throws InvalidArgumentError on an out-of-range patch or
/// mismatched dimensions.
std::vector<float> cosineSimilarityMap(const PatchFeatures& query, int queryPatch, const PatchFeatures& target);

/// Same image convenience overload.
inline std::vector<float> cosineSimilarityMap(const PatchFeatures& features, int queryPatch) {
  return cosineSimilarityMap(features, queryPatch, features);
}

}  // namespace neco

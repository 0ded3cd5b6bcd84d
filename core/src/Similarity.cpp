#include "neco/core/Similarity.h"

#include "neco/core/Error.h"
#include "ops/CosineSimilarity.h"

#include <ATen/ATen.h>

#include <cstring>

namespace neco {

std::vector<float> cosineSimilarityMap(const PatchFeatures& query, int queryPatch, const PatchFeatures& target) {
  if (query.empty() || target.empty()) throw InvalidArgumentError("cosineSimilarityMap: no features");
  if (queryPatch < 0 || queryPatch >= query.patchCount()) {
    throw InvalidArgumentError("cosineSimilarityMap: patch " + std::to_string(queryPatch) + " outside the " +
                               std::to_string(query.gridW) + "x" + std::to_string(query.gridH) + " grid");
  }
  if (query.dim != target.dim) {
    throw InvalidArgumentError("cosineSimilarityMap: feature dimensions differ (" + std::to_string(query.dim) +
                               " vs " + std::to_string(target.dim) + ")");
  }
  const at::Tensor bank = at::from_blob(const_cast<float*>(target.tokens.data()), {target.patchCount(), target.dim},
                                        at::kFloat);
  const at::Tensor q = at::from_blob(const_cast<float*>(query.row(queryPatch)), {1, query.dim}, at::kFloat);
  const at::Tensor sims = ops::cosineSimilarity(bank, q);
  std::vector<float> out(static_cast<std::size_t>(target.patchCount()));
  std::memcpy(out.data(), sims.data_ptr<float>(), out.size() * sizeof(float));
  return out;
}

}  // namespace neco

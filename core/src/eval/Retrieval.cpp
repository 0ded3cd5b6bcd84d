#include "eval/Retrieval.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <string>

namespace neco::eval {

Neighbours exactTopK(const at::Tensor& queries, const at::Tensor& memory, int k, std::int64_t memoryChunk,
                     std::int64_t queryChunk) {
  if (queries.dim() != 2 || memory.dim() != 2 || queries.size(1) != memory.size(1)) {
    throw InvalidArgumentError("nearest neighbours: queries (Q, D) and memory (M, D) must share D");
  }
  if (k < 1 || k > memory.size(0)) {
    throw InvalidArgumentError("nearest neighbours: k = " + std::to_string(k) + " for a memory of " +
                               std::to_string(memory.size(0)) + " patches");
  }
  if (memoryChunk < 1 || queryChunk < 1) throw InvalidArgumentError("nearest neighbours: chunks must be >= 1");
  const std::int64_t Q = queries.size(0), M = memory.size(0);
  Neighbours out;
  out.similarities = at::empty({Q, k}, queries.options().dtype(at::kFloat));
  out.indices = at::empty({Q, k}, queries.options().dtype(at::kLong));
  const at::Tensor mem = memory.to(at::kFloat);
  for (std::int64_t q0 = 0; q0 < Q; q0 += queryChunk) {
    const std::int64_t q1 = std::min(Q, q0 + queryChunk);
    const at::Tensor q = queries.slice(0, q0, q1).to(at::kFloat);
    at::Tensor bestSim, bestIdx;  // running top-k of this query block
    for (std::int64_t m0 = 0; m0 < M; m0 += memoryChunk) {
      const std::int64_t m1 = std::min(M, m0 + memoryChunk);
      const at::Tensor sims = at::matmul(q, mem.slice(0, m0, m1).t());
      const int kk = static_cast<int>(std::min<std::int64_t>(k, m1 - m0));
      auto [s, i] = sims.topk(kk, 1, /*largest=*/true, /*sorted=*/true);
      i = i + m0;
      if (!bestSim.defined()) {
        bestSim = s;
        bestIdx = i;
        continue;
      }
      // merge the running top-k with this block's
      const at::Tensor allSim = at::cat({bestSim, s}, 1), allIdx = at::cat({bestIdx, i}, 1);
      const int keep = static_cast<int>(std::min<std::int64_t>(k, allSim.size(1)));
      const at::Tensor order = std::get<1>(allSim.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true)).slice(1, 0, keep);
      bestSim = allSim.gather(1, order);
      bestIdx = allIdx.gather(1, order);
    }
    out.similarities.slice(0, q0, q1).copy_(bestSim);
    out.indices.slice(0, q0, q1).copy_(bestIdx);
  }
  return out;
}

at::Tensor transferLabels(const Neighbours& n, const at::Tensor& memoryLabels, double temperature) {
  if (temperature <= 0) throw InvalidArgumentError("label transfer: the temperature must be > 0");
  if (memoryLabels.dim() != 2) throw InvalidArgumentError("label transfer: memory labels must be (M, C)");
  const at::Tensor weights = (n.similarities / temperature).softmax(1);                     // (Q, k)
  const at::Tensor labels = memoryLabels.index_select(0, n.indices.reshape({-1}))            // (Q k, C)
                                .reshape({n.indices.size(0), n.indices.size(1), memoryLabels.size(1)});
  return (weights.unsqueeze(2) * labels.to(weights.scalar_type())).sum(1);
}

at::Tensor patchSoftLabels(const at::Tensor& labels, int patch, int classes, int remapTo) {
  if (labels.dim() != 2 || patch < 1 || classes < 1) {
    throw InvalidArgumentError("patch labels: expected an (H, W) label map, a patch size and a class count");
  }
  const std::int64_t gh = labels.size(0) / patch, gw = labels.size(1) / patch;
  at::Tensor l = labels.slice(0, 0, gh * patch).slice(1, 0, gw * patch).to(at::kLong);
  if (remapTo >= 0 && remapTo < classes) l = at::where(l >= classes, at::full_like(l, remapTo), l);
  const at::Tensor valid = l < classes;
  const at::Tensor oneHot = at::one_hot(at::where(valid, l, at::zeros_like(l)), classes).to(at::kFloat) *
                            valid.unsqueeze(2).to(at::kFloat);                               // (H, W, C)
  return oneHot.reshape({gh, patch, gw, patch, classes}).sum({1, 3}).reshape({gh * gw, classes}) /
         static_cast<double>(patch * patch);
}

at::Tensor boundedMemoryPatches(const at::Tensor& softLabels, std::int64_t keep, at::Generator& generator) {
  if (softLabels.dim() != 2 || keep < 0) throw InvalidArgumentError("bounded memory: expected (P, C) labels and keep >= 0");
  const std::int64_t P = softLabels.size(0);
  if (keep >= P) return at::arange(P, at::kLong);
  const at::Tensor present = (softLabels > 0).to(at::kFloat);               // (P, C)
  const at::Tensor patchesWithClass = present.sum(0);                        // (C,)
  at::Tensor score = (present * patchesWithClass.unsqueeze(0)).sum(1);       // (P,)
  score = score * at::rand({P}, generator, at::kFloat);
  score = at::where(present.sum(1) == 0, at::full_like(score, 1e6), score);
  return std::get<0>(std::get<1>(score.topk(keep, 0, /*largest=*/false, /*sorted=*/true)).sort());
}

}  // namespace neco::eval

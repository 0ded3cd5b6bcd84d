#pragma once
// NeCo's loss (METHOD.md §2.4): for every global crop c and every other crop v, RoI-align the teacher's
// map of c and the student's map of v to the same K x K region (their intersection), pick K^2
// reference patches per image, sort each source patch's similarities to the references with the
// student's and the teacher's steepness, and take the cross-entropy teacher -> student over the rank
// axis. subloss(c, v) = mean over (image, reference, source patch) of -sum_r q log p;
// loss_c = mean over v != c; loss = mean over c. Gradient flows only into the student maps.
//
// The sorts and the cross-entropy are the fused op (sort/FusedSort.h): neither B K^2 x K^2 x K^2
// permutation tensor is materialised. The log is floored at `logFloor` (the reference has no floor;
// see docs/SORTING.md: the loss is unchanged where p > floor).

#include "sort/Relaxation.h"
#include "sort/SortingNetwork.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace neco::train {

enum class SimilarityKind { Cosine, Euclidean };

/// Which source patches the loss averages over (METHOD.md §2.8, loss_mask): every patch, or only the
/// teacher's foreground / background by its last-block attention.
enum class LossMask { All, Foreground, Background };

struct NecoLossConfig {
  int roiSize = 7;         ///< K
  int patchSize = 14;      ///< boxes arrive in crop pixels; RoI-Align works in tokens (box / patch)
  sort::NetworkKind network = sort::NetworkKind::Bitonic;
  sort::SortOptions student{sort::Relaxation::Cauchy, 100.0, 0.25};
  sort::SortOptions teacher{sort::Relaxation::Cauchy, 100.0, 0.25};
  SimilarityKind similarity = SimilarityKind::Cosine;
  LossMask mask = LossMask::All;
  double logFloor = 1e-12;
};

/// Reference patches for the pair (c, v): (B, K^2, C) rows; `teacherAligned` is the teacher's aligned
/// region of that pair, (B, C, K, K), for the in-batch strategy. With a loss mask it holds only the
/// masked patches, tiled to that shape in (image, y, x) order, as the reference selects them.
using ReferenceSource = std::function<at::Tensor(int c, int v, const at::Tensor& teacherAligned)>;

struct NecoLossInputs {
  std::vector<at::Tensor> studentMaps;  ///< per crop v: (B, C, h_v, w_v), globals first
  std::vector<at::Tensor> teacherMaps;  ///< per global crop c: (B, C, h, w)
  at::Tensor inGlobal;                  ///< (B, G, V, 4): intersection(c, v) in global crop c's pixels
  at::Tensor inCrop;                    ///< (B, V, G, 4): the same in crop v's pixels
  /// Per global crop c: (B, 1, h, w) 0 / 1 loss mask (LossMasks.h, already inverted for 'bg');
  /// empty: every position counts.
  std::vector<at::Tensor> teacherMasks;
};

struct NecoLossResult {
  at::Tensor loss;                       ///< scalar, differentiable in the student maps
  std::vector<std::vector<double>> sub;  ///< sub[c][v]: each subloss (v == c left at 0), for monitoring
  double sortMs = 0;                     ///< wall time of the fused sorts + cross-entropy (forward), for benchmarks
  std::int64_t maskedPositions = -1;     ///< with masks: source positions counted over all pairs; -1 without
};

/// What the loss saw for one (global c, other v) pair, for the training X-ray (detached copies).
struct PairTrace {
  int global = 0, other = 0;
  at::Tensor studentSims, teacherSims;  ///< (B K^2, K^2): source patch (image, y, x) x reference
  at::Tensor rowLoss;                   ///< (B K^2): each source patch's cross-entropy
  at::Tensor positions;                 ///< (B K^2) 0 / 1 when masked; undefined otherwise
  double loss = 0;                      ///< subloss(c, v)
};

/// With teacherMasks, each pair averages over the source positions whose RoI-aligned mask is 1 (a pair
/// without any contributes 0, as in the reference; when no pair has any, the loss is a constant 0).
/// Throws InvalidArgumentError for inconsistent shapes (naming the tensor).
/// `trace`, when given, receives one PairTrace per pair in the order the loss visits them (a pair
/// whose mask is empty is traced with zero positions and no similarities).
NecoLossResult necoLoss(const NecoLossInputs& inputs, const ReferenceSource& references, const NecoLossConfig& config,
                        std::vector<PairTrace>* trace = nullptr);

/// The in-batch references of the reference code: the teacher's aligned patches of the whole batch,
/// (B K^2, C) in (image, y, x) order, randomly permuted, as (B, K^2, C). `order`, when given, receives
/// the permutation: reference j is candidate row order[j] (the training X-ray's provenance).
at::Tensor batchReferences(const at::Tensor& teacherAligned, const at::Generator& generator = {},
                           at::Tensor* order = nullptr);

/// Per-row similarities of sources (B, M, C) to references (B, N, C) -> (B M, N): cosine of the
/// normalised rows, or the euclidean distance.
at::Tensor patchSimilarities(const at::Tensor& sources, const at::Tensor& references, SimilarityKind kind);

}  // namespace neco::train

#pragma once
// The published (diffsort) formulation: every layer as dense split / combine matrix products on the
// values x (R, n) and the permutation matrix X (R, n, n). Kept as the parity and speed baseline of
// the fused op (tests and benchmarks only); differentiable through autograd.
//
// Axis semantics (as the reference): X[r, e, k] is the weight of input element e at ascending rank k,
// so sorted = x @ X, rows and columns of X sum to 1, and steepness -> inf gives the hard permutation.

#include "sort/Relaxation.h"
#include "sort/SortingNetwork.h"

#include <ATen/core/Tensor.h>

namespace neco::sort {

struct SoftSortResult {
  at::Tensor sorted;       ///< (R, n) soft-sorted values, ascending
  at::Tensor permutation;  ///< (R, n, n) X[r, element, rank]
};

/// The layer's four matrices: split_a, split_b (k, n) and combine_min, combine_max (n, k).
struct DenseLayer {
  at::Tensor splitA, splitB, combineMin, combineMax;
};
std::vector<DenseLayer> denseLayers(const SortingNetwork& network, at::ScalarType dtype);

/// x: (R, n) with n == network.n. fp16/bf16 inputs are computed in fp32 (NOTE: the sort stays fp32).
/// Throws InvalidArgumentError for a shape that does not match the network.
SoftSortResult denseSoftSort(const at::Tensor& x, const SortingNetwork& network, const SortOptions& options);

}  // namespace neco::sort

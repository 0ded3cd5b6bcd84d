#pragma once
// The fused differentiable sort (issue 4): the same results as denseSoftSort (DenseSort.h, same axis
// semantics: X[r, e, k] is the weight of input element e at ascending rank k, sorted = x @ X), computed
// comparator by comparator in place. On the CPU autograd keeps only (a reference to) the input:
// backward replays the swap weights and recomputes the trajectory row by row. On CUDA it also keeps
// the per-comparator swap weights (R x comparators). CPU rows run in parallel
// (at::parallel_for) through vectorised row kernels (FusedSortCpu.h); CUDA tensors go to gpu/ kernels
// when this build has them.

#include "sort/DenseSort.h"

#include <ATen/core/Tensor.h>

#include <memory>

namespace neco::sort {

struct FlatNetwork;

/// Shared, cached flat network for (kind, n) (identity rows dropped).
std::shared_ptr<const FlatNetwork> sharedFlatNetwork(NetworkKind kind, int n);

/// x: (R, n) float32 or float64 (fp16 / bf16 are sorted in fp32 and give fp32 outputs), CPU or CUDA.
/// Differentiable with respect to x. Throws InvalidArgumentError for a bad shape or dtype.
SoftSortResult softSort(const at::Tensor& x, NetworkKind network, const SortOptions& options);

/// The per-comparator swap weights alpha, (R, comparators) in the order of sharedFlatNetwork(). No grad.
at::Tensor swapWeights(const at::Tensor& x, NetworkKind network, const SortOptions& options);

/// NeCo's loss per row, fused: mean over elements e of -sum_r q[e, r] log(max(p[e, r], logFloor)), with
/// p = softSort(student).permutation and q = softSort(teacher).permutation (no gradient to the teacher).
/// Neither matrix is materialised for more than one row per thread. Returns (R,), differentiable in
/// `student`. Both (R, n) on the same device and dtype.
at::Tensor sortCrossEntropy(const at::Tensor& student, const at::Tensor& teacher, NetworkKind network,
                            const SortOptions& studentOptions, const SortOptions& teacherOptions,
                            double logFloor = 1e-12);

/// Which CPU kernels run ("avx2+fma" or "default").
const char* cpuSortIsa();

}  // namespace neco::sort

#pragma once
// The fused differentiable sort on the device (CUDA twin of core/src/sort/FusedSortRows.inl): one
// thread block per row, the row's X^T (rank-major) in shared memory when it fits (n <= 104 in fp32,
// n <= 72 in fp64), in global memory otherwise. Forward stores only the swap weights; backward
// recomputes the X trajectory per row into caller-provided scratch (rows are processed in chunks so
// the scratch stays bounded) and reduces each comparator's weight gradient with one warp.
// Plain pointers and sizes only; all pointers are device memory. Every entry point is noexcept.

#include "neco/gpu/Status.h"

#include <cstddef>

namespace neco::gpu {

/// A flat network (identity rows dropped): layerBegin[layers + 1] offsets into comparators, which
/// holds 3 ints per comparator: wire a, wire b, and 1 when the soft minimum goes to a.
struct SortNetworkView {
  int n = 0;
  int layers = 0;
  const int* layerBegin = nullptr;
  const int* comparators = nullptr;
  int comparatorCount = 0;
};

/// kind follows neco::sort::Relaxation: 0 cauchy, 1 logistic, 2 logistic_phi, 3 gaussian, 4 reciprocal,
/// 5 optimal.
struct SortRelaxation {
  int kind = 0;
  double steepness = 10.0;
  double artLambda = 0.25;
};

/// sorted (rows x n), permutation (rows x n x n, X[e * n + r]); alphas (rows x comparatorCount) may be null.
GpuStatus launch_soft_sort_forward(const SortNetworkView& net, const SortRelaxation& relax, const float* in,
                                   long long rows, float* sorted, float* permutation, float* alphas,
                                   void* stream) noexcept;
GpuStatus launch_soft_sort_forward(const SortNetworkView& net, const SortRelaxation& relax, const double* in,
                                   long long rows, double* sorted, double* permutation, double* alphas,
                                   void* stream) noexcept;

/// Rows per backward launch so that the scratch stays under about 512 MB (fp32).
long long soft_sort_backward_rows_per_chunk(int n, int layers) noexcept;
/// Scratch elements (of the input's type) one backward launch of `rows` rows needs.
std::size_t soft_sort_backward_scratch(int n, int layers, long long rows) noexcept;

/// gIn (rows x n) = d loss / d in from d loss / d sorted and d loss / d X (either may be null).
GpuStatus launch_soft_sort_backward(const SortNetworkView& net, const SortRelaxation& relax, const float* in,
                                    const float* alphas, const float* gSorted, const float* gPermutation, float* gIn,
                                    long long rows, float* scratch, void* stream) noexcept;
GpuStatus launch_soft_sort_backward(const SortNetworkView& net, const SortRelaxation& relax, const double* in,
                                    const double* alphas, const double* gSorted, const double* gPermutation,
                                    double* gIn, long long rows, double* scratch, void* stream) noexcept;

}  // namespace neco::gpu

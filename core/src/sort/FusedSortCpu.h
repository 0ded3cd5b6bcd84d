#pragma once
// Row kernels of the fused soft sort on the CPU, torch-free. One row is sorted at a time with
// caller-provided scratch, so the op above can run rows in parallel and the studio can sort a
// single row without LibTorch. The kernels are compiled once per instruction set (FusedSortRows.inl
// included by FusedSortRowsDefault.cpp and FusedSortRowsAvx2.cpp) and picked at run time.
//
// State of one row: the values x (n) and X^T (n x n, rank-major: Xt[k * n + e] = X[e, k]) so that
// the two columns a comparator mixes are contiguous and the blend vectorises. Forward applies the
// comparators in place; backward needs nothing but the input: it replays the values and their swap
// weights (bit-identical to the forward's) and recomputes X, recording on a tape only what each
// comparator read (its two columns over their non-zero range); the recomputation restarts from
// checkpoints every segmentLength() layers when the whole trajectory would not fit the per-thread budget.

#include "sort/Relaxation.h"
#include "sort/SortingNetwork.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace neco::sort {

struct FlatComparator {
  std::int32_t a = 0, b = 0;
  std::int32_t minToA = 1;  ///< 1: the soft minimum is written to wire a (and the maximum to b)
  /// Elements [lo, lo + len) are the only ones that can have reached wire a or b before this
  /// comparator (X starts as the identity): the forward blends only them. Bitonic blocks keep this
  /// at 2^(block + 1) of n, so the first layers cost a fraction of a full column.
  std::int32_t lo = 0, len = 0;
  /// Offset of this comparator's recorded input difference (len entries: column a - column b) on the backward's tape.
  std::int64_t tape = 0;
};

/// A network without its identity padding rows (they pass a wire through unchanged).
struct FlatNetwork {
  int n = 0;
  std::vector<std::int32_t> layerBegin;  ///< size layers() + 1, offsets into comparators
  std::vector<FlatComparator> comparators;
  /// The comparators' wires as parallel arrays (what the values pass gathers from and scatters to):
  /// it reads wires a and b and writes the soft minimum to wireMin, the maximum to wireMax.
  std::vector<std::int32_t> wireA, wireB, wireMin, wireMax;
  std::int64_t tapeSize = 0;  ///< sum of len over all comparators
  int layers() const noexcept { return static_cast<int>(layerBegin.size()) - 1; }
  int comparatorCount() const noexcept { return static_cast<int>(comparators.size()); }
};
FlatNetwork flatten(const SortingNetwork& network);

struct RelaxParams {
  Relaxation relaxation = Relaxation::Cauchy;
  double steepness = 10.0;
  double artLambda = 0.25;
};
inline RelaxParams relaxParams(const SortOptions& o) { return {o.relaxation, o.steepness, o.artLambda}; }

/// Column stride of the kernels' X^T: n rounded up to 8 (whole 32-byte vectors per column).
inline int paddedStride(int n) { return (n + 7) & ~7; }

/// Layers per recomputation segment: the whole network while its X trajectory fits in
/// kTrajectoryBudget scalars, else about sqrt(layers) (memory (L / s + s) n^2, one extra forward).
inline constexpr std::size_t kTrajectoryBudget = std::size_t{1} << 22;
inline int segmentLength(int layers, int n) {
  const auto full = static_cast<std::size_t>(layers) * static_cast<std::size_t>(n) * static_cast<std::size_t>(paddedStride(n));
  if (full <= kTrajectoryBudget) return layers > 0 ? layers : 1;
  return static_cast<int>(std::ceil(std::sqrt(static_cast<double>(layers))));
}
/// Per-row scratch: `matrix` scalars of the op's type and `values` doubles. The values, the swap
/// weights and the values' gradient are carried in float64 even for float32 rows: they are O(n) per
/// layer, and at high steepness their rounding would otherwise dominate the fp32 error (each alpha
/// amplifies an input error by up to steepness / pi).
struct ScratchSize {
  std::size_t matrix = 0, values = 0;
};
ScratchSize forwardScratchSize(const FlatNetwork& net);
ScratchSize backwardScratchSize(const FlatNetwork& net);  ///< also enough for the CE kernels

template <typename T>
struct Scratch {
  T* matrix = nullptr;
  double* values = nullptr;
};

/// Owns one row's scratch (per thread); the matrix part is 64-byte aligned (the kernels use aligned
/// 32-byte vector loads).
template <typename T>
struct ScratchBuffer {
  explicit ScratchBuffer(ScratchSize size) : matrix(size.matrix + 64 / sizeof(T)), values(size.values) {}
  Scratch<T> view() {
    void* p = matrix.data();
    std::size_t space = matrix.size() * sizeof(T);
    return {static_cast<T*>(std::align(64, sizeof(T), p, space)), values.data()};
  }
  std::vector<T> matrix;
  std::vector<double> values;
};

template <typename T>
struct RowKernels {
  /// sorted (n), permutation (n x n, X[e * n + r]) and alphas (comparatorCount) may each be null.
  void (*forward)(const FlatNetwork& net, const RelaxParams& relax, const T* in, T* sorted, T* permutation,
                  T* alphas, const Scratch<T>& scratch);
  /// gIn = d loss / d in, given d loss / d sorted and d loss / d X (either may be null = zero).
  /// `alphas` are the forward's, or null (recomputed from `in`, bit-identical); scratch of
  /// backwardScratchSize().
  void (*backward)(const FlatNetwork& net, const RelaxParams& relax, const T* in, const T* alphas,
                   const T* gSorted, const T* gPermutation, T* gIn, const Scratch<T>& scratch);
  /// NeCo's loss for one row: mean over elements e of -sum_r q[e, r] log(max(p[e, r], floor)),
  /// p the student's and q the teacher's permutation matrix; neither matrix leaves the scratch.
  T (*crossEntropy)(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher,
                    const T* studentIn, const T* teacherIn, double floor, const Scratch<T>& scratch);
  /// gIn = gLoss * d crossEntropy / d studentIn (the teacher gets no gradient).
  void (*crossEntropyBackward)(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher,
                               const T* studentIn, const T* teacherIn, double floor, T gLoss, T* gIn,
                               const Scratch<T>& scratch);
};

struct KernelSet {
  const char* isa = "default";  ///< "default" (baseline x86-64 / the compiler's target) or "avx2+fma"
  RowKernels<float> f32;
  RowKernels<double> f64;
};

/// The best kernel set this CPU supports (AVX2 + FMA when present), chosen once.
/// NECO_SORT_ISA=default forces the baseline set (for comparisons).
const KernelSet& cpuKernels();
const KernelSet& defaultKernels();
const KernelSet* avx2Kernels();  ///< null when not compiled for this architecture

}  // namespace neco::sort

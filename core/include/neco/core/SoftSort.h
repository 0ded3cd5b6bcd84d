#pragma once
// Differentiable sorting networks for one row at a time: the soft permutation matrix, the swap weight
// of every comparator and NeCo's cross-entropy between teacher and student matrices. A torch-free
// facade over core/src/sort (the fused op) for the studio's permutation and network views.
//
// Axis semantics (as diffsort): permutation[e * n + r] is the weight of input element e at ascending
// rank r (r = 0 the smallest value, r = n - 1 the largest, i.e. the nearest neighbour for
// similarities); rows and columns sum to 1 and sorted[r] = sum_e input[e] * permutation[e * n + r].

#include <string>
#include <vector>

namespace neco {

enum class SortNetworkKind { Bitonic, OddEven };
enum class SortRelaxation { Cauchy, Logistic, LogisticPhi, Gaussian, Reciprocal, Optimal };

const char* sortNetworkName(SortNetworkKind kind) noexcept;   ///< "bitonic" / "odd_even"
const char* sortRelaxationName(SortRelaxation r) noexcept;    ///< "cauchy", "logistic", "logistic_phi", ...
SortNetworkKind parseSortNetwork(const std::string& name);    ///< throws InvalidArgumentError
SortRelaxation parseSortRelaxation(const std::string& name);  ///< throws InvalidArgumentError
const std::vector<SortRelaxation>& allSortRelaxations();

struct SoftSortSettings {
  SortNetworkKind network = SortNetworkKind::Bitonic;
  SortRelaxation relaxation = SortRelaxation::Cauchy;
  double steepness = 100.0;  ///< NeCo's canonical student and teacher steepness
  double artLambda = 0.25;   ///< logistic_phi only
};

/// A real comparator (identity padding rows are omitted): reads wires a and b, writes the soft
/// minimum to wire minTo and the soft maximum to wire maxTo ({minTo, maxTo} == {a, b}).
struct NetworkComparator {
  int a = 0, b = 0, minTo = 0, maxTo = 0;
};

struct SortNetworkLayout {
  SortNetworkKind kind = SortNetworkKind::Bitonic;
  int n = 0;
  std::vector<std::vector<NetworkComparator>> layers;  ///< in application order
  bool valid = true;    ///< the network sorts every input (diffsort's padded bitonic fails for some n)
  std::string warning;  ///< non-empty when !valid: names n and the valid alternative
  int comparatorCount() const noexcept;
};

/// The network for n wires (2 <= n <= 4096); validity is checked once per (kind, n) and cached.
/// Throws InvalidArgumentError for n out of range.
SortNetworkLayout sortNetworkLayout(SortNetworkKind kind, int n);

/// Validity of the padded bitonic network for n and, when invalid, a warning that names the
/// alternatives (odd_even, or the nearest valid bitonic size). Empty string when valid.
std::string bitonicValidityWarning(int n);

struct SoftSortRow {
  int n = 0;
  std::vector<float> input;        ///< n values as given
  std::vector<float> sorted;       ///< n soft-sorted values, ascending
  std::vector<float> permutation;  ///< n * n, permutation[e * n + r]
  /// swapWeights[l][c]: alpha of comparator c of layer l of sortNetworkLayout(...) — the weight with
  /// which the comparator keeps input a as the minimum (1: a < b for sure, 0.5: undecided).
  std::vector<std::vector<float>> swapWeights;
};

/// Soft-sorts one row (float32, the fused CPU op). Throws InvalidArgumentError for fewer than two
/// values, a non-finite value or a non-positive steepness.
SoftSortRow softSortRow(const std::vector<float>& values, const SoftSortSettings& settings);

/// Floor applied to p before the logarithm in the NeCo cross-entropy: log(max(p, floor)). The
/// reference has no floor; odd-even at high steepness underflows to exact zeros in fp32 (METHOD.md
/// §3.6), where log 0 = -inf would poison the loss. Bitonic + Cauchy at steepness 100 never reaches it.
inline constexpr double kPermutationLogFloor = 1e-12;

/// Per element e: -sum_r q[e, r] * log(max(p[e, r], floor)), q from the teacher, p from the student
/// (NeCo's loss for one source patch is the mean of these n values). Throws InvalidArgumentError
/// when the two rows differ in size.
std::vector<float> rankCrossEntropy(const SoftSortRow& teacher, const SoftSortRow& student,
                                    double floor = kPermutationLogFloor);

}  // namespace neco

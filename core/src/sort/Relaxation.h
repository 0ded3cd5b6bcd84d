#pragma once
// The six comparator relaxations of diffsort (METHOD.md §3.3): alpha in (0, 1) is the weight with
// which a comparator keeps its first input `a` as the minimum. v = steepness * (b - a).

#include <ATen/core/Tensor.h>

#include <string_view>

namespace neco::sort {

enum class Relaxation { Cauchy, Logistic, LogisticPhi, Gaussian, Reciprocal, Optimal };

const char* relaxationName(Relaxation r) noexcept;  ///< "cauchy", "logistic", "logistic_phi", ...
Relaxation parseRelaxation(std::string_view name);  ///< throws InvalidArgumentError

struct SortOptions {
  Relaxation relaxation = Relaxation::Cauchy;  ///< NeCo's (and diffsort's) default
  double steepness = 10.0;
  double artLambda = 0.25;                     ///< logistic_phi only
};

/// alpha(a, b) elementwise, computed in the dtype of a (callers pass float32 or float64).
at::Tensor relaxedAlpha(const at::Tensor& a, const at::Tensor& b, const SortOptions& options);

}  // namespace neco::sort

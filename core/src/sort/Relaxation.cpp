#include "sort/Relaxation.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>

namespace neco::sort {

const char* relaxationName(Relaxation r) noexcept {
  switch (r) {
    case Relaxation::Cauchy: return "cauchy";
    case Relaxation::Logistic: return "logistic";
    case Relaxation::LogisticPhi: return "logistic_phi";
    case Relaxation::Gaussian: return "gaussian";
    case Relaxation::Reciprocal: return "reciprocal";
    case Relaxation::Optimal: return "optimal";
  }
  return "?";
}

Relaxation parseRelaxation(std::string_view name) {
  for (Relaxation r : {Relaxation::Cauchy, Relaxation::Logistic, Relaxation::LogisticPhi, Relaxation::Gaussian,
                       Relaxation::Reciprocal, Relaxation::Optimal}) {
    if (name == relaxationName(r)) return r;
  }
  throw InvalidArgumentError("unknown relaxation '" + std::string(name) +
                             "' (expected cauchy, logistic, logistic_phi, gaussian, reciprocal or optimal)");
}

at::Tensor relaxedAlpha(const at::Tensor& a, const at::Tensor& b, const SortOptions& o) {
  const at::Tensor diff = b - a;
  const at::Tensor v = diff * o.steepness;
  switch (o.relaxation) {
    case Relaxation::Cauchy: return at::atan(v) / M_PI + 0.5;
    case Relaxation::Logistic: return at::sigmoid(v);
    case Relaxation::LogisticPhi: return at::sigmoid(v / at::pow(diff.abs() + 1e-10, o.artLambda));
    case Relaxation::Gaussian: return 0.5 + 0.5 * at::erf(diff * (o.steepness / std::sqrt(2.0)));
    case Relaxation::Reciprocal: return 0.5 * (v / (2.0 + v.abs()) + 1.0);
    case Relaxation::Optimal: {
      const at::Tensor tail = (v.gt(0.25).to(v.dtype()) - v.lt(-0.25).to(v.dtype())) * (0.25 - 1.0 / (16.0 * (v.abs() + 1e-10)));
      return v.clamp(-0.25, 0.25) + 0.5 + tail;
    }
  }
  return at::Tensor();
}

}  // namespace neco::sort

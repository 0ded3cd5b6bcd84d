#include "NecoTest.h"
#include "neco/core/Error.h"
#include "sort/DenseSort.h"

#include <ATen/ATen.h>

#include <cstdio>

using namespace neco::sort;

namespace {

const Relaxation kAll[] = {Relaxation::Cauchy, Relaxation::Logistic, Relaxation::LogisticPhi,
                           Relaxation::Gaussian, Relaxation::Reciprocal, Relaxation::Optimal};

}  // namespace

NECO_TEST(DenseSort, hardLimitIsTheExactPermutation) {
  // Steepness 1e6: logistic (exponential tails) gives the exact permutation; Cauchy's heavy tail
  // (1 - alpha ~ 1 / (pi v)) leaves ~1e-3 on close pairs but rounds to the same permutation.
  at::manual_seed(0);
  for (NetworkKind kind : {NetworkKind::Bitonic, NetworkKind::OddEven}) {
    for (int n : {2, 3, 7, 16, 49}) {
      const SortingNetwork net = buildNetwork(kind, n);
      const at::Tensor x = at::rand({5, n}, at::kDouble) * 2 - 1;
      const auto [values, order] = at::sort(x, 1);
      // X[e, rank(e)] = 1: column k has its 1 at the element sorted into place k.
      const at::Tensor hard = at::zeros({5, n, n}, at::kDouble).scatter_(1, order.unsqueeze(1), 1.0);
      SortOptions logistic{Relaxation::Logistic, 1e6, 0.25};
      const auto exact = denseSoftSort(x, net, logistic);
      NECO_CHECK(at::allclose(exact.sorted, values, 0, 1e-12));
      NECO_CHECK(at::allclose(exact.permutation, hard, 0, 1e-12));
      SortOptions cauchy{Relaxation::Cauchy, 1e6, 0.25};
      const auto soft = denseSoftSort(x, net, cauchy);
      NECO_CHECK(at::equal(soft.permutation.argmax(1), order));
      NECO_CHECK(at::allclose(soft.sorted, values, 0, 1e-4));
      NECO_CHECK(at::allclose(at::matmul(x.unsqueeze(1), soft.permutation).squeeze(1), soft.sorted, 1e-9, 1e-9));
    }
  }
}

NECO_TEST(DenseSort, rowsAndColumnsSumToOneForEveryRelaxation) {
  at::manual_seed(1);
  const SortingNetwork net = buildNetwork(NetworkKind::Bitonic, 49);
  const at::Tensor x = at::rand({8, 49}) * 2 - 1;
  for (Relaxation relaxation : kAll) {
    for (double steepness : {1.0, 10.0, 100.0, 1000.0}) {
      SortOptions o{relaxation, steepness, 0.25};
      const auto r = denseSoftSort(x, net, o);
      const double rowErr = (r.permutation.sum(2) - 1).abs().max().item<double>();
      const double colErr = (r.permutation.sum(1) - 1).abs().max().item<double>();
      if (!(rowErr < 1e-5 && colErr < 1e-5)) {
        ::neco::test::reportFailure(__FILE__, __LINE__, std::string(relaxationName(relaxation)) + " steepness " +
                                                            std::to_string(steepness) + ": sums off by " +
                                                            std::to_string(std::max(rowErr, colErr)));
      }
      NECO_CHECK(r.permutation.ge(0).all().item<bool>());
      NECO_CHECK(at::allclose(at::matmul(x.unsqueeze(1), r.permutation).squeeze(1), r.sorted, 1e-5, 1e-5));
    }
  }
}

NECO_TEST(DenseSort, relaxationsFollowTheirFormulas) {
  const at::Tensor a = at::tensor({0.0, 0.0, 0.0, 0.3}, at::kDouble);
  const at::Tensor b = at::tensor({0.0, 0.01, -0.5, 0.31}, at::kDouble);
  SortOptions o;
  o.steepness = 10;
  const at::Tensor v = (b - a) * 10;
  o.relaxation = Relaxation::Cauchy;
  NECO_CHECK(at::allclose(relaxedAlpha(a, b, o), at::atan(v) / M_PI + 0.5));
  o.relaxation = Relaxation::Logistic;
  NECO_CHECK(at::allclose(relaxedAlpha(a, b, o), at::sigmoid(v)));
  o.relaxation = Relaxation::Reciprocal;
  NECO_CHECK(at::allclose(relaxedAlpha(a, b, o), 0.5 * (v / (2 + v.abs()) + 1)));
  o.relaxation = Relaxation::Optimal;
  const at::Tensor opt = relaxedAlpha(a, b, o);
  NECO_CHECK_NEAR(opt[0].item<double>(), 0.5, 1e-12);
  NECO_CHECK_NEAR(opt[1].item<double>(), 0.6, 1e-12);            // |v| <= 0.25: linear
  NECO_CHECK_NEAR(opt[2].item<double>(), 1.0 / (16 * 5), 1e-9);  // v = -5: 1/(16|v|)
  o.relaxation = Relaxation::Gaussian;
  NECO_CHECK_NEAR(relaxedAlpha(a, b, o)[1].item<double>(), 0.5 + 0.5 * std::erf(0.1 / std::sqrt(2.0)), 1e-12);
  // Every relaxation is 0.5 at a tie and increases with b - a.
  for (Relaxation r : kAll) {
    o.relaxation = r;
    const at::Tensor d = at::linspace(-2, 2, 81, at::kDouble);
    const at::Tensor alpha = relaxedAlpha(at::zeros_like(d), d, o);
    NECO_CHECK(alpha.slice(0, 1).ge(alpha.slice(0, 0, -1)).all().item<bool>());
    NECO_CHECK(alpha.ge(0).all().item<bool>() && alpha.le(1).all().item<bool>());
  }
  NECO_CHECK_THROWS(neco::InvalidArgumentError, parseRelaxation("sinkhorn"));
  NECO_CHECK_THROWS(neco::InvalidArgumentError,
                    denseSoftSort(at::zeros({2, 5}), buildNetwork(NetworkKind::Bitonic, 6), SortOptions{}));
}

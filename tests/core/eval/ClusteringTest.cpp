#include "NecoTest.h"
#include "eval/Clustering.h"
#include "eval/SegmentationMetrics.h"
#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <vector>

using namespace neco::eval;

namespace {

/// n points around each of `centres` (k, d) with spread `sigma`, and their true blob index.
std::pair<at::Tensor, at::Tensor> blobs(const at::Tensor& centres, int n, double sigma, std::uint64_t seed) {
  at::manual_seed(seed);
  const auto k = centres.size(0);
  const at::Tensor label = at::arange(k, at::kLong).repeat_interleave(n);
  return {centres.index_select(0, label) + sigma * at::randn({k * n, centres.size(1)}), label};
}

}  // namespace

NECO_TEST(Clustering, standardiserCentresAndScalesEveryDimension) {
  at::manual_seed(1);
  at::Tensor x = at::randn({1000, 6}) * at::tensor({1.0, 2.0, 0.5, 10.0, 3.0, 1.0}) + 5;
  x.select(1, 5).fill_(7.0);  // a constant dimension keeps scale 1, as sklearn
  const Standardiser s = fitStandardiser(x);
  const at::Tensor y = s.apply(x);
  NECO_CHECK(y.slice(1, 0, 5).mean(0).abs().max().item<double>() < 1e-5);
  NECO_CHECK((y.slice(1, 0, 5).std(0, /*unbiased=*/false) - 1).abs().max().item<double>() < 1e-4);
  NECO_CHECK_EQ(s.scale[5].item<double>(), 1.0);
  NECO_CHECK(y.select(1, 5).abs().max().item<double>() < 1e-6);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, fitStandardiser(at::zeros({0, 3})));
}

NECO_TEST(Clustering, pcaFindsTheDirectionsOfLargestVariance) {
  at::manual_seed(2);
  // variances 25, 4, 1, 0.01 along a random rotation
  const at::Tensor rotation = std::get<0>(at::linalg_qr(at::randn({4, 4}, at::kDouble)));
  const at::Tensor x = at::matmul(at::randn({20000, 4}, at::kDouble) * at::tensor({5.0, 2.0, 1.0, 0.1}, at::kDouble),
                                  rotation.t()) + 3;
  const Pca p = fitPca(x, 2);
  NECO_CHECK(p.components.sizes().equals({4, 2}));
  NECO_CHECK_NEAR(p.variances[0].item<double>(), 25.0, 0.8);
  NECO_CHECK_NEAR(p.variances[1].item<double>(), 4.0, 0.15);
  // each component is (up to sign) a column of the rotation: |cos| close to 1
  for (int j = 0; j < 2; ++j) {
    NECO_CHECK(at::dot(p.components.select(1, j), rotation.select(1, j)).abs().item<double>() > 0.999);
  }
  const at::Tensor y = p.apply(x);
  NECO_CHECK(y.sizes().equals({20000, 2}) && y.mean(0).abs().max().item<double>() < 1e-3);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, fitPca(x, 5));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, fitPca(x, 0));
}

NECO_TEST(Clustering, kmeansSeparatesWellSeparatedBlobsDeterministically) {
  at::manual_seed(3);
  const at::Tensor centres = at::randn({6, 8}) * 10;
  const auto [x, truth] = blobs(centres, 200, 0.5, 4);
  KMeansOptions o;
  o.k = 6;
  o.seed = 11;
  const KMeansResult r = kmeans(x, o);
  NECO_CHECK(r.assignment.sizes().equals({1200}));
  // every blob is one cluster: matched, the purity is perfect
  ConfusionMatrix m(6, 6, -1);
  std::vector<std::int32_t> gt(truth.data_ptr<std::int64_t>(), truth.data_ptr<std::int64_t>() + truth.numel());
  std::vector<std::int32_t> got(r.assignment.data_ptr<std::int64_t>(), r.assignment.data_ptr<std::int64_t>() + r.assignment.numel());
  m.add(gt.data(), got.data(), gt.size());
  NECO_CHECK_EQ(scoreSegmentation(m.relabelled(hungarianMatch(m))).miouReference, 1.0);
  NECO_CHECK(r.inertia < 1200 * 8 * 0.5 * 0.5 * 1.2);  // about the noise's own spread
  const KMeansResult again = kmeans(x, o);
  NECO_CHECK(again.assignment.equal(r.assignment) && again.inertia == r.inertia);
  // more restarts never do worse than one (the best is kept)
  KMeansOptions one = o;
  one.restarts = 1;
  NECO_CHECK(kmeans(x, one).inertia >= r.inertia);
  // over-clustering: k > blobs, every cluster pure, many-to-one matching recovers the blobs
  o.k = 18;
  const KMeansResult over = kmeans(x, o);
  ConfusionMatrix mo(6, 18, -1);
  std::vector<std::int32_t> got18(over.assignment.data_ptr<std::int64_t>(),
                                  over.assignment.data_ptr<std::int64_t>() + over.assignment.numel());
  mo.add(gt.data(), got18.data(), gt.size());
  NECO_CHECK_EQ(scoreSegmentation(mo.relabelled(precisionMatch(mo))).miouReference, 1.0);
  NECO_CHECK(at::bincount(over.assignment, {}, 18).min().item<std::int64_t>() > 0);  // no empty cluster
}

NECO_TEST(Clustering, kmeansEdgeCasesAndBadOptions) {
  const at::Tensor same = at::ones({10, 3});  // every point identical: k-means++ cannot spread, still no NaN
  KMeansOptions o;
  o.k = 3;
  const KMeansResult r = kmeans(same, o);
  NECO_CHECK(at::isfinite(r.centroids).all().item<bool>());
  NECO_CHECK_EQ(r.inertia, 0.0);
  o.k = 11;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, kmeans(same, o));
  o.k = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, kmeans(same, o));
  o.k = 2;
  o.iterations = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, kmeans(same, o));
  const at::Tensor nearest = nearestCentroid(at::tensor({0.f, 10.f, 4.9f}).view({3, 1}), at::tensor({0.f, 10.f}).view({2, 1}));
  NECO_CHECK(nearest.equal(at::tensor({0, 1, 0}, at::kLong)));
}

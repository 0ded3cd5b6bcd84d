#include "NecoTest.h"
#include "neco/core/Error.h"
#include "neco/core/Similarity.h"

#include <cmath>
#include <random>

namespace {

neco::PatchFeatures randomFeatures(int gh, int gw, int dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  neco::PatchFeatures f;
  f.gridH = gh;
  f.gridW = gw;
  f.dim = dim;
  f.tokens.resize(static_cast<size_t>(gh) * gw * dim);
  for (int p = 0; p < gh * gw; ++p) {
    double n = 0;
    for (int k = 0; k < dim; ++k) n += std::pow(f.tokens[p * dim + k] = normal(rng), 2);
    for (int k = 0; k < dim; ++k) f.tokens[p * dim + k] /= static_cast<float>(std::sqrt(n));
  }
  return f;
}

}  // namespace

NECO_TEST(Similarity, mapEqualsDotProductsAndIsOneAtTheQuery) {
  const auto f = randomFeatures(5, 7, 16, 1);
  const auto map = neco::cosineSimilarityMap(f, 12);
  NECO_REQUIRE(map.size() == 35u);
  NECO_CHECK_NEAR(map[12], 1.0, 1e-6);
  for (int p = 0; p < 35; ++p) {
    double dot = 0;
    for (int k = 0; k < 16; ++k) dot += double(f.row(12)[k]) * f.row(p)[k];
    NECO_CHECK_NEAR(map[p], dot, 1e-5);
  }
}

NECO_TEST(Similarity, crossImageMapsUseTheTargetGrid) {
  const auto q = randomFeatures(3, 3, 8, 2), t = randomFeatures(4, 6, 8, 3);
  NECO_CHECK_EQ(neco::cosineSimilarityMap(q, 0, t).size(), 24u);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::cosineSimilarityMap(q, 0, randomFeatures(2, 2, 9, 4)));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::cosineSimilarityMap(q, 9));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::cosineSimilarityMap(q, -1));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::cosineSimilarityMap(neco::PatchFeatures{}, 0));
}

#include "NecoTest.h"
#include "neco/core/Error.h"
#include "ops/CosineSimilarity.h"

#include <ATen/ATen.h>

NECO_TEST(CosineSimilarityOp, cpuTwinMatchesTheAtenFormulation) {
  at::manual_seed(0);
  for (const auto& shape : {std::make_pair(1, 3), std::make_pair(49, 384), std::make_pair(1369, 192)}) {
    const auto features = at::randn({shape.first, shape.second});
    const auto queries = at::randn({3, shape.second});
    const auto expected = at::matmul(queries / queries.norm(2, 1, true), (features / features.norm(2, 1, true)).t());
    const auto got = neco::ops::cosineSimilarity(features, queries);
    NECO_CHECK_EQ(got.size(0), 3);
    NECO_CHECK_EQ(got.size(1), shape.first);
    NECO_CHECK(got.allclose(expected, 1e-5, 1e-5));
  }
}

NECO_TEST(CosineSimilarityOp, selfSimilarityIsOneAndZeroRowsAreFinite) {
  const auto features = at::randn({10, 8});
  const auto sims = neco::ops::cosineSimilarity(features, features.slice(0, 4, 5));
  NECO_CHECK_NEAR(sims[0][4].item<float>(), 1.0, 1e-6);
  NECO_CHECK(sims.le(1.0 + 1e-6).all().item<bool>() && sims.ge(-1.0 - 1e-6).all().item<bool>());
  const auto zero = neco::ops::cosineSimilarity(at::zeros({4, 8}), at::randn({1, 8}));
  NECO_CHECK(at::isfinite(zero).all().item<bool>());
  NECO_CHECK(zero.eq(0).all().item<bool>());
}

NECO_TEST(CosineSimilarityOp, rejectsBadShapesAndTypes) {
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::ops::cosineSimilarity(at::randn({4, 8}), at::randn({1, 7})));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::ops::cosineSimilarity(at::randn({4}), at::randn({1, 4})));
  NECO_CHECK_THROWS(neco::InvalidArgumentError,
                    neco::ops::cosineSimilarity(at::randn({4, 8}, at::kDouble), at::randn({1, 8}, at::kDouble)));
}

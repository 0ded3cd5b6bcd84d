#include "NecoTest.h"
#include "neco/core/Error.h"
#include "neco/core/FeatureExtractor.h"

#include <cmath>

namespace {

neco::RgbImage gradientImage(int w, int h) {
  neco::RgbImage img{w, h, std::vector<std::uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      auto* p = img.at(x, y);
      p[0] = static_cast<std::uint8_t>(255 * x / std::max(1, w - 1));
      p[1] = static_cast<std::uint8_t>(255 * y / std::max(1, h - 1));
      p[2] = static_cast<std::uint8_t>((x / 16 + y / 16) % 2 ? 200 : 40);
    }
  }
  return img;
}

}  // namespace

NECO_TEST(FeatureExtractor, demoModelGivesNormalisedTokensOnThePatchGrid) {
  const auto extractor = neco::FeatureExtractor::createDemo(0);
  const neco::ModelDescription d = extractor->describe();
  NECO_CHECK_EQ(d.patchSize, 14);
  NECO_CHECK(d.parameterCount > 100000);
  const neco::PatchFeatures f = extractor->extract(gradientImage(300, 200), 224);
  NECO_CHECK_EQ(f.gridH, 16);
  NECO_CHECK_EQ(f.gridW, 16);
  NECO_CHECK_EQ(f.dim, d.embedDim);
  NECO_CHECK_EQ(f.inputWidth, 224);
  NECO_REQUIRE(f.tokens.size() == static_cast<size_t>(16 * 16 * d.embedDim));
  for (int p = 0; p < f.patchCount(); ++p) {
    double n = 0;
    for (int k = 0; k < f.dim; ++k) n += double(f.row(p)[k]) * f.row(p)[k];
    NECO_CHECK_NEAR(std::sqrt(n), 1.0, 1e-4);
  }
  // Not a multiple of the patch size: rounded down to whole patches.
  const neco::PatchFeatures g = extractor->extract(gradientImage(64, 64), 230);
  NECO_CHECK_EQ(g.gridW, 16);
  NECO_CHECK_EQ(g.inputWidth, 224);
}

NECO_TEST(FeatureExtractor, deterministicPerSeedAndImageDependent) {
  const auto a = neco::FeatureExtractor::createDemo(0);
  const auto b = neco::FeatureExtractor::createDemo(0);
  const auto c = neco::FeatureExtractor::createDemo(1);
  const auto img = gradientImage(224, 224);
  const auto fa = a->extract(img, 112), fb = b->extract(img, 112), fc = c->extract(img, 112);
  NECO_CHECK(fa.tokens == fb.tokens);
  NECO_CHECK(fa.tokens != fc.tokens);
  auto other = img;
  for (auto& v : other.pixels) v = static_cast<std::uint8_t>(255 - v);
  NECO_CHECK(a->extract(other, 112).tokens != fa.tokens);
}

NECO_TEST(FeatureExtractor, rejectsEmptyImagesAndTinyInputs) {
  const auto e = neco::FeatureExtractor::createDemo(0);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, e->extract(neco::RgbImage{}, 224));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, e->extract(gradientImage(32, 32), 10));
  neco::RgbImage broken = gradientImage(32, 32);
  broken.pixels.resize(10);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, e->extract(broken, 224));
}

NECO_TEST(FeatureExtractor, atLayerReadsAnEarlierBlockOnTheSameWeights) {
  const auto base = neco::FeatureExtractor::createDemo(0);
  const int depth = base->describe().depth;
  NECO_REQUIRE(depth >= 2);
  NECO_CHECK_EQ(base->describe().layer, depth);
  const auto img = gradientImage(224, 224);
  const neco::PatchFeatures last = base->extract(img, 112);
  NECO_CHECK_EQ(last.layer, depth);
  // The last block, by number or by 0, is the base model exactly.
  NECO_CHECK(base->atLayer(depth)->extract(img, 112).tokens == last.tokens);
  NECO_CHECK(base->atLayer(0)->extract(img, 112).tokens == last.tokens);
  // An earlier block: other, still normalised tokens on the same grid, labelled with their block.
  const auto first = base->atLayer(1);
  NECO_CHECK_EQ(first->describe().layer, 1);
  NECO_CHECK_EQ(first->describe().depth, depth);
  const neco::PatchFeatures f = first->extract(img, 112);
  NECO_CHECK_EQ(f.layer, 1);
  NECO_CHECK_EQ(f.gridH, last.gridH);
  NECO_CHECK(f.tokens != last.tokens);
  double n = 0;
  for (int k = 0; k < f.dim; ++k) n += double(f.row(3)[k]) * f.row(3)[k];
  NECO_CHECK_NEAR(std::sqrt(n), 1.0, 1e-4);
  // Outlives the extractor it came from (shares, does not borrow, the weights).
  std::shared_ptr<const neco::FeatureExtractor> kept;
  {
    const auto temporary = neco::FeatureExtractor::createDemo(0);
    kept = temporary->atLayer(1);
  }
  NECO_CHECK(kept->extract(img, 112).tokens == f.tokens);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, base->atLayer(depth + 1));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, base->atLayer(-1));
}

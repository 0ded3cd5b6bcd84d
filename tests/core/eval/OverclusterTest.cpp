#include "NecoTest.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"
#include "neco/core/FeatureExtractor.h"

#include <nlohmann/json.hpp>

#include <random>
#include <vector>

namespace {

constexpr int kGrid = 4, kInput = 56;  // 4 x 4 tokens of 14-pixel patches

/// Images whose 14 x 14 blocks each hold one class (so every token has an exact class), and tokens
/// that are that class's one-hot vector plus noise.
struct BlockImages {
  std::vector<std::vector<float>> tokens;
  std::vector<neco::LabelImage> masks;
};

BlockImages blockImages(int images, int classes, double noise, std::uint64_t seed, bool randomTokens = false) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> cls(0, classes - 1);
  std::normal_distribution<float> gauss(0.f, 1.f);
  BlockImages b;
  for (int i = 0; i < images; ++i) {
    neco::LabelImage m;
    m.width = m.height = kInput;
    m.labels.resize(kInput * kInput);
    std::vector<float> t(static_cast<std::size_t>(kGrid * kGrid * classes), 0.f);
    for (int gy = 0; gy < kGrid; ++gy) {
      for (int gx = 0; gx < kGrid; ++gx) {
        const int c = (i * kGrid * kGrid + gy * kGrid + gx) < classes ? (gy * kGrid + gx) % classes : cls(rng);
        for (int y = 0; y < 14; ++y)
          for (int x = 0; x < 14; ++x) m.at(gx * 14 + x, gy * 14 + y) = static_cast<std::uint8_t>(c);
        for (int d = 0; d < classes; ++d) {
          float& v = t[static_cast<std::size_t>((gy * kGrid + gx) * classes + d)];
          v = randomTokens ? gauss(rng) : (d == c ? 1.f : 0.f) + static_cast<float>(noise) * gauss(rng);
        }
      }
    }
    m.at(0, 0) = 255;  // an ignored pixel
    b.tokens.push_back(std::move(t));
    b.masks.push_back(std::move(m));
  }
  return b;
}

neco::OverclusterOptions fast() {
  neco::OverclusterOptions o;
  o.inputSize = kInput;
  o.seeds = 2;
  o.restarts = 2;
  o.iterations = 50;
  return o;
}

}  // namespace

NECO_TEST(Overcluster, perfectFeaturesScoreOneWithBothMatchings) {
  const BlockImages b = blockImages(12, 5, 0.05, 1);
  neco::OverclusterOptions o = fast();
  o.ks = {5, 15};
  const neco::OverclusterResult r = neco::overclusterTokens(b.tokens, kGrid, kGrid, 5, b.masks, 5, 255, o);
  NECO_REQUIRE(r.runs.size() == 2u);
  NECO_CHECK_EQ(r.runs[0].matching, std::string("hungarian"));
  NECO_CHECK_NEAR(r.runs[0].miou, 1.0, 1e-12);
  NECO_CHECK_EQ(r.runs[1].matching, std::string("many-to-one precision"));
  NECO_CHECK_NEAR(r.runs[1].miou, 1.0, 1e-12);
  NECO_CHECK_EQ(r.runs[0].miouPerSeed.size(), 2u);
  NECO_CHECK_EQ(r.runs[0].predictions.size(), 12u);
  NECO_CHECK_EQ(r.runs[0].predictions[0].width, 100);
  NECO_CHECK_EQ(r.runs[0].imageMiou.size(), 12u);
  NECO_CHECK_NEAR(r.runs[0].imageMiou[3], 1.0, 1e-12);
  NECO_CHECK_EQ(r.runs[0].confusion.size(), 25u);
}

NECO_TEST(Overcluster, randomFeaturesScoreLowAndBadInputIsNamed) {
  const BlockImages b = blockImages(12, 5, 0.0, 2, /*randomTokens=*/true);
  const neco::OverclusterResult r = neco::overclusterTokens(b.tokens, kGrid, kGrid, 5, b.masks, 5, 255, fast());
  NECO_CHECK(r.runs[0].miou < 0.5);
  neco::OverclusterOptions tooMany = fast();
  tooMany.ks = {1000};  // more clusters than the 192 tokens
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::overclusterTokens(b.tokens, kGrid, kGrid, 5, b.masks, 5, 255, tooMany));
  std::vector<neco::LabelImage> fewer(b.masks.begin(), b.masks.end() - 1);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::overclusterTokens(b.tokens, kGrid, kGrid, 5, fewer, 5, 255, fast()));
  neco::OverclusterOptions zero = fast();
  zero.seeds = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::overclusterTokens(b.tokens, kGrid, kGrid, 5, b.masks, 5, 255, zero));
}

NECO_TEST(Overcluster, demoModelOnTheDemoScenesEndToEnd) {
  const auto model = neco::FeatureExtractor::createDemo(0);
  const auto data = neco::demoEvaluationData();
  NECO_CHECK_EQ(data->size(), 16u);
  NECO_CHECK_EQ(data->classCount(), 7);
  neco::OverclusterOptions o;
  o.inputSize = 112;
  o.maskSize = 32;
  o.seeds = 1;
  o.restarts = 1;
  o.iterations = 20;
  o.ks = {7, 21};
  std::size_t calls = 0;
  const neco::OverclusterResult r =
      neco::evaluateOvercluster(*model, *data, o, [&](std::size_t, std::size_t, const std::string&) { ++calls; });
  NECO_CHECK(calls >= 16);
  NECO_CHECK_EQ(r.tokens, 16 * 8 * 8);
  NECO_REQUIRE(r.runs.size() == 2u);
  for (const auto& run : r.runs) NECO_CHECK(run.miou > 0 && run.miou < 1 && std::isfinite(run.miouPresent));
  const nlohmann::json j = nlohmann::json::parse(neco::overclusterJson(r));
  NECO_CHECK_EQ(j["protocol"].get<std::string>(), std::string("overcluster"));
  NECO_CHECK_EQ(j["runs"].size(), 2u);
  NECO_CHECK_EQ(j["runs"][0]["per_class"].size(), 7u);
  NECO_CHECK_EQ(j["runs"][0]["per_class"][1]["name"].get<std::string>(), neco::demoClassNames()[1]);
  NECO_CHECK(neco::overclusterMarkdown(r).find("| 21 | many-to-one precision |") != std::string::npos);
  NECO_CHECK(neco::overclusterCsv(r).find("7,hungarian,miou,,") != std::string::npos);
}

#include "NecoTest.h"
#include "eval/LabelMaps.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"
#include "neco/core/FeatureExtractor.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <random>
#include <vector>

namespace {

neco::LabelImage labels(int w, int h, std::vector<std::uint8_t> v) {
  neco::LabelImage m;
  m.width = w;
  m.height = h;
  m.labels = std::move(v);
  return m;
}

/// Scenes of 14-pixel blocks, each one solid colour that names its class exactly (3 classes), so a
/// linear head on any sensible features separates them; one block per image is ignored (255).
class BlockScenes : public neco::EvaluationData {
 public:
  BlockScenes(int count, std::uint64_t seed, int badLabel = -1) : badLabel_(badLabel) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> cls(0, 2);
    for (int i = 0; i < count; ++i) {
      std::vector<int> blocks(16);
      for (int& b : blocks) b = cls(rng);
      layouts_.push_back(blocks);
    }
  }
  std::size_t size() const override { return layouts_.size(); }
  neco::RgbImage image(std::size_t index) const override {
    static constexpr std::array<std::array<std::uint8_t, 3>, 3> kColours{{{220, 40, 40}, {40, 200, 60}, {40, 60, 220}}};
    neco::RgbImage im;
    im.width = im.height = 56;
    im.pixels.resize(56 * 56 * 3);
    for (int y = 0; y < 56; ++y)
      for (int x = 0; x < 56; ++x)
        for (int c = 0; c < 3; ++c) {
          im.pixels[static_cast<std::size_t>((y * 56 + x) * 3 + c)] = kColours[static_cast<std::size_t>(block(index, x, y))][static_cast<std::size_t>(c)];
        }
    return im;
  }
  neco::LabelImage mask(std::size_t index) const override {
    neco::LabelImage m;
    m.width = m.height = 56;
    m.labels.resize(56 * 56);
    for (int y = 0; y < 56; ++y)
      for (int x = 0; x < 56; ++x) m.at(x, y) = static_cast<std::uint8_t>(x < 14 && y < 14 ? 255 : block(index, x, y));
    if (badLabel_ >= 0 && index == 1) m.at(30, 30) = static_cast<std::uint8_t>(badLabel_);
    return m;
  }
  std::string id(std::size_t index) const override { return "block-" + std::to_string(index); }
  int classCount() const override { return 3; }
  int ignoreIndex() const override { return 255; }
  std::vector<std::string> classNames() const override { return {"red", "green", "blue"}; }
  std::string describe() const override { return "block scenes (" + std::to_string(size()) + " images)"; }

 private:
  int block(std::size_t index, int x, int y) const { return layouts_[index][static_cast<std::size_t>((y / 14) * 4 + x / 14)]; }
  std::vector<std::vector<int>> layouts_;
  int badLabel_;
};

neco::LinearProbeOptions blockOptions() {
  neco::LinearProbeOptions o;
  o.inputSize = 56;  // 4 x 4 tokens, one per block
  o.maskSize = 4;    // one target pixel per token: no upsampling blur at block edges
  o.epochs = 40;
  o.decayEpoch = 30;
  o.learningRate = 0.5;
  o.batchSize = 8;
  o.augment = false;
  return o;
}

}  // namespace

NECO_TEST(LabelMaps, pilAndTorchNearestRulesAndTheReferenceComposition) {
  const neco::LabelImage row = labels(3, 1, {0, 1, 2});
  // PIL: the source pixel under the output centre: (x + 0.5) * 3 / 2 -> 0, 2
  NECO_CHECK(neco::eval::pilNearest(row, 2, 1).labels == std::vector<std::uint8_t>({0, 2}));
  // torch: floor(x * 3 / 2) -> 0, 1
  NECO_CHECK(neco::eval::torchNearest(row, 2, 1).labels == std::vector<std::uint8_t>({0, 1}));
  // upscaling 2 -> 5: PIL (x + 0.5) * 2 / 5 -> 0 0 1 1 1, torch floor(x * 2 / 5) -> 0 0 0 1 1
  const neco::LabelImage two = labels(2, 1, {7, 9});
  NECO_CHECK(neco::eval::pilNearest(two, 5, 1).labels == std::vector<std::uint8_t>({7, 7, 9, 9, 9}));
  NECO_CHECK(neco::eval::torchNearest(two, 5, 1).labels == std::vector<std::uint8_t>({7, 7, 7, 9, 9}));
  // the reference's ground truth: PIL to the input size, then torch to the compared size
  std::vector<std::uint8_t> v(7 * 7);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i);
  const neco::LabelImage m = labels(7, 7, v);
  NECO_CHECK(neco::eval::referenceMaskResize(m, 10, 4).labels ==
             neco::eval::torchNearest(neco::eval::pilNearest(m, 10, 10), 4, 4).labels);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::eval::pilNearest(m, 0, 3));
  const neco::eval::MeanStd s = neco::eval::meanAndStd({1.0, 3.0});
  NECO_CHECK_NEAR(s.mean, 2.0, 1e-12);
  NECO_CHECK_NEAR(s.std, 1.0, 1e-12);
  NECO_CHECK_EQ(neco::eval::className({"a"}, 0), std::string("a"));
  NECO_CHECK_EQ(neco::eval::className({"a"}, 3), std::string("3"));
}

NECO_TEST(LinearProbe, headOnTheGridThenUpsamplingEqualsTheReferenceOrder) {
  // the reference upsamples tokens to 100² and then applies the 1x1 conv; the probe convolves on the grid
  at::manual_seed(3);
  const at::Tensor x = at::randn({2, 24, 8, 8}), w = at::randn({5, 24, 1, 1}), b = at::randn({5});
  const at::Tensor reference = at::conv2d(at::upsample_bilinear2d(x, {100, 100}, false), w, b);
  const at::Tensor ours = at::upsample_bilinear2d(at::conv2d(x, w, b), {100, 100}, false);
  NECO_CHECK(at::allclose(reference, ours, 1e-4, 1e-4));
}

NECO_TEST(LinearProbe, separableScenesAreLearnedPerfectly) {
  const auto model = neco::FeatureExtractor::createDemo(0);
  const BlockScenes train(24, 1), val(8, 2);
  const neco::LinearProbeResult r = neco::evaluateLinearProbe(*model, train, val, blockOptions());
  NECO_CHECK_NEAR(r.miou, 1.0, 1e-9);
  NECO_CHECK_NEAR(r.pixelAccuracy, 1.0, 1e-9);
  // at 56² the 4 x 4 logits are bilinearly upsampled, which moves class borders between blocks of
  // different confidence: block centres stay right, edges and corners less so
  NECO_CHECK(r.miouFull > 0.7 && r.miouFull < r.miou);
  NECO_CHECK(r.epochLoss.back() < 0.5 * r.epochLoss.front());
  NECO_REQUIRE(r.predictions.size() == 8u && r.targets.size() == 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    for (std::size_t p = 1; p < 16; ++p) NECO_CHECK_EQ(r.predictions[i].labels[p], r.targets[i].labels[p]);
    NECO_CHECK_EQ(r.targets[i].labels[0], 255);  // the ignored block stays ignored
    NECO_CHECK_NEAR(r.imageMiou[i], 1.0, 1e-9);
  }
  // the confusion matrix is diagonal and counts every scored pixel once
  std::int64_t total = 0;
  for (int g = 0; g < 3; ++g)
    for (int p = 0; p < 3; ++p) {
      const std::int64_t n = r.confusion[static_cast<std::size_t>(g * 3 + p)];
      total += n;
      if (g != p) NECO_CHECK_EQ(n, 0);
    }
  NECO_CHECK_EQ(total, 8 * 15);
}

NECO_TEST(LinearProbe, featureCachingAndDeterminism) {
  const auto model = neco::FeatureExtractor::createDemo(0);
  const BlockScenes train(6, 1), val(3, 2);
  neco::LinearProbeOptions o = blockOptions();
  o.epochs = 3;
  // no augmentation: one view, computed once, whatever the epochs
  NECO_CHECK_EQ(neco::evaluateLinearProbe(*model, train, val, o).backbonePasses, 6);
  // the reference's augmentation: a fresh view every epoch
  o.augment = true;
  o.maskSize = 8;
  const neco::LinearProbeResult fresh = neco::evaluateLinearProbe(*model, train, val, o);
  NECO_CHECK_EQ(fresh.backbonePasses, 3 * 6);
  // two cached views cycled
  o.cachedViews = 2;
  const neco::LinearProbeResult cycled = neco::evaluateLinearProbe(*model, train, val, o);
  NECO_CHECK_EQ(cycled.backbonePasses, 2 * 6);
  // views depend on (seed, view, image) only: the first two epochs see the same crops either way
  o.epochs = 2;
  o.cachedViews = 0;
  const neco::LinearProbeResult a = neco::evaluateLinearProbe(*model, train, val, o);
  o.cachedViews = 2;
  const neco::LinearProbeResult b = neco::evaluateLinearProbe(*model, train, val, o);
  NECO_CHECK(a.epochLoss == b.epochLoss);
  NECO_CHECK(a.confusion == b.confusion);
  // another seed, other crops and another head
  o.seed = 5;
  NECO_CHECK(neco::evaluateLinearProbe(*model, train, val, o).epochLoss != b.epochLoss);
}

NECO_TEST(LinearProbe, badInputIsNamed) {
  const auto model = neco::FeatureExtractor::createDemo(0);
  const BlockScenes train(4, 1), val(2, 2);
  neco::LinearProbeOptions o = blockOptions();
  o.epochs = 1;
  // a label that is neither a class nor the ignore index names the image
  try {
    neco::evaluateLinearProbe(*model, BlockScenes(4, 1, /*badLabel=*/7), val, o);
    NECO_CHECK(false);
  } catch (const neco::FormatError& e) {
    NECO_CHECK(std::string(e.what()).find("block-1") != std::string::npos);
    NECO_CHECK(std::string(e.what()).find("label 7") != std::string::npos);
  }
  const auto demo = neco::demoEvaluationData();  // 7 classes against 3
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::evaluateLinearProbe(*model, train, *demo, o));
  o.inputSize = 10;  // below one patch
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::evaluateLinearProbe(*model, train, val, o));
  o = blockOptions();
  o.learningRate = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::evaluateLinearProbe(*model, train, val, o));
}

NECO_TEST(LinearProbe, demoProtocolEndToEnd) {
  const auto model = neco::FeatureExtractor::createDemo(0);
  const auto train = neco::demoEvaluationData({}, "train"), val = neco::demoEvaluationData({}, "val");
  neco::LinearProbeOptions o;
  o.inputSize = 112;
  o.maskSize = 32;
  o.epochs = 4;
  o.decayEpoch = 3;
  o.batchSize = 16;
  o.cachedViews = 2;
  o.validateEvery = 2;
  std::size_t calls = 0;
  const neco::LinearProbeResult r =
      neco::evaluateLinearProbe(*model, *train, *val, o, [&](std::size_t, std::size_t, const std::string&) { ++calls; });
  NECO_CHECK(calls >= 48 * 2 + 16);
  NECO_CHECK_EQ(r.backbonePasses, 2 * 48);
  NECO_CHECK(r.miou > 0 && r.miou <= 1 && r.miouFull > 0 && r.miouFull <= 1);
  NECO_CHECK_EQ(r.epochLoss.size(), 4u);
  NECO_REQUIRE(r.validationCurve.size() == 2u);
  NECO_CHECK_EQ(r.validationCurve[0].first, 2);
  NECO_CHECK_NEAR(r.validationCurve[1].second, r.miou, 1e-12);
  NECO_CHECK_EQ(r.predictions.size(), 16u);
  NECO_CHECK_EQ(r.predictions[0].width, 32);
  NECO_CHECK_EQ(r.confusion.size(), 49u);
  const nlohmann::json j = nlohmann::json::parse(neco::linearProbeJson(r));
  NECO_CHECK_EQ(j["protocol"].get<std::string>(), std::string("linear"));
  NECO_CHECK_EQ(j["per_class"].size(), 7u);
  NECO_CHECK_NEAR(j["miou"].get<double>(), r.miou, 1e-12);
  NECO_CHECK_EQ(j["config"]["cached_views"].get<int>(), 2);
  NECO_CHECK(neco::linearProbeMarkdown(r).find("| full mask size |") != std::string::npos);
  NECO_CHECK(neco::linearProbeCsv(r).find("miou,,") != std::string::npos);
}

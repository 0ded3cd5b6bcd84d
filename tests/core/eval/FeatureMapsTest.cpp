// PCA-to-RGB maps against numpy (tests/reference/make_pca_rgb_fixture.py), the background rule, the
// shared basis, the k-means patch map and the errors of every entry point.
#include "NecoTest.h"
#include "../checkpoint/ReferenceFixtures.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"
#include "neco/core/FeatureMaps.h"

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using neco::PatchFeatures;

namespace {

struct Golden {
  std::map<std::string, std::vector<double>> f64;
  std::map<std::string, std::vector<float>> f32;
  std::map<std::string, std::string> meta;
};

Golden readGolden() {
  const auto st = neco::formats::readSafetensors(neco::test::dataDir() / "eval" / "pca_rgb_golden.safetensors");
  Golden g;
  g.meta.insert(st.metadata.begin(), st.metadata.end());
  for (const auto& e : st.tensors) {
    const auto bytes = e.tensor.contiguousBytes();
    if (e.tensor.dtype == neco::formats::DType::F32) {
      auto& v = g.f32[e.name];
      v.resize(bytes.size() / sizeof(float));
      std::memcpy(v.data(), bytes.data(), bytes.size());
    } else {
      auto& v = g.f64[e.name];
      v.resize(bytes.size() / sizeof(double));
      std::memcpy(v.data(), bytes.data(), bytes.size());
    }
  }
  return g;
}

PatchFeatures features(int gridH, int gridW, int dim, std::vector<float> tokens) {
  PatchFeatures f;
  f.gridH = gridH;
  f.gridW = gridW;
  f.dim = dim;
  f.tokens = std::move(tokens);
  return f;
}

/// Left half of the grid near direction a, right half near direction b (unit rows, small noise).
PatchFeatures twoHalves(int gridH, int gridW, int dim, int a, int b, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> t(static_cast<std::size_t>(gridH) * gridW * dim);
  for (int y = 0; y < gridH; ++y) {
    for (int x = 0; x < gridW; ++x) {
      float* row = t.data() + (static_cast<std::size_t>(y) * gridW + x) * dim;
      double norm = 0;
      for (int d = 0; d < dim; ++d) {
        row[d] = noise(rng) + (d == (x < gridW / 2 ? a : b) ? 1.0f : 0.0f);
        norm += double(row[d]) * row[d];
      }
      for (int d = 0; d < dim; ++d) row[d] = static_cast<float>(row[d] / std::sqrt(norm));
    }
  }
  return features(gridH, gridW, dim, std::move(t));
}

}  // namespace

NECO_TEST(FeatureMaps, pcaRgbMatchesNumpy) {
  const Golden g = readGolden();
  const int gridH = std::stoi(g.meta.at("grid_h")), gridW = std::stoi(g.meta.at("grid_w"));
  const int dim = std::stoi(g.meta.at("dim")), keep = std::stoi(g.meta.at("components"));
  const PatchFeatures a = features(gridH, gridW, dim, g.f32.at("tokens_0"));
  const PatchFeatures b = features(gridH, gridW, dim, g.f32.at("tokens_1"));
  neco::PcaRgbOptions o;
  o.components = keep;
  o.lowPercentile = std::stod(g.meta.at("low_percentile"));
  o.highPercentile = std::stod(g.meta.at("high_percentile"));
  const neco::PcaRgbBasis basis = neco::fitPcaRgbBasis({&a, &b}, o);
  NECO_REQUIRE(basis.dim == dim && basis.count() == keep);
  for (int d = 0; d < dim; ++d) NECO_CHECK_NEAR(basis.mean[d], g.f64.at("mean")[d], 1e-6);
  for (std::size_t i = 0; i < basis.components.size(); ++i) {
    NECO_CHECK_NEAR(basis.components[i], g.f64.at("components")[i], 1e-5);  // same sign convention
  }
  for (int c = 0; c < keep; ++c) {
    NECO_CHECK_NEAR(basis.variances[c], g.f64.at("variances")[c], 1e-6);
    NECO_CHECK_NEAR(basis.low[c], g.f64.at("low")[c], 1e-5);
    NECO_CHECK_NEAR(basis.high[c], g.f64.at("high")[c], 1e-5);
    NECO_CHECK(basis.low[c] < basis.high[c]);
  }
  const neco::PcaBackground bg{std::stof(g.meta.at("threshold")), std::stoi(g.meta.at("background_component"))};
  int backgroundPatches = 0;
  for (int i = 0; i < 2; ++i) {
    const PatchFeatures& f = i == 0 ? a : b;
    const neco::PatchRgbMap plain = neco::projectPcaRgb(f, basis, {0, 1, 2});
    NECO_CHECK(plain.width == gridW && plain.height == gridH);
    const auto& want = g.f64.at("rgb_" + std::to_string(i));
    NECO_REQUIRE(plain.rgb.size() == want.size());
    // byte-exact: the generator checked every value is >= 0.003 of a byte away from a rounding edge
    for (std::size_t j = 0; j < want.size(); ++j) NECO_CHECK_EQ(int(plain.rgb[j]), int(want[j]));
    const neco::PatchRgbMap masked = neco::projectPcaRgb(f, basis, {3, 1, 0}, bg);
    const auto& wantBg = g.f64.at("rgb_bg_" + std::to_string(i));
    const auto& wantMask = g.f64.at("background_" + std::to_string(i));
    for (std::size_t j = 0; j < wantBg.size(); ++j) NECO_CHECK_EQ(int(masked.rgb[j]), int(wantBg[j]));
    for (std::size_t p = 0; p < wantMask.size(); ++p) {
      NECO_CHECK_EQ(int(masked.background[p]), int(wantMask[p]));
      backgroundPatches += masked.background[p];
    }
  }
  NECO_CHECK(backgroundPatches > 5 && backgroundPatches < 55);  // the fixture exercises both sides
}

NECO_TEST(FeatureMaps, backgroundBlacksOutTheLowSideOfItsComponent) {
  const PatchFeatures f = twoHalves(4, 6, 8, 0, 1, 1);
  const neco::PcaRgbBasis basis = neco::fitPcaRgbBasis({&f}, {});
  const neco::PatchRgbMap plain = neco::projectPcaRgb(f, basis, {0, 1, 2});
  // the first component separates the halves: one side maps low, the other high
  const int left = plain.rgb[0], right = plain.rgb[3 * 5];
  NECO_CHECK(std::abs(left - right) > 200);
  const neco::PatchRgbMap masked = neco::projectPcaRgb(f, basis, {0, 1, 2}, neco::PcaBackground{0.5f, 0});
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 6; ++x) {
      const int p = y * 6 + x;
      const bool lowSide = (x < 3) == (left < right);
      NECO_CHECK_EQ(int(masked.background[p]), lowSide ? 1 : 0);
      if (lowSide) {
        NECO_CHECK(masked.rgb[3 * p] == 0 && masked.rgb[3 * p + 1] == 0 && masked.rgb[3 * p + 2] == 0);
      } else {
        NECO_CHECK(masked.rgb[3 * p] == plain.rgb[3 * p] && masked.rgb[3 * p + 2] == plain.rgb[3 * p + 2]);
      }
    }
  }
  // threshold 0 keeps everything
  const neco::PatchRgbMap none = neco::projectPcaRgb(f, basis, {0, 1, 2}, neco::PcaBackground{0.0f, 0});
  NECO_CHECK(none.rgb == plain.rgb);
}

NECO_TEST(FeatureMaps, sharedBasisGivesIdenticalTokensTheSameColour) {
  PatchFeatures a = twoHalves(3, 4, 8, 0, 1, 2);
  PatchFeatures b = twoHalves(5, 2, 8, 2, 3, 3);
  // patch 7 of b is a copy of patch 0 of a
  std::copy(a.row(0), a.row(0) + 8, b.tokens.begin() + 7 * 8);
  const neco::PcaRgbBasis basis = neco::fitPcaRgbBasis({&a, &b}, {});
  const neco::PatchRgbMap ma = neco::projectPcaRgb(a, basis, {0, 1, 2});
  const neco::PatchRgbMap mb = neco::projectPcaRgb(b, basis, {0, 1, 2});
  NECO_CHECK(mb.width == 2 && mb.height == 5);
  for (int ch = 0; ch < 3; ++ch) NECO_CHECK_EQ(int(ma.rgb[ch]), int(mb.rgb[7 * 3 + ch]));
  // and a basis fitted on b alone is a different picture of a
  const neco::PcaRgbBasis own = neco::fitPcaRgbBasis({&b}, {});
  NECO_CHECK(neco::projectPcaRgb(a, own, {0, 1, 2}).rgb != ma.rgb);
}

NECO_TEST(FeatureMaps, kmeansSeparatesTwoClustersDeterministically) {
  const PatchFeatures f = twoHalves(8, 10, 16, 4, 9, 5);
  const std::vector<int> labels = neco::kmeansPatchLabels(f, 2, 3);
  NECO_REQUIRE(labels.size() == 80u);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 10; ++x) NECO_CHECK_EQ(labels[y * 10 + x], x < 5 ? 0 : 1);  // renumbered: patch 0 is 0
  }
  NECO_CHECK(neco::kmeansPatchLabels(f, 2, 3) == labels);
  const std::vector<int> five = neco::kmeansPatchLabels(f, 5, 11);
  NECO_CHECK(five == neco::kmeansPatchLabels(f, 5, 11));
  NECO_CHECK_EQ(std::set<int>(five.begin(), five.end()).size(), 5u);
  // raw (not normalised) tokens cluster the same: the map is cosine
  PatchFeatures scaled = f;
  for (std::size_t i = 0; i < scaled.tokens.size(); ++i) scaled.tokens[i] *= 1.0f + float(i / 16 % 7);
  scaled.normalised = false;
  NECO_CHECK(neco::kmeansPatchLabels(scaled, 2, 3) == labels);
}

NECO_TEST(FeatureMaps, errorsNameTheArgument) {
  const PatchFeatures f = twoHalves(3, 3, 8, 0, 1, 6);
  const PatchFeatures other = twoHalves(3, 3, 6, 0, 1, 7);
  const PatchFeatures empty;
  using neco::InvalidArgumentError;
  NECO_CHECK_THROWS(InvalidArgumentError, neco::fitPcaRgbBasis({}, {}));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::fitPcaRgbBasis({&empty}, {}));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::fitPcaRgbBasis({&f, nullptr}, {}));
  try {
    neco::fitPcaRgbBasis({&f, &other}, {});
    NECO_CHECK(false);
  } catch (const InvalidArgumentError& e) {
    NECO_CHECK(std::string(e.what()).find("image 1 has 6-d tokens") != std::string::npos);
  }
  neco::PcaRgbOptions o;
  o.components = 2;
  NECO_CHECK_THROWS(InvalidArgumentError, neco::fitPcaRgbBasis({&f}, o));
  o.components = 9;
  NECO_CHECK_THROWS(InvalidArgumentError, neco::fitPcaRgbBasis({&f}, o));
  o = {};
  o.components = 8;  // == dim is allowed
  o.lowPercentile = 50;
  o.highPercentile = 50;
  NECO_CHECK_THROWS(InvalidArgumentError, neco::fitPcaRgbBasis({&f}, o));
  o.lowPercentile = 1;
  o.highPercentile = 100.5;
  NECO_CHECK_THROWS(InvalidArgumentError, neco::fitPcaRgbBasis({&f}, o));

  const neco::PcaRgbBasis basis = neco::fitPcaRgbBasis({&f}, {});
  NECO_CHECK_EQ(basis.count(), 8);
  NECO_CHECK_THROWS(InvalidArgumentError, neco::projectPcaRgb(empty, basis, {0, 1, 2}));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::projectPcaRgb(other, basis, {0, 1, 2}));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::projectPcaRgb(f, neco::PcaRgbBasis{}, {0, 1, 2}));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::projectPcaRgb(f, basis, {0, 8, 2}));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::projectPcaRgb(f, basis, {-1, 1, 2}));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::projectPcaRgb(f, basis, {0, 1, 2}, neco::PcaBackground{0.5f, 8}));
  try {
    neco::projectPcaRgb(other, basis, {0, 1, 2});
  } catch (const InvalidArgumentError& e) {
    NECO_CHECK(std::string(e.what()).find("6-d tokens, the basis was fitted on 8-d") != std::string::npos);
  }

  NECO_CHECK_THROWS(InvalidArgumentError, neco::kmeansPatchLabels(empty, 2, 0));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::kmeansPatchLabels(f, 0, 0));
  NECO_CHECK_THROWS(InvalidArgumentError, neco::kmeansPatchLabels(f, 10, 0));
  NECO_CHECK_EQ(neco::kmeansPatchLabels(f, 9, 0).size(), 9u);  // one cluster per patch is allowed
}

// The demo scene renderer: deterministic, sizes and labels in range, a VOC void band exactly along
// label boundaries, and images in which the classes are visible and differ in texture.

#include "NecoTest.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

constexpr int kClassCount = 7;  // background + 6
constexpr int kScenes = 64;

const std::vector<neco::DemoScene>& scenes() {  // rendered once, shared by the cases below
  static const std::vector<neco::DemoScene> all = [] {
    std::vector<neco::DemoScene> v;
    for (int i = 0; i < kScenes; ++i) v.push_back(neco::renderDemoScene(7, i, neco::DemoDatasetOptions{}));
    return v;
  }();
  return all;
}

bool isVoid(const neco::LabelImage& l, int x, int y) { return l.at(x, y) == neco::LabelImage::kIgnore; }

// True when the (2r+1)^2 window around (x, y) holds two non-void pixels with different labels.
bool differentLabelsNear(const neco::LabelImage& l, int x, int y, int r) {
  int first = -1;
  for (int yy = std::max(0, y - r); yy <= std::min(l.height - 1, y + r); ++yy) {
    for (int xx = std::max(0, x - r); xx <= std::min(l.width - 1, x + r); ++xx) {
      if (isVoid(l, xx, yy)) continue;
      if (first < 0) first = l.at(xx, yy);
      else if (l.at(xx, yy) != first) return true;
    }
  }
  return false;
}

struct ClassStats {
  double pixels = 0;
  double saturation = 0;  // mean of max(r,g,b) - min(r,g,b)
  double gradient = 0;    // mean |horizontal difference| summed over channels, inside one label
  std::array<double, 3> colour{};
};

// Per-class statistics over all scenes, taken on non-void pixels whose right neighbour has the same label.
std::array<ClassStats, kClassCount> classStats() {
  std::array<ClassStats, kClassCount> stats{};
  for (const neco::DemoScene& s : scenes()) {
    for (int y = 0; y < s.image.height; ++y) {
      for (int x = 0; x + 1 < s.image.width; ++x) {
        const std::uint8_t label = s.labels.at(x, y);
        if (label >= kClassCount || s.labels.at(x + 1, y) != label) continue;
        const std::uint8_t *p = s.image.at(x, y), *q = s.image.at(x + 1, y);
        ClassStats& c = stats[label];
        c.pixels += 1;
        c.saturation += std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]});
        for (int k = 0; k < 3; ++k) {
          c.gradient += std::abs(int(p[k]) - int(q[k]));
          c.colour[k] += p[k];
        }
      }
    }
  }
  for (ClassStats& c : stats) {
    if (c.pixels == 0) continue;
    c.saturation /= c.pixels, c.gradient /= c.pixels;
    for (double& v : c.colour) v /= c.pixels;
  }
  return stats;
}

}  // namespace

NECO_TEST(DemoScene, deterministic) {
  const neco::DemoDatasetOptions options;
  const neco::DemoScene a = neco::renderDemoScene(7, 3, options), b = neco::renderDemoScene(7, 3, options);
  NECO_CHECK(a.image.pixels == b.image.pixels);
  NECO_CHECK(a.labels.labels == b.labels.labels);
  NECO_CHECK(neco::renderDemoScene(7, 4, options).image.pixels != a.image.pixels);
  NECO_CHECK(neco::renderDemoScene(8, 3, options).image.pixels != a.image.pixels);
  NECO_CHECK(scenes()[3].labels.labels == a.labels.labels);
}

NECO_TEST(DemoScene, sizesWithinRange) {
  int nonSquare = 0;
  for (const neco::DemoScene& s : scenes()) {
    NECO_CHECK(s.image.width >= 192 && s.image.width <= 320 && s.image.height >= 192 && s.image.height <= 320);
    NECO_CHECK(s.labels.width == s.image.width && s.labels.height == s.image.height);
    NECO_CHECK_EQ(s.image.pixels.size(), std::size_t(s.image.width) * s.image.height * 3);
    NECO_CHECK_EQ(s.labels.labels.size(), std::size_t(s.image.width) * s.image.height);
    nonSquare += s.image.width != s.image.height;
  }
  NECO_CHECK(nonSquare > kScenes / 2);
  neco::DemoDatasetOptions small;
  small.minSide = 64, small.maxSide = 70;
  const neco::DemoScene s = neco::renderDemoScene(1, 0, small);
  NECO_CHECK(s.image.width >= 64 && s.image.width <= 70 && s.image.height >= 64 && s.image.height <= 70);
}

NECO_TEST(DemoScene, labelsAreClassesOrVoid) {
  for (const neco::DemoScene& s : scenes()) {
    for (std::uint8_t v : s.labels.labels) NECO_REQUIRE(v < kClassCount || v == neco::LabelImage::kIgnore);
  }
}

NECO_TEST(DemoScene, voidBandCoversExactlyTheBoundaries) {
  for (const neco::DemoScene& s : scenes()) {
    const neco::LabelImage& l = s.labels;
    std::size_t voidPixels = 0;
    for (int y = 0; y < l.height; ++y) {
      for (int x = 0; x < l.width; ++x) {
        if (isVoid(l, x, y)) {
          ++voidPixels;
          NECO_REQUIRE(differentLabelsNear(l, x, y, 3));  // the band lies along a boundary
          continue;
        }
        for (int dy = -1; dy <= 1; ++dy) {  // no two touching non-void pixels differ
          for (int dx = -1; dx <= 1; ++dx) {
            const int nx = x + dx, ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= l.width || ny >= l.height || isVoid(l, nx, ny)) continue;
            NECO_REQUIRE(l.at(nx, ny) == l.at(x, y));
          }
        }
      }
    }
    NECO_CHECK(voidPixels > 0);
    NECO_CHECK(voidPixels < l.labels.size() / 8);  // a thin band, not a blanket
  }
}

NECO_TEST(DemoScene, everyClassAppearsIn64Scenes) {
  std::array<int, kClassCount> seen{};
  for (const neco::DemoScene& s : scenes()) {
    for (std::uint8_t v : s.labels.labels) {
      if (v < kClassCount) ++seen[v];
    }
  }
  for (int k = 0; k < kClassCount; ++k) NECO_CHECK(seen[k] > 1000);
}

NECO_TEST(DemoScene, shapesStandOutFromTheBackground) {
  // Per scene: the mean colour of every visible object differs clearly from the background's.
  for (const neco::DemoScene& s : scenes()) {
    std::array<std::array<double, 4>, kClassCount> sums{};  // r, g, b, count
    for (int y = 0; y < s.image.height; ++y) {
      for (int x = 0; x < s.image.width; ++x) {
        const std::uint8_t label = s.labels.at(x, y);
        if (label >= kClassCount) continue;
        for (int k = 0; k < 3; ++k) sums[label][k] += s.image.at(x, y)[k];
        sums[label][3] += 1;
      }
    }
    for (int k = 1; k < kClassCount && sums[0][3] > 0; ++k) {
      if (sums[k][3] < 300) continue;  // mostly hidden behind other shapes
      double distance = 0;
      for (int c = 0; c < 3; ++c) distance += std::abs(sums[k][c] / sums[k][3] - sums[0][c] / sums[0][3]);
      NECO_CHECK(distance > 30);
    }
  }
}

NECO_TEST(DemoScene, classesHaveTheirOwnTextureSignature) {
  const auto stats = classStats();
  for (int k = 1; k < kClassCount; ++k) {
    NECO_REQUIRE(stats[k].pixels > 0);
    NECO_CHECK(stats[k].saturation > stats[0].saturation + 40);  // objects are vivid, background is not
  }
  const int gradientEllipse = 5;
  for (int k : {1, 2, 3, 4, 6}) NECO_CHECK(stats[k].gradient > 3 * stats[gradientEllipse].gradient);
  for (int a = 1; a < kClassCount; ++a) {  // crude: no two classes share both signatures
    for (int b = a + 1; b < kClassCount; ++b) {
      const bool sameGradient = std::abs(stats[a].gradient - stats[b].gradient) < 3;
      const bool sameSaturation = std::abs(stats[a].saturation - stats[b].saturation) < 3;
      NECO_CHECK(!(sameGradient && sameSaturation));
    }
  }
}

NECO_TEST(DemoScene, rejectsBadArguments) {
  neco::DemoDatasetOptions o;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::renderDemoScene(7, -1, o));
  o.minSide = 10;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::renderDemoScene(7, 0, o));
  o.minSide = 300, o.maxSide = 200;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::renderDemoScene(7, 0, o));
  o.minSide = 200, o.maxSide = 5000;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::renderDemoScene(7, 0, o));
}

NECO_TEST(DemoScene, classNames) {
  const std::vector<std::string> names = neco::demoClassNames();
  NECO_REQUIRE(names.size() == std::size_t(kClassCount));
  NECO_CHECK_EQ(names[0], std::string("background"));
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::size_t j = i + 1; j < names.size(); ++j) NECO_CHECK(names[i] != names[j]);
  }
  NECO_CHECK_EQ(neco::demoSceneId(17), std::string("demo_000017"));
}

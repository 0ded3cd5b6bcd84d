// The demo scene renderer: deterministic, sizes and labels in range, a VOC void band exactly along
// label boundaries, and images in which the classes are visible and differ in texture.

#include "NecoTest.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int kClassCount = 7;  // background + 6
constexpr int kScenes = 64;

const std::vector<neco::DemoScene>& scenes() {  // rendered once, shared by the cases below
  static const std::vector<neco::DemoScene> all = [] {
    std::vector<neco::DemoScene> v;
    v.reserve(kScenes);
    for (int i = 0; i < kScenes; ++i) v.push_back(neco::renderDemoScene(7, i, neco::DemoDatasetOptions{}));
    return v;
  }();
  return all;
}

bool isVoid(const neco::LabelImage& l, int x, int y) {
  return l.at(x, y) == neco::LabelImage::kIgnore;
}

// True when the (2r+1)^2 window around (x, y) holds two non-void pixels with different labels.
bool differentLabelsNear(const neco::LabelImage& l, int x, int y, int r) {
  int first = -1;
  for (int yy = std::max(0, y - r); yy <= std::min(l.height - 1, y + r); ++yy) {
    for (int xx = std::max(0, x - r); xx <= std::min(l.width - 1, x + r); ++xx) {
      if (isVoid(l, xx, yy)) continue;
      if (first < 0) first = l.at(xx, yy);
      if (l.at(xx, yy) != first) return true;
    }
  }
  return false;
}

struct ClassStats {
  double pixels = 0;
  double saturation = 0;  // mean of max(r,g,b) - min(r,g,b)
  double gradient = 0;    // mean |horizontal difference| summed over channels, inside one label
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
        for (int k = 0; k < 3; ++k) c.gradient += std::abs(int(p[k]) - int(q[k]));
      }
    }
  }
  for (ClassStats& c : stats) {
    if (c.pixels == 0) continue;
    c.saturation /= c.pixels;
    c.gradient /= c.pixels;
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
  std::vector<neco::LabelImage> maps;
  for (const neco::DemoScene& s : scenes()) maps.push_back(s.labels);
  neco::DemoDatasetOptions small;  // crowded small scenes: slivers and tips are most likely here
  small.minSide = 64, small.maxSide = 96;
  for (int i = 0; i < 32; ++i) maps.push_back(neco::renderDemoScene(3, i, small).labels);
  for (const neco::LabelImage& l : maps) {
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
    NECO_CHECK(voidPixels < l.labels.size() / 6);  // a thin band, not a blanket
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
  // Per scene and visible object class: the mean absolute difference (summed over R, G, B) between
  // its pixels and the background's mean colour is large. Over 1000 scenes the smallest is about 95.
  for (const neco::DemoScene& s : scenes()) {
    std::array<double, 4> background{};  // r, g, b, count
    for (int y = 0; y < s.image.height; ++y) {
      for (int x = 0; x < s.image.width; ++x) {
        if (s.labels.at(x, y) != 0) continue;
        for (int k = 0; k < 3; ++k) background[k] += s.image.at(x, y)[k];
        background[3] += 1;
      }
    }
    NECO_REQUIRE(background[3] > 0);
    std::array<std::array<double, 2>, kClassCount> difference{};  // sum, count
    for (int y = 0; y < s.image.height; ++y) {
      for (int x = 0; x < s.image.width; ++x) {
        const std::uint8_t label = s.labels.at(x, y);
        if (label == 0 || label >= kClassCount) continue;
        for (int k = 0; k < 3; ++k) {
          difference[label][0] += std::abs(s.image.at(x, y)[k] - background[k] / background[3]);
        }
        difference[label][1] += 1;
      }
    }
    for (int k = 1; k < kClassCount; ++k) {
      if (difference[k][1] >= 300) NECO_CHECK(difference[k][0] / difference[k][1] > 40);  // else mostly hidden
    }
  }
}

NECO_TEST(DemoScene, classesDifferFromTheBackgroundInTexture) {
  const auto stats = classStats();
  for (int k = 1; k < kClassCount; ++k) {
    NECO_REQUIRE(stats[k].pixels > 0);
    NECO_CHECK(stats[k].saturation > stats[0].saturation + 40);  // objects are vivid, the background is not
  }
  // The patterned classes have strong local contrast; the gradient ellipse is smooth.
  const int gradientEllipse = 5;
  for (int k : {1, 2, 3, 4, 6}) NECO_CHECK(stats[k].gradient > 10 * stats[gradientEllipse].gradient);
  NECO_CHECK(stats[0].gradient > 3 * stats[gradientEllipse].gradient);  // background is never flat either
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

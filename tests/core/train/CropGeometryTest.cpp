#include "NecoTest.h"
#include "neco/core/Error.h"
#include "train/CropGeometry.h"

#include <cmath>

using namespace neco::train;

NECO_TEST(CropGeometry, randomnessIsDeterministicPerSampleAndPortable) {
  CropRng a = CropRng::forSample(400, 3, 17), b = CropRng::forSample(400, 3, 17), c = CropRng::forSample(400, 3, 18);
  const std::uint64_t first = a.next();
  NECO_CHECK_EQ(first, b.next());
  NECO_CHECK(first != c.next());
  CropRng r(1);
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    const double u = r.uniform();
    NECO_REQUIRE(u >= 0 && u < 1);
    sum += u;
    const std::int64_t k = r.integer(-3, 4);
    NECO_REQUIRE(k >= -3 && k < 4);
  }
  NECO_CHECK_NEAR(sum / 20000, 0.5, 0.01);
}

NECO_TEST(CropGeometry, resizedCropsRespectScaleRatioAndBounds) {
  CropRng rng(5);
  for (int i = 0; i < 2000; ++i) {
    const PixelBox b = sampleResizedCrop(640, 480, 0.05, 0.25, rng);
    NECO_REQUIRE(b.left >= 0 && b.top >= 0 && b.right() <= 640 && b.bottom() <= 480);
    const double frac = static_cast<double>(b.area()) / (640.0 * 480.0);
    NECO_REQUIRE(frac > 0.04 && frac < 0.27);  // rounding of w and h moves the area slightly
    const double ratio = static_cast<double>(b.width) / static_cast<double>(b.height);
    NECO_REQUIRE(ratio > 0.7 && ratio < 1.45);
  }
  // a 1 x 1000 strip cannot hold a 3/4..4/3 crop of the asked area: torchvision's centred fallback
  const PixelBox strip = sampleResizedCrop(1000, 1, 0.25, 1.0, rng);
  NECO_CHECK_EQ(strip.height, 1);
  NECO_CHECK_EQ(strip.width, 1);
  NECO_CHECK_EQ(strip.left, 499);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, sampleResizedCrop(0, 10, 0.1, 0.2, rng));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, sampleResizedCrop(10, 10, 0.3, 0.2, rng));
}

NECO_TEST(CropGeometry, aCropPairedWithItselfGivesTheFullBox) {
  CropRng rng = CropRng::forSample(400, 0, 0);
  const CropLayout layout = sampleCropLayout(640, 427, MultiCropConfig{}, rng);
  NECO_REQUIRE(layout.crops.size() == 6);
  for (int g = 0; g < 2; ++g) {
    const RelativeBox self = layout.inGlobal[static_cast<std::size_t>(g) * 6 + g];
    NECO_CHECK_NEAR(self[0], 0.0, 1e-12);
    NECO_CHECK_NEAR(self[1], 0.0, 1e-12);
    NECO_CHECK_NEAR(self[2], 518.0, 1e-9);
    NECO_CHECK_NEAR(self[3], 518.0, 1e-9);
  }
}

NECO_TEST(CropGeometry, bothSidesOfAnIntersectionMapToTheSameImageRectangle) {
  const MultiCropConfig config;
  for (std::uint64_t index = 0; index < 200; ++index) {
    CropRng rng = CropRng::forSample(400, 1, index);
    const std::int64_t w = 200 + static_cast<std::int64_t>(index * 7 % 600), h = 150 + static_cast<std::int64_t>(index * 13 % 500);
    const CropLayout L = sampleCropLayout(w, h, config, rng);
    const std::int64_t threshold = static_cast<std::int64_t>(std::floor(w * h * 0.01));
    for (int g = 0; g < 2; ++g) {
      for (int v = 0; v < 6; ++v) {
        const PixelBox& cg = L.crops[static_cast<std::size_t>(g)];
        const PixelBox& cv = L.crops[static_cast<std::size_t>(v)];
        // back from each crop's output pixels to the image: the same rectangle
        const RelativeBox a = L.inGlobal[static_cast<std::size_t>(g) * 6 + v], b = L.inCrop[static_cast<std::size_t>(v) * 2 + g];
        const double sg = L.sizes[static_cast<std::size_t>(g)], sv = L.sizes[static_cast<std::size_t>(v)];
        for (int k = 0; k < 4; ++k) {
          const bool x = k % 2 == 0;
          const double fromG = (x ? cg.left : cg.top) + a[static_cast<std::size_t>(k)] * (x ? cg.width : cg.height) / sg;
          const double fromV = (x ? cv.left : cv.top) + b[static_cast<std::size_t>(k)] * (x ? cv.width : cv.height) / sv;
          NECO_REQUIRE(std::abs(fromG - fromV) < 1e-9);
        }
        // the overlap rule: every crop after the first overlaps the earlier global crops enough
        if (v > g && g < 2) NECO_REQUIRE(intersect(cg, cv).area() > (v < 2 ? 2 * threshold : threshold));
      }
    }
  }
}

NECO_TEST(CropGeometry, anImpossibleOverlapIsAnErrorNotAnEndlessLoop) {
  MultiCropConfig config;
  config.minIntersection = 0.99;  // no two random crops can share 99% of the image
  config.globalScaleHi = 0.3;
  config.maxOverlapRetries = 50;
  CropRng rng(3);
  try {
    sampleCropLayout(300, 200, config, rng);
    NECO_CHECK(false);
  } catch (const neco::InvalidArgumentError& e) {
    NECO_CHECK(std::string(e.what()).find("300 x 200") != std::string::npos);
  }
}

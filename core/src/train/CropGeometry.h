#pragma once
// Multi-crop geometry of NeCo's data pipeline (METHOD.md §2.2 steps 2-4 and 8), torch-free:
// RandomResizedCrop box sampling exactly as torchvision samples it (10 attempts, then the centre-crop
// fallback), the overlap rule between crops, and every crop-pair intersection expressed in each crop's
// output pixels. Deterministic: all randomness comes from a CropRng seeded from (seed, epoch, index).
//
// Deliberate difference (docs/TRAINING.md): the reference re-samples a crop until it overlaps the
// global crops with no limit, which loops forever on images too small for the rule; here the retries
// are capped and exhausting them is an error that names the image size.

#include <array>
#include <cstdint>
#include <vector>

namespace neco::train {

/// splitmix64-seeded xoshiro256** with portable uniform draws (the same sequence with any standard
/// library, unlike std::uniform_real_distribution).
class CropRng {
 public:
  explicit CropRng(std::uint64_t seed);
  /// A generator for one sample: independent streams for different (seed, epoch, index).
  static CropRng forSample(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index);
  std::uint64_t next();
  double uniform();                        ///< [0, 1), 53 random bits
  double uniform(double lo, double hi);    ///< [lo, hi)
  std::int64_t integer(std::int64_t lo, std::int64_t hiExclusive);  ///< uniform in [lo, hi)
  bool bernoulli(double p) { return uniform() < p; }

 private:
  std::array<std::uint64_t, 4> s_{};
};

/// A crop in original-image pixels: [left, left + width) x [top, top + height).
struct PixelBox {
  std::int64_t left = 0, top = 0, width = 0, height = 0;
  std::int64_t right() const { return left + width; }
  std::int64_t bottom() const { return top + height; }
  std::int64_t area() const { return width * height; }
};

/// The intersection of two boxes (width/height 0 when they do not overlap).
PixelBox intersect(const PixelBox& a, const PixelBox& b);

/// torchvision RandomResizedCrop.get_params: scale range as fractions of the image area, aspect
/// ratio log-uniform in [ratioLo, ratioHi]. Throws InvalidArgumentError for an empty image or bad ranges.
PixelBox sampleResizedCrop(std::int64_t width, std::int64_t height, double scaleLo, double scaleHi, CropRng& rng,
                           double ratioLo = 3.0 / 4.0, double ratioHi = 4.0 / 3.0);

struct MultiCropConfig {
  int globalCrops = 2, localCrops = 4;
  int globalSize = 518, localSize = 98;  ///< output side in pixels
  double globalScaleLo = 0.25, globalScaleHi = 1.0;
  double localScaleLo = 0.05, localScaleHi = 0.25;
  double minIntersection = 0.01;  ///< of the image area; doubled for the second global crop
  int maxOverlapRetries = 1000;   ///< per crop; the reference has no limit
};

/// A relative box (x1, y1, x2, y2) in some crop's output pixels.
using RelativeBox = std::array<double, 4>;

struct CropLayout {
  std::vector<PixelBox> crops;  ///< globals first, then locals
  std::vector<int> sizes;       ///< output side of each crop
  /// inGlobal[g * V + v]: intersection(crop g, crop v) in global crop g's output pixels (the reference's gc)
  std::vector<RelativeBox> inGlobal;
  /// inCrop[v * G + g]: the same intersection in crop v's output pixels (the reference's "all")
  std::vector<RelativeBox> inCrop;
  int globalCount = 0;
};

/// Samples all crops of one image with the overlap rule: each crop after the first must overlap every
/// earlier global crop by more than floor(W H minIntersection) pixels (twice that for a global crop). Throws InvalidArgumentError for a bad config, or naming the image size when a crop
/// cannot satisfy the rule within maxOverlapRetries.
CropLayout sampleCropLayout(std::int64_t width, std::int64_t height, const MultiCropConfig& config, CropRng& rng);

/// `box` (original pixels) in the output pixels of `crop` resized to `size`.
RelativeBox toCropPixels(const PixelBox& box, const PixelBox& crop, int size);

}  // namespace neco::train

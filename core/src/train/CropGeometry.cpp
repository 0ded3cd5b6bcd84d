#include "train/CropGeometry.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace neco::train {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

CropRng::CropRng(std::uint64_t seed) {
  for (auto& word : s_) word = splitmix64(seed);
}

CropRng CropRng::forSample(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index) {
  std::uint64_t state = seed;
  const std::uint64_t a = splitmix64(state) ^ epoch;
  state = a;
  const std::uint64_t b = splitmix64(state) ^ index;
  state = b;
  return CropRng(splitmix64(state));
}

std::uint64_t CropRng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double CropRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double CropRng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

std::int64_t CropRng::integer(std::int64_t lo, std::int64_t hiExclusive) {
  if (hiExclusive <= lo) throw InvalidArgumentError("random integer: empty range");
  const auto span = static_cast<std::uint64_t>(hiExclusive - lo);
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % span);  // reject the biased tail
  std::uint64_t r = next();
  while (r >= limit) r = next();
  return lo + static_cast<std::int64_t>(r % span);
}

PixelBox intersect(const PixelBox& a, const PixelBox& b) {
  PixelBox i;
  i.left = std::max(a.left, b.left);
  i.top = std::max(a.top, b.top);
  i.width = std::max<std::int64_t>(0, std::min(a.right(), b.right()) - i.left);
  i.height = std::max<std::int64_t>(0, std::min(a.bottom(), b.bottom()) - i.top);
  return i;
}

PixelBox sampleResizedCrop(std::int64_t width, std::int64_t height, double scaleLo, double scaleHi, CropRng& rng,
                           double ratioLo, double ratioHi) {
  if (width < 1 || height < 1) {
    throw InvalidArgumentError("crop: empty image (" + std::to_string(width) + " x " + std::to_string(height) + ")");
  }
  // scale above 1 is allowed, as in torchvision (Hummingbird's memory crops use (0.5, 2.0)): such
  // attempts rarely fit and the centre-crop fallback takes over
  if (!(scaleLo > 0 && scaleLo <= scaleHi) || !(ratioLo > 0 && ratioLo <= ratioHi)) {
    throw InvalidArgumentError("crop: scale must satisfy 0 < lo <= hi and ratio 0 < lo <= hi");
  }
  const double area = static_cast<double>(width) * static_cast<double>(height);
  const double logLo = std::log(ratioLo), logHi = std::log(ratioHi);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(scaleLo, scaleHi);
    const double aspect = std::exp(rng.uniform(logLo, logHi));
    const auto w = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target * aspect)));
    const auto h = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target / aspect)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      PixelBox box;
      box.top = rng.integer(0, height - h + 1);
      box.left = rng.integer(0, width - w + 1);
      box.width = w;
      box.height = h;
      return box;
    }
  }
  // torchvision's fallback: the largest centred crop within the ratio range
  const double inRatio = static_cast<double>(width) / static_cast<double>(height);
  PixelBox box;
  if (inRatio < ratioLo) {
    box.width = width;
    box.height = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(width) / ratioLo));
  } else if (inRatio > ratioHi) {
    box.height = height;
    box.width = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(height) * ratioHi));
  } else {
    box.width = width;
    box.height = height;
  }
  box.top = (height - box.height) / 2;
  box.left = (width - box.width) / 2;
  return box;
}

RelativeBox toCropPixels(const PixelBox& box, const PixelBox& crop, int size) {
  const double sx = static_cast<double>(size) / static_cast<double>(crop.width);
  const double sy = static_cast<double>(size) / static_cast<double>(crop.height);
  return {sx * static_cast<double>(box.left - crop.left), sy * static_cast<double>(box.top - crop.top),
          sx * static_cast<double>(box.right() - crop.left), sy * static_cast<double>(box.bottom() - crop.top)};
}

CropLayout sampleCropLayout(std::int64_t width, std::int64_t height, const MultiCropConfig& c, CropRng& rng) {
  if (c.globalCrops < 1 || c.localCrops < 0 || c.globalSize < 1 || c.localSize < 1 || c.maxOverlapRetries < 1 ||
      !(c.minIntersection >= 0 && c.minIntersection < 1)) {
    throw InvalidArgumentError("multi-crop: bad configuration (crop counts, sizes, min intersection or retry cap)");
  }
  const int G = c.globalCrops, V = c.globalCrops + c.localCrops;
  const auto threshold = static_cast<std::int64_t>(std::floor(static_cast<double>(width) * static_cast<double>(height) *
                                                              c.minIntersection));
  CropLayout layout;
  layout.globalCount = G;
  for (int v = 0; v < V; ++v) {
    const bool global = v < G;
    const double lo = global ? c.globalScaleLo : c.localScaleLo, hi = global ? c.globalScaleHi : c.localScaleHi;
    PixelBox crop = sampleResizedCrop(width, height, lo, hi, rng);
    // NOTE: every earlier global crop must be overlapped; global crops need twice as much as locals.
    const std::int64_t need = v < G ? 2 * threshold : threshold;
    auto overlapsEnough = [&](const PixelBox& box) {
      for (int g = 0; g < std::min(v, G); ++g) {
        if (intersect(box, layout.crops[static_cast<std::size_t>(g)]).area() <= need) return false;
      }
      return true;
    };
    int retries = 0;
    while (v > 0 && !overlapsEnough(crop)) {
      if (++retries > c.maxOverlapRetries) {
        throw InvalidArgumentError("multi-crop: a " + std::to_string(width) + " x " + std::to_string(height) +
                                   " image gave no crop " + std::to_string(v) + " overlapping the global crops by more than " +
                                   std::to_string(need) + " pixels in " + std::to_string(c.maxOverlapRetries) +
                                   " tries (image too small or too elongated for the overlap rule)");
      }
      crop = sampleResizedCrop(width, height, lo, hi, rng);
    }
    layout.crops.push_back(crop);
    layout.sizes.push_back(global ? c.globalSize : c.localSize);
  }
  layout.inGlobal.resize(static_cast<std::size_t>(G) * V);
  layout.inCrop.resize(static_cast<std::size_t>(V) * G);
  for (int g = 0; g < G; ++g) {
    for (int v = 0; v < V; ++v) {
      const PixelBox& cg = layout.crops[static_cast<std::size_t>(g)];
      const PixelBox& cv = layout.crops[static_cast<std::size_t>(v)];
      const PixelBox both = intersect(cg, cv);
      layout.inGlobal[static_cast<std::size_t>(g) * V + v] = toCropPixels(both, cg, layout.sizes[static_cast<std::size_t>(g)]);
      layout.inCrop[static_cast<std::size_t>(v) * G + g] = toCropPixels(both, cv, layout.sizes[static_cast<std::size_t>(v)]);
    }
  }
  return layout;
}

}  // namespace neco::train

#include "train/Augment.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace neco::train {
namespace {

void checkImage(const at::Tensor& rgb) {
  if (rgb.dim() != 3 || rgb.size(0) != 3 || !rgb.is_floating_point()) {
    throw InvalidArgumentError("augmentation: expected a float (3, H, W) RGB image");
  }
}

/// torchvision's _blend: clamp(ratio * a + (1 - ratio) * b, 0, 1)
at::Tensor blend(const at::Tensor& a, const at::Tensor& b, double ratio) {
  return (a * ratio + b * (1.0 - ratio)).clamp(0.0, 1.0);
}

}  // namespace

PhotometricConfig photometricConfig(double jitterStrength, double blurStrength) {
  PhotometricConfig c;
  c.brightness *= jitterStrength;
  c.contrast *= jitterStrength;
  c.saturation *= jitterStrength;
  c.hue *= jitterStrength;
  c.blurSigmaLo *= blurStrength;
  c.blurSigmaHi *= blurStrength;
  return c;
}

PhotometricDraw samplePhotometric(const PhotometricConfig& c, CropRng& rng) {
  PhotometricDraw d;
  d.jitter = rng.bernoulli(c.jitterProbability);
  if (d.jitter) {
    for (int i = 3; i > 0; --i) std::swap(d.order[static_cast<std::size_t>(i)], d.order[static_cast<std::size_t>(rng.integer(0, i + 1))]);
    d.brightness = rng.uniform(std::max(0.0, 1.0 - c.brightness), 1.0 + c.brightness);
    d.contrast = rng.uniform(std::max(0.0, 1.0 - c.contrast), 1.0 + c.contrast);
    d.saturation = rng.uniform(std::max(0.0, 1.0 - c.saturation), 1.0 + c.saturation);
    d.hue = rng.uniform(-c.hue, c.hue);
  }
  d.grayscale = rng.bernoulli(c.grayscaleProbability);
  d.blur = rng.bernoulli(c.blurProbability);
  if (d.blur) d.sigma = rng.uniform(c.blurSigmaLo, c.blurSigmaHi);
  return d;
}

at::Tensor grayscale(const at::Tensor& rgb) {
  checkImage(rgb);
  return (rgb[0] * 0.2989 + rgb[1] * 0.587 + rgb[2] * 0.114).unsqueeze(0);
}

at::Tensor adjustBrightness(const at::Tensor& rgb, double factor) { return blend(rgb, at::zeros_like(rgb), factor); }

at::Tensor adjustContrast(const at::Tensor& rgb, double factor) {
  return blend(rgb, grayscale(rgb).mean().expand_as(rgb), factor);
}

at::Tensor adjustSaturation(const at::Tensor& rgb, double factor) {
  return blend(rgb, grayscale(rgb).expand_as(rgb), factor);
}

at::Tensor adjustHue(const at::Tensor& rgb, double shift) {
  checkImage(rgb);
  if (shift < -0.5 || shift > 0.5) throw InvalidArgumentError("adjustHue: shift must be in [-0.5, 0.5]");
  // torchvision's _rgb2hsv / _hsv2rgb on tensors
  const at::Tensor r = rgb[0], g = rgb[1], b = rgb[2];
  const at::Tensor maxc = std::get<0>(rgb.max(0)), minc = std::get<0>(rgb.min(0));
  const at::Tensor eqc = maxc == minc;
  const at::Tensor cr = maxc - minc;
  const at::Tensor ones = at::ones_like(maxc);
  const at::Tensor s = cr / at::where(eqc, ones, maxc);
  const at::Tensor crDivisor = at::where(eqc, ones, cr);
  const at::Tensor rc = (maxc - r) / crDivisor, gc = (maxc - g) / crDivisor, bc = (maxc - b) / crDivisor;
  const at::Tensor hr = (maxc == r) * (bc - gc);
  const at::Tensor hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc);
  const at::Tensor hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc);
  at::Tensor h = at::fmod((hr + hg + hb) / 6.0 + 1.0, 1.0);
  h = at::fmod(h + shift, 1.0);
  h = at::where(h < 0, h + 1.0, h);
  // back to RGB
  const at::Tensor v = maxc;
  const at::Tensor i = at::floor(h * 6.0);
  const at::Tensor f = h * 6.0 - i;
  const at::Tensor ii = i.to(at::kInt).remainder(6);
  const at::Tensor p = (v * (1.0 - s)).clamp(0.0, 1.0);
  const at::Tensor q = (v * (1.0 - s * f)).clamp(0.0, 1.0);
  const at::Tensor t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0);
  const at::Tensor choices[3][6] = {{v, q, p, p, t, v}, {t, v, v, q, p, p}, {p, p, t, v, v, q}};
  std::vector<at::Tensor> channels;
  for (const auto& row : choices) {
    at::Tensor out = at::zeros_like(v);
    for (int k = 0; k < 6; ++k) out = at::where(ii == k, row[k], out);
    channels.push_back(out);
  }
  return at::stack(channels, 0);
}

at::Tensor gaussianBlur(const at::Tensor& rgb, double sigma) {
  checkImage(rgb);
  if (!(sigma > 0)) throw InvalidArgumentError("gaussianBlur: sigma must be positive");
  const auto radius = static_cast<int64_t>(std::ceil(3.0 * sigma));
  const at::Tensor x = at::arange(-radius, radius + 1, rgb.options());
  at::Tensor k = at::exp(-(x * x) / (2.0 * sigma * sigma));
  k = k / k.sum();
  const int64_t pad = std::min<int64_t>(radius, std::min(rgb.size(1), rgb.size(2)) - 1);
  // reflect padding needs pad < size; a smaller pad on tiny images keeps the kernel's centre weights
  const at::Tensor kk = k.slice(0, radius - pad, radius + pad + 1);
  const at::Tensor kn = kk / kk.sum();
  at::Tensor img = rgb.unsqueeze(0);  // (1, 3, H, W)
  img = at::reflection_pad2d(img, {pad, pad, 0, 0});
  img = at::conv2d(img, kn.view({1, 1, 1, -1}).expand({3, 1, 1, kn.size(0)}).contiguous(), at::Tensor(), at::IntArrayRef{1, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, 3);
  img = at::reflection_pad2d(img, {0, 0, pad, pad});
  img = at::conv2d(img, kn.view({1, 1, -1, 1}).expand({3, 1, kn.size(0), 1}).contiguous(), at::Tensor(), at::IntArrayRef{1, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, 3);
  return img.squeeze(0);
}

at::Tensor applyPhotometric(const at::Tensor& rgb, const PhotometricDraw& d) {
  checkImage(rgb);
  at::Tensor img = rgb;
  if (d.jitter) {
    for (int op : d.order) {
      // an operation whose range is empty (strength 0) is skipped, as torchvision skips it
      switch (op) {
        case 0: if (d.brightness != 1.0) img = adjustBrightness(img, d.brightness); break;
        case 1: if (d.contrast != 1.0) img = adjustContrast(img, d.contrast); break;
        case 2: if (d.saturation != 1.0) img = adjustSaturation(img, d.saturation); break;
        default: if (d.hue != 0.0) img = adjustHue(img, d.hue); break;
      }
    }
  }
  if (d.grayscale) img = grayscale(img).expand({3, -1, -1}).contiguous();
  if (d.blur) img = gaussianBlur(img, d.sigma);
  return img;
}

at::Tensor normaliseImageNet(const at::Tensor& rgb) {
  const at::Tensor mean = at::tensor({0.485, 0.456, 0.406}, rgb.options());
  const at::Tensor stdev = at::tensor({0.229, 0.224, 0.225}, rgb.options());
  const auto shape = rgb.dim() == 4 ? std::vector<int64_t>{1, 3, 1, 1} : std::vector<int64_t>{3, 1, 1};
  return (rgb - mean.view(shape)) / stdev.view(shape);
}

}  // namespace neco::train

#pragma once
// Photometric augmentation of one crop (METHOD.md §2.2 step 6-7), on float RGB in [0, 1], (3, H, W):
// ColorJitter(0.8, 0.8, 0.8, 0.2) with p 0.8 (factors uniform in [0.2, 1.8], hue shift in
// [-0.2, 0.2], the four operations in a random order, torchvision's tensor semantics), grayscale with
// p 0.2 (3 channels), Gaussian blur with p 0.5 and sigma ~ U[0.1, 2.0], then ImageNet normalisation.
// The draw is separate from the application so that it is deterministic from a CropRng and can be
// shown (the studio's X-ray view) or replayed.
//
// Differences from the reference (docs/TRAINING.md): it works on PIL uint8 images, rounding after
// every operation; here the crop stays in float. PIL's GaussianBlur is an extended-box-blur
// approximation; here the blur is a true separable Gaussian (radius ceil(3 sigma), reflected borders).

#include "train/CropGeometry.h"

#include <ATen/core/Tensor.h>

#include <array>

namespace neco::train {

struct PhotometricConfig {
  double jitterProbability = 0.8;
  double brightness = 0.8, contrast = 0.8, saturation = 0.8, hue = 0.2;  ///< times jitter_strength
  double grayscaleProbability = 0.2;
  double blurProbability = 0.5;
  double blurSigmaLo = 0.1, blurSigmaHi = 2.0;  ///< times blur_strength
};

/// The config with the reference's strength knobs applied (jitter_strength, blur_strength).
PhotometricConfig photometricConfig(double jitterStrength, double blurStrength);

struct PhotometricDraw {
  bool jitter = false;
  std::array<int, 4> order{0, 1, 2, 3};  ///< 0 brightness, 1 contrast, 2 saturation, 3 hue
  double brightness = 1, contrast = 1, saturation = 1, hue = 0;
  bool grayscale = false;
  bool blur = false;
  double sigma = 0;
};

PhotometricDraw samplePhotometric(const PhotometricConfig& config, CropRng& rng);

/// rgb (3, H, W) float in [0, 1] -> augmented, still in [0, 1]. Throws InvalidArgumentError on shape.
at::Tensor applyPhotometric(const at::Tensor& rgb, const PhotometricDraw& draw);

/// (x - mean) / std with ImageNet's statistics, per channel of (3, H, W) or (B, 3, H, W).
at::Tensor normaliseImageNet(const at::Tensor& rgb);

// The single operations (torchvision.transforms.functional semantics on float tensors).
at::Tensor grayscale(const at::Tensor& rgb);  ///< 0.2989 R + 0.587 G + 0.114 B, as (1, H, W)
at::Tensor adjustBrightness(const at::Tensor& rgb, double factor);
at::Tensor adjustContrast(const at::Tensor& rgb, double factor);
at::Tensor adjustSaturation(const at::Tensor& rgb, double factor);
at::Tensor adjustHue(const at::Tensor& rgb, double shift);  ///< shift in [-0.5, 0.5] turns
at::Tensor gaussianBlur(const at::Tensor& rgb, double sigma);

}  // namespace neco::train

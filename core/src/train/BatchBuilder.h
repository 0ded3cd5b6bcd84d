#pragma once
// From images to a NecoBatch (METHOD.md §2.2): for each image, the multi-crop layout, each crop cut
// from the image and resized (bilinear with antialiasing, as PIL's resize does when it shrinks), the
// photometric augmentation and ImageNet normalisation; then the batch's crops stacked per crop index
// and the intersection boxes as the loss wants them. Deterministic: sample i of epoch e draws
// everything from CropRng::forSample(seed, e, i), whichever thread builds it.

#include "neco/core/Image.h"
#include "train/Augment.h"
#include "train/CropGeometry.h"
#include "train/NecoStep.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace neco::train {

struct SampleCrops {
  std::vector<at::Tensor> crops;  ///< per crop (3, S, S), normalised
  CropLayout layout;
  std::vector<PhotometricDraw> draws;  ///< what each crop's augmentation drew (for the X-ray view)
};

/// An 8-bit RGB image as a float (3, H, W) tensor in [0, 1]. Throws InvalidArgumentError when empty.
at::Tensor imageTensor(const RgbImage& image);

/// One image's crops. Throws InvalidArgumentError for a bad image or when the overlap rule fails
/// (the message names the image size).
SampleCrops makeSampleCrops(const at::Tensor& image, const MultiCropConfig& crops, const PhotometricConfig& photometric,
                            CropRng& rng);

/// Stacks samples into a batch: crops[v] (B, 3, S_v, S_v), inGlobal (B, G, V, 4), inCrop (B, V, G, 4).
/// Throws InvalidArgumentError for an empty list or samples with different crop layouts.
NecoBatch collate(const std::vector<SampleCrops>& samples);

}  // namespace neco::train

#include "train/BatchBuilder.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>

namespace neco::train {

at::Tensor imageTensor(const RgbImage& image) {
  if (image.empty() || image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
    throw InvalidArgumentError("batch builder: empty or inconsistent image");
  }
  const at::Tensor hwc = at::from_blob(const_cast<std::uint8_t*>(image.pixels.data()), {image.height, image.width, 3}, at::kByte);
  return hwc.permute({2, 0, 1}).to(at::kFloat).div(255.0).contiguous();
}

SampleCrops makeSampleCrops(const at::Tensor& image, const MultiCropConfig& crops, const PhotometricConfig& photometric,
                            CropRng& rng) {
  if (image.dim() != 3 || image.size(0) != 3) throw InvalidArgumentError("batch builder: image must be (3, H, W)");
  SampleCrops s;
  s.layout = sampleCropLayout(image.size(2), image.size(1), crops, rng);
  for (std::size_t v = 0; v < s.layout.crops.size(); ++v) {
    const PixelBox& box = s.layout.crops[v];
    const int S = s.layout.sizes[v];
    const at::Tensor region = image.slice(1, box.top, box.bottom()).slice(2, box.left, box.right()).unsqueeze(0);
    // PIL's bilinear resize antialiases when it shrinks; LibTorch's _aa kernel is the same filter.
    const at::Tensor resized = at::_upsample_bilinear2d_aa(region, {S, S}, false).squeeze(0).clamp(0.0, 1.0);
    const PhotometricDraw draw = samplePhotometric(photometric, rng);
    s.crops.push_back(normaliseImageNet(applyPhotometric(resized, draw)));
    s.draws.push_back(draw);
  }
  return s;
}

NecoBatch collate(const std::vector<SampleCrops>& samples) {
  if (samples.empty()) throw InvalidArgumentError("batch builder: no samples");
  const std::size_t V = samples[0].crops.size();
  const int G = samples[0].layout.globalCount;
  const auto B = static_cast<int64_t>(samples.size());
  NecoBatch batch;
  batch.inGlobal = at::empty({B, G, static_cast<int64_t>(V), 4}, at::kDouble);
  batch.inCrop = at::empty({B, static_cast<int64_t>(V), G, 4}, at::kDouble);
  auto global = batch.inGlobal.accessor<double, 4>();
  auto crop = batch.inCrop.accessor<double, 4>();
  for (int64_t b = 0; b < B; ++b) {
    const SampleCrops& s = samples[static_cast<std::size_t>(b)];
    bool sameSizes = s.crops.size() == V && s.layout.globalCount == G;
    for (std::size_t v = 0; sameSizes && v < V; ++v) sameSizes = s.crops[v].sizes().equals(samples[0].crops[v].sizes());
    if (!sameSizes) {
      throw InvalidArgumentError("batch builder: samples with different crop layouts cannot share a batch");
    }
    for (int g = 0; g < G; ++g) {
      for (std::size_t v = 0; v < V; ++v) {
        const RelativeBox& a = s.layout.inGlobal[static_cast<std::size_t>(g) * V + v];
        const RelativeBox& r = s.layout.inCrop[v * static_cast<std::size_t>(G) + static_cast<std::size_t>(g)];
        for (int k = 0; k < 4; ++k) {
          global[b][g][static_cast<int64_t>(v)][k] = a[static_cast<std::size_t>(k)];
          crop[b][static_cast<int64_t>(v)][g][k] = r[static_cast<std::size_t>(k)];
        }
      }
    }
  }
  for (std::size_t v = 0; v < V; ++v) {
    std::vector<at::Tensor> column;
    for (const SampleCrops& s : samples) column.push_back(s.crops[v]);
    batch.crops.push_back(at::stack(column, 0));
  }
  return batch;
}

}  // namespace neco::train

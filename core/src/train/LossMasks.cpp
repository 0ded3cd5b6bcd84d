#include "train/LossMasks.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

namespace neco::train {

at::Tensor gaussianBlur7(const at::Tensor& maps, double sigma) {
  if (maps.dim() != 4 || maps.size(1) != 1) throw InvalidArgumentError("gaussianBlur7: maps must be (B, 1, h, w)");
  if (maps.size(2) < 4 || maps.size(3) < 4) {
    throw InvalidArgumentError("gaussianBlur7: a " + std::to_string(maps.size(2)) + " x " + std::to_string(maps.size(3)) +
                               " map is too small for the 7-tap blur (at least 4 x 4 patches)");
  }
  if (!(sigma > 0)) throw InvalidArgumentError("gaussianBlur7: sigma must be > 0");
  // torchvision builds the kernel in float32: x = linspace(-3, 3, 7), k = exp(-(x / sigma)^2 / 2) / sum
  std::vector<float> k(7);
  float sum = 0;
  for (int i = 0; i < 7; ++i) {
    const float x = static_cast<float>(i - 3) / static_cast<float>(sigma);
    k[static_cast<std::size_t>(i)] = std::exp(-0.5f * x * x);
    sum += k[static_cast<std::size_t>(i)];
  }
  for (float& v : k) v /= sum;
  const at::Tensor kernel = at::tensor(k, maps.options().dtype(at::kFloat)).to(maps.scalar_type());
  const at::Tensor padded = at::reflection_pad2d(maps, {3, 3, 3, 3});
  const at::Tensor rows = at::conv2d(padded, kernel.view({1, 1, 1, 7}));
  return at::conv2d(rows, kernel.view({1, 1, 7, 1}));
}

at::Tensor removeSmallComponents(const at::Tensor& mask, int minSize) {
  if (mask.dim() != 4 || mask.size(1) != 1) throw InvalidArgumentError("removeSmallComponents: mask must be (B, 1, h, w)");
  at::Tensor m = mask.to(at::kCPU, at::kFloat).contiguous().clone();
  const auto B = m.size(0), H = m.size(2), W = m.size(3);
  float* data = m.data_ptr<float>();
  std::vector<std::int64_t> label(static_cast<std::size_t>(H * W)), stack, members;
  for (std::int64_t b = 0; b < B; ++b) {
    float* img = data + b * H * W;
    std::fill(label.begin(), label.end(), 0);
    for (std::int64_t start = 0; start < H * W; ++start) {
      if (img[start] < 0.5f || label[static_cast<std::size_t>(start)] != 0) continue;
      members.clear();
      stack.assign(1, start);
      label[static_cast<std::size_t>(start)] = 1;
      while (!stack.empty()) {  // flood fill, 8-connectivity (skimage.measure.label's default in 2-D)
        const std::int64_t p = stack.back();
        stack.pop_back();
        members.push_back(p);
        const std::int64_t y = p / W, x = p % W;
        for (std::int64_t dy = -1; dy <= 1; ++dy) {
          for (std::int64_t dx = -1; dx <= 1; ++dx) {
            const std::int64_t ny = y + dy, nx = x + dx;
            if (ny < 0 || ny >= H || nx < 0 || nx >= W) continue;
            const std::int64_t q = ny * W + nx;
            if (img[q] >= 0.5f && label[static_cast<std::size_t>(q)] == 0) {
              label[static_cast<std::size_t>(q)] = 1;
              stack.push_back(q);
            }
          }
        }
      }
      if (static_cast<int>(members.size()) < minSize) {
        for (std::int64_t p : members) img[p] = 0.0f;
      }
    }
  }
  return m.to(mask.device(), mask.scalar_type());
}

at::Tensor foregroundMask(const at::Tensor& clsAttention, int gridH, int gridW, const ForegroundMaskOptions& options) {
  if (clsAttention.dim() != 3 || clsAttention.size(2) != static_cast<std::int64_t>(gridH) * gridW) {
    throw InvalidArgumentError("foregroundMask: attention must be (B, heads, " + std::to_string(gridH * gridW) + ")");
  }
  if (!(options.keepMass > 0 && options.keepMass <= 1)) throw InvalidArgumentError("foregroundMask: keepMass must be in (0, 1]");
  const auto B = clsAttention.size(0);
  const at::Tensor smooth = gaussianBlur7(clsAttention.mean(1).reshape({B, 1, gridH, gridW}), options.blurSigma);
  // keep the patches holding the top keepMass of the mass: sort ascending, a patch is kept when the
  // normalised cumulative mass up to it exceeds 1 - keepMass
  const at::Tensor flat = smooth.reshape({B, -1});
  const auto sorted = flat.sort(/*dim=*/1);
  const at::Tensor values = std::get<0>(sorted), order = std::get<1>(sorted);
  const at::Tensor cumulative = (values / values.sum(1, true)).cumsum(1);
  const at::Tensor keptSorted = (cumulative > (1.0 - options.keepMass)).to(flat.scalar_type());
  const at::Tensor kept = at::zeros_like(keptSorted).scatter(1, order, keptSorted).reshape({B, 1, gridH, gridW});
  return options.minComponent > 1 ? removeSmallComponents(kept, options.minComponent) : kept;
}

}  // namespace neco::train

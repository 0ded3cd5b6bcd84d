#pragma once
// Foreground / background loss masks from the teacher's attention (METHOD.md §2.8, loss_mask 'fg' /
// 'bg'; an ablation, not the headline method): the last block's CLS -> patch attention averaged over
// heads, a Gaussian blur (kernel 7, sigma 0.6, reflected borders, as torchvision's GaussianBlur),
// the patches holding the top 60 % of the attention mass, then connected components of at most 2
// patches removed (8-connectivity) -> a binary (B, 1, h, w) mask; 'bg' is its complement.
//
// In the loss a global crop's mask is RoI-aligned with the same boxes as its embeddings and a
// source position counts when the aligned value is 1 (>= 1 - 1e-6: the reference's `>= 1.0` on a
// float average that should be exactly 1); each pair's loss averages over the counted positions only.

#include <ATen/core/Tensor.h>

namespace neco::train {

struct ForegroundMaskOptions {
  double keepMass = 0.6;   ///< fraction of the attention mass kept as foreground
  double blurSigma = 0.6;  ///< of the 7-tap Gaussian
  int minComponent = 3;    ///< components smaller than this many patches are dropped
};

/// clsAttention (B, heads, h * w) -> the foreground mask (B, 1, h, w), float 0 / 1, on the input's
/// device. Throws InvalidArgumentError for a shape mismatch or a grid smaller than 4 x 4 (the 7-tap
/// blur reflects 3 patches at the border).
at::Tensor foregroundMask(const at::Tensor& clsAttention, int gridH, int gridW, const ForegroundMaskOptions& options = {});

/// The 7-tap Gaussian blur of (B, 1, h, w) maps with reflected borders (torchvision's GaussianBlur(7, sigma)).
at::Tensor gaussianBlur7(const at::Tensor& maps, double sigma);

/// Zeroes 8-connected components of `mask` (B, 1, h, w; 0 / 1) with fewer than `minSize` pixels.
at::Tensor removeSmallComponents(const at::Tensor& mask, int minSize);

}  // namespace neco::train

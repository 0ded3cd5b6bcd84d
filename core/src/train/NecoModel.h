#pragma once
// The networks NeCo trains (METHOD.md §2.3, §2.6): a ViT backbone plus the projection head
// Linear(D, 2048) -> GELU -> Linear(2048, 2048) -> GELU -> Linear(2048, 256) with L2-normalised
// outputs; a student (with drop-path) and an EMA teacher of the same shape; AdamW's four parameter
// groups; which blocks train.

#include "nn/VisionTransformer.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

namespace neco::train {

struct HeadConfig {
  int hidden = 2048;
  int out = 256;
};

/// Backbone + projection head. Parameter names: `backbone.<DINOv2 names>`, `projection_head.{0,2,4}.*`.
class NecoNetworkImpl : public torch::nn::Module {
 public:
  NecoNetworkImpl(const nn::ViTConfig& backbone, const HeadConfig& head = {});

  /// images (B, 3, H, W) -> per-patch embeddings as a map (B, out, gridH, gridW), each L2-normalised.
  at::Tensor forward(const at::Tensor& images);
  /// forward() plus the last block's CLS -> patch attention (B, heads, gridH * gridW) for loss masks.
  std::pair<at::Tensor, at::Tensor> forwardWithAttention(const at::Tensor& images);
  /// The head alone on (..., D) rows -> (..., out), L2-normalised.
  at::Tensor project(const at::Tensor& rows);

  /// Head init as the reference: trunc_normal_(std 0.02) weights, zero biases, from `seed`.
  void initialiseHead(std::uint64_t seed);
  /// bf16 autocast for the backbone on CUDA inputs (Autocast.h); the head and everything after it
  /// stay fp32. No effect on the CPU.
  void setMixedPrecision(bool enabled) { mixedPrecision_ = enabled; }
  bool mixedPrecision() const noexcept { return mixedPrecision_; }

  nn::VisionTransformer backbone{nullptr};
  torch::nn::Sequential projectionHead{nullptr};

 private:
  nn::ViTOutput runBackbone(const at::Tensor& images, const nn::ViTForwardOptions& options);
  bool mixedPrecision_ = false;
};
TORCH_MODULE(NecoNetwork);

/// AdamW's groups in the reference's order: 0 backbone with decay, 1 backbone without, 2 head with
/// decay, 3 head without. "Without decay": names ending in ".bias" and every 1-D tensor.
struct ParameterGroups {
  std::vector<at::Tensor> groups[4];
  std::vector<std::string> names[4];
};

/// The student's trainable parameters split into the four groups. `trainableBlocks`: when set, only
/// these backbone blocks (by index) train and every other backbone parameter is frozen
/// (requires_grad false), so an empty list freezes the whole backbone; nullopt trains everything. Throws InvalidArgumentError for a block index
/// outside the backbone.
ParameterGroups parameterGroups(NecoNetworkImpl& student, const std::optional<std::vector<int>>& trainableBlocks = {});

/// teacher = m teacher + (1 - m) student for every parameter pair (same names); no autograd.
/// Throws InvalidArgumentError when the two networks' parameters differ in names or shapes.
void emaUpdate(NecoNetworkImpl& teacher, NecoNetworkImpl& student, double momentum);

/// Copies every parameter and buffer of `from` into `to` (same architecture).
void copyWeights(NecoNetworkImpl& to, NecoNetworkImpl& from);

}  // namespace neco::train

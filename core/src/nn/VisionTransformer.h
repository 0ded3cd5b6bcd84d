#pragma once
// DINOv2-style Vision Transformer (METHOD.md §2.3): patch embedding, CLS token, optional register
// tokens (no positional embedding, inserted after CLS), pre-norm blocks with LayerScale, final
// LayerNorm. Parameter names equal the official DINOv2 state-dict keys (`blocks.0.attn.qkv.weight`,
// `ls1.gamma`, `norm.weight`, ...) so checkpoints map onto it without renaming.

#include <ATen/core/Tensor.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace neco::nn {

/// How the positional embedding is resized to a grid other than the one it was trained for.
enum class PosEmbedInterpolation {
  /// NeCo / DINOv2 (non-register hub models): bicubic with scale factor (g + 0.1) / G, no antialias.
  OffsetScaleFactor,
  /// DINOv2 register hub models, Hugging Face, timm: bicubic to the explicit size, antialias.
  ExplicitSizeAntialias,
};

struct ViTConfig {
  std::string name = "custom";
  int patchSize = 14;
  int embedDim = 384;
  int depth = 12;
  int numHeads = 6;
  double mlpRatio = 4.0;
  int numRegisters = 0;
  bool layerScale = true;        ///< DINOv2 has LayerScale; DINO v1 does not
  double layerScaleInit = 1.0;
  int posEmbedGrid = 37;         ///< side of the trained position grid (518 / 14 = 37)
  double layerNormEps = 1e-6;
  PosEmbedInterpolation interpolation = PosEmbedInterpolation::OffsetScaleFactor;

  /// The demo model: the real architecture, small enough to run and train on a laptop CPU.
  static ViTConfig tiny();
  /// DINOv2 ViT-S/14 (22 M parameters), optionally with 4 registers.
  static ViTConfig dinov2Small(int registers = 0);
  /// Throws InvalidArgumentError when sizes are inconsistent (dim not divisible by heads, ...).
  void validate() const;
};

struct ViTOutput {
  at::Tensor cls;            ///< (B, D) after the final norm
  at::Tensor registers;      ///< (B, R, D) after the final norm (R may be 0)
  at::Tensor patchTokens;    ///< (B, gridH * gridW, D) after the final norm, row-major grid
  int gridH = 0;
  int gridW = 0;
};

class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int patchSize, int dim);
  at::Tensor forward(const at::Tensor& images) { return proj->forward(images); }
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

class LayerScaleImpl : public torch::nn::Cloneable<LayerScaleImpl> {
 public:
  LayerScaleImpl(int dim, double init);
  void reset() override;
  at::Tensor forward(const at::Tensor& x) { return x * gamma; }
  at::Tensor gamma;

 private:
  int dim_;
  double init_;
};
TORCH_MODULE(LayerScale);

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int dim, int numHeads);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear qkv{nullptr}, proj{nullptr};

 private:
  int numHeads_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int dim, int hidden);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

class BlockImpl : public torch::nn::Module {
 public:
  explicit BlockImpl(const ViTConfig& config);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
  LayerScale ls1{nullptr}, ls2{nullptr};
};
TORCH_MODULE(Block);

class VisionTransformerImpl : public torch::nn::Module {
 public:
  explicit VisionTransformerImpl(ViTConfig config);

  /// images: (B, 3, H, W) normalised; H and W need not match the trained size (positions are
  /// interpolated) but are floored to whole patches. Throws InvalidArgumentError on bad shapes.
  ViTOutput forward(const at::Tensor& images);

  /// Deterministic initialisation (trunc-normal 0.02 weights, zero biases) from `seed`.
  void initialiseRandom(std::uint64_t seed);

  /// Positional embedding for a gridH x gridW patch grid, CLS position first: (1, 1 + gh*gw, D).
  at::Tensor interpolatedPosEmbed(int gridH, int gridW) const;

  const ViTConfig& config() const noexcept { return config_; }
  std::int64_t parameterCount() const;

  PatchEmbed patchEmbed{nullptr};
  at::Tensor clsToken, posEmbed, registerTokens, maskToken;
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  ViTConfig config_;
};
TORCH_MODULE(VisionTransformer);

}  // namespace neco::nn

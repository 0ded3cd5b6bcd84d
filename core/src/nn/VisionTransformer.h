#pragma once
// DINOv2 / DINO v1 Vision Transformer (METHOD.md §2.3): patch embedding, CLS token, optional register
// tokens (no positional embedding, inserted after CLS), pre-norm blocks, final LayerNorm. Parameter
// names equal the official DINOv2 state-dict keys (`blocks.0.attn.qkv.weight`, `ls1.gamma`,
// `norm.weight`, ...) so checkpoints map onto it without renaming.

#include "nn/ViTConfig.h"
#include "nn/ViTLayers.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace neco::nn {

struct ViTForwardOptions {
  bool keepBlockOutputs = false;       ///< fill ViTOutput::blockOutputs
  bool lastBlockClsAttention = false;  ///< fill ViTOutput::clsAttention
  /// Run only the first `blocks` blocks (0: all of them). The outputs are then those of the last
  /// block run, after the final norm (DINOv2's get_intermediate_layers with norm=True), and
  /// clsAttention is that block's. Must not exceed the depth.
  int blocks = 0;
};

struct ViTOutput {
  at::Tensor cls;            ///< (B, D) after the final norm
  at::Tensor registers;      ///< (B, R, D) after the final norm (R may be 0)
  at::Tensor patchTokens;    ///< (B, gridH * gridW, D) after the final norm, row-major grid
  std::vector<at::Tensor> blockOutputs;  ///< raw output of every block (B, 1 + R + N, D), before the final norm
  at::Tensor clsAttention;   ///< last block: CLS query over the patch keys (B, heads, N), softmax over all keys
  int gridH = 0;
  int gridW = 0;
};

class VisionTransformerImpl : public torch::nn::Module {
 public:
  explicit VisionTransformerImpl(ViTConfig config);

  /// images: (B, 3, H, W) normalised; H and W need not match the trained size (positions are
  /// interpolated) but are floored to whole patches. Throws InvalidArgumentError on bad shapes.
  ViTOutput forward(const at::Tensor& images, const ViTForwardOptions& options = {});

  /// Deterministic initialisation (trunc-normal 0.02 weights, zero biases) from `seed`.
  void initialiseRandom(std::uint64_t seed);

  /// Positional embedding for a gridH x gridW patch grid, CLS position first: (1, 1 + gh*gw, D).
  /// `squareInput`: the image was square in pixels (only then is the trained grid used as is).
  at::Tensor interpolatedPosEmbed(int gridH, int gridW, bool squareInput = true) const;

  const ViTConfig& config() const noexcept { return config_; }
  /// Selects the interpolation used for grids other than the trained one (per checkpoint family).
  void setInterpolation(PosEmbedInterpolation mode) noexcept { config_.interpolation = mode; }
  std::int64_t parameterCount() const;
  /// Every block's stochastic depth draws from `generator` (so a training run can own and
  /// checkpoint that randomness); none: LibTorch's default generator.
  void setDropPathGenerator(const c10::optional<at::Generator>& generator);

  PatchEmbed patchEmbed{nullptr};
  at::Tensor clsToken, posEmbed, registerTokens, maskToken;
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  ViTConfig config_;
};
TORCH_MODULE(VisionTransformer);

}  // namespace neco::nn

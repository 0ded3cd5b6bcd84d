#pragma once
// The layers of a DINOv2 / DINO v1 block. Module names equal the official state-dict keys
// (`attn.qkv`, `ls1.gamma`, `mlp.fc1`, `mlp.w12`, ...) so checkpoints map onto them without renaming.

#include "nn/ViTConfig.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace neco::nn {

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
  /// Softmax attention of the CLS query (token 0) over all keys: (B, heads, N). Computed explicitly
  /// from qkv, so it is available whichever kernel the forward pass uses.
  at::Tensor clsAttention(const at::Tensor& x);
  int numHeads() const noexcept { return numHeads_; }
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

/// DINOv2 ViT-g's feed-forward: w12 = Linear(D, 2h); x1, x2 = chunk(2); w3(SiLU(x1) * x2).
class SwiGluFfnImpl : public torch::nn::Module {
 public:
  SwiGluFfnImpl(int dim, int hidden);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear w12{nullptr}, w3{nullptr};
};
TORCH_MODULE(SwiGluFfn);

/// Pre-norm transformer block: x += ls1 * attn(norm1(x)); x += ls2 * mlp(norm2(x)), with DINOv2's
/// stochastic depth while training (see forward).
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const ViTConfig& config, double dropPathRate);
  at::Tensor forward(const at::Tensor& x);
  at::Tensor attentionBranch(const at::Tensor& x);
  at::Tensor mlpBranch(const at::Tensor& x);
  double dropPathRate() const noexcept { return dropPathRate_; }
  /// Where stochastic depth draws its randomness (a CPU generator); none: LibTorch's default one.
  void setGenerator(c10::optional<at::Generator> generator) { generator_ = std::move(generator); }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
  SwiGluFfn swiglu{nullptr};  ///< registered as "mlp" when the config asks for SwiGLU
  LayerScale ls1{nullptr}, ls2{nullptr};

 private:
  double dropPathRate_;
  c10::optional<at::Generator> generator_;
};
TORCH_MODULE(Block);

/// Per-block stochastic-depth rates: linspace(0, rate, depth) computed in float32 as DINOv2 does
/// (so a nominal 0.1 becomes 0.100000001 and the last block takes the batch-subset path).
std::vector<double> dropPathSchedule(double rate, int depth);

}  // namespace neco::nn

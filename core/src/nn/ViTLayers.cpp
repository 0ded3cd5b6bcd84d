#include "nn/ViTLayers.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>

namespace neco::nn {

PatchEmbedImpl::PatchEmbedImpl(int patchSize, int dim) {
  proj = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, dim, patchSize).stride(patchSize)));
}

LayerScaleImpl::LayerScaleImpl(int dim, double init) : dim_(dim), init_(init) { reset(); }

void LayerScaleImpl::reset() { gamma = register_parameter("gamma", at::full({dim_}, init_)); }

AttentionImpl::AttentionImpl(int dim, int numHeads) : numHeads_(numHeads) {
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(true)));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
}

at::Tensor AttentionImpl::forward(const at::Tensor& x) {
  const auto B = x.size(0), N = x.size(1), C = x.size(2);
  const auto headDim = C / numHeads_;
  // (B, N, 3, H, hd) -> (3, B, H, N, hd); q, k, v stacked in that order as in DINOv2's qkv.
  auto qkvOut = qkv->forward(x).reshape({B, N, 3, numHeads_, headDim}).permute({2, 0, 3, 1, 4});
  auto q = qkvOut[0], k = qkvOut[1], v = qkvOut[2];
#if TORCH_VERSION_MAJOR >= 2
  auto out = at::scaled_dot_product_attention(q, k, v);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(headDim));
  auto attn = at::softmax(at::matmul(q * scale, k.transpose(-2, -1)), -1);
  auto out = at::matmul(attn, v);
#endif
  return proj->forward(out.transpose(1, 2).reshape({B, N, C}));
}

at::Tensor AttentionImpl::clsAttention(const at::Tensor& x) {
  const auto B = x.size(0), N = x.size(1), C = x.size(2);
  const auto headDim = C / numHeads_;
  auto qkvOut = qkv->forward(x).reshape({B, N, 3, numHeads_, headDim}).permute({2, 0, 3, 1, 4});
  const auto q = qkvOut[0].slice(2, 0, 1);  // (B, H, 1, hd)
  const double scale = 1.0 / std::sqrt(static_cast<double>(headDim));
  return at::softmax(at::matmul(q * scale, qkvOut[1].transpose(-2, -1)), -1).squeeze(2);  // (B, H, N)
}

MlpImpl::MlpImpl(int dim, int hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
}

at::Tensor MlpImpl::forward(const at::Tensor& x) { return fc2->forward(at::gelu(fc1->forward(x))); }  // exact erf GELU

SwiGluFfnImpl::SwiGluFfnImpl(int dim, int hidden) {
  w12 = register_module("w12", torch::nn::Linear(dim, 2 * hidden));
  w3 = register_module("w3", torch::nn::Linear(hidden, dim));
}

at::Tensor SwiGluFfnImpl::forward(const at::Tensor& x) {
  const auto halves = w12->forward(x).chunk(2, -1);
  return w3->forward(at::silu(halves[0]) * halves[1]);
}

BlockImpl::BlockImpl(const ViTConfig& c, double dropPathRate) : dropPathRate_(dropPathRate) {
  const auto lnOptions = torch::nn::LayerNormOptions({c.embedDim}).eps(c.layerNormEps);
  norm1 = register_module("norm1", torch::nn::LayerNorm(lnOptions));
  attn = register_module("attn", Attention(c.embedDim, c.numHeads));
  if (c.layerScale) ls1 = register_module("ls1", LayerScale(c.embedDim, c.layerScaleInit));
  norm2 = register_module("norm2", torch::nn::LayerNorm(lnOptions));
  if (c.mlp == MlpKind::SwiGlu) {
    swiglu = register_module("mlp", SwiGluFfn(c.embedDim, c.mlpHidden()));
  } else {
    mlp = register_module("mlp", Mlp(c.embedDim, c.mlpHidden()));
  }
  if (c.layerScale) ls2 = register_module("ls2", LayerScale(c.embedDim, c.layerScaleInit));
}

at::Tensor BlockImpl::attentionBranch(const at::Tensor& x) {
  auto a = attn->forward(norm1->forward(x));
  return ls1 ? ls1->forward(a) : a;
}

at::Tensor BlockImpl::mlpBranch(const at::Tensor& x) {
  const auto h = norm2->forward(x);
  auto m = swiglu ? swiglu->forward(h) : mlp->forward(h);
  return ls2 ? ls2->forward(m) : m;
}

namespace {

// DINOv2 drop_add_residual_stochastic_depth: the residual is computed for a random subset of
// int(B * (1 - rate)) samples only and added with scale B / subset.
at::Tensor addResidualOnSubset(const at::Tensor& x, double rate, const c10::optional<at::Generator>& generator,
                               const std::function<at::Tensor(const at::Tensor&)>& f) {
  const auto B = x.size(0);
  const auto subset = std::max<int64_t>(static_cast<int64_t>(static_cast<double>(B) * (1.0 - rate)), 1);
  const auto index =
      at::randperm(B, generator, at::TensorOptions().dtype(at::kLong)).to(x.device()).slice(0, 0, subset);
  const auto residual = f(x.index_select(0, index)).flatten(1).to(x.dtype());
  const double scale = static_cast<double>(B) / static_cast<double>(subset);
  return at::index_add(x.flatten(1), 0, index, residual, scale).view_as(x);
}

// Per-sample DropPath: keep each sample's branch with probability 1 - rate, rescaled by 1 / keep.
at::Tensor dropPath(const at::Tensor& branch, double rate, const c10::optional<at::Generator>& generator) {
  const double keep = 1.0 - rate;
  std::vector<int64_t> shape(static_cast<std::size_t>(branch.dim()), 1);
  shape[0] = branch.size(0);
  const auto mask = at::empty(shape, branch.options().device(at::kCPU)).bernoulli_(keep, generator).to(branch.device());
  return branch * mask / keep;
}

}  // namespace

at::Tensor BlockImpl::forward(const at::Tensor& x) {
  const double rate = dropPathRate_;
  if (is_training() && rate > 0.1) {  // NOTE: the same threshold as DINOv2's Block.forward
    auto y = addResidualOnSubset(x, rate, generator_, [this](const at::Tensor& t) { return attentionBranch(t); });
    return addResidualOnSubset(y, rate, generator_, [this](const at::Tensor& t) { return mlpBranch(t); });
  }
  if (is_training() && rate > 0.0) {
    auto y = x + dropPath(attentionBranch(x), rate, generator_);
    return y + dropPath(mlpBranch(y), rate, generator_);
  }
  auto y = x + attentionBranch(x);
  return y + mlpBranch(y);
}

std::vector<double> dropPathSchedule(double rate, int depth) {
  const auto rates = at::linspace(0.0, rate, depth, at::kFloat);
  std::vector<double> out(static_cast<std::size_t>(depth));
  for (int i = 0; i < depth; ++i) out[static_cast<std::size_t>(i)] = static_cast<double>(rates[i].item<float>());
  return out;
}

}  // namespace neco::nn

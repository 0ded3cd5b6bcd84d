#include "nn/VisionTransformer.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/init.h>
#include <torch/version.h>

#include <cmath>

namespace neco::nn {

namespace F = torch::nn::functional;

ViTConfig ViTConfig::tiny() {
  ViTConfig c;
  c.name = "tiny-vit/14";
  c.patchSize = 14;
  c.embedDim = 192;
  c.depth = 4;
  c.numHeads = 3;
  c.posEmbedGrid = 16;  // trained size 224
  return c;
}

ViTConfig ViTConfig::dinov2Small(int registers) {
  ViTConfig c;
  c.name = registers > 0 ? "dinov2-vits14-reg" : "dinov2-vits14";
  c.numRegisters = registers;
  c.interpolation = registers > 0 ? PosEmbedInterpolation::ExplicitSizeAntialias
                                  : PosEmbedInterpolation::OffsetScaleFactor;
  return c;
}

void ViTConfig::validate() const {
  auto fail = [this](const std::string& why) { throw InvalidArgumentError("ViT config '" + name + "': " + why); };
  if (patchSize <= 0 || embedDim <= 0 || depth <= 0 || numHeads <= 0 || posEmbedGrid <= 0) {
    fail("sizes must be positive");
  }
  if (embedDim % numHeads != 0) fail("embedDim " + std::to_string(embedDim) + " not divisible by numHeads");
  if (numRegisters < 0) fail("numRegisters must be >= 0");
  if (mlpRatio <= 0) fail("mlpRatio must be positive");
}

PatchEmbedImpl::PatchEmbedImpl(int patchSize, int dim) {
  proj = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, dim, patchSize).stride(patchSize)));
}

LayerScaleImpl::LayerScaleImpl(int dim, double init) : dim_(dim), init_(init) { reset(); }

void LayerScaleImpl::reset() { gamma = register_parameter("gamma", torch::full({dim_}, init_)); }

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

MlpImpl::MlpImpl(int dim, int hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
}

at::Tensor MlpImpl::forward(const at::Tensor& x) { return fc2->forward(at::gelu(fc1->forward(x))); }  // exact erf GELU

BlockImpl::BlockImpl(const ViTConfig& c) {
  const auto lnOptions = torch::nn::LayerNormOptions({c.embedDim}).eps(c.layerNormEps);
  norm1 = register_module("norm1", torch::nn::LayerNorm(lnOptions));
  attn = register_module("attn", Attention(c.embedDim, c.numHeads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(lnOptions));
  mlp = register_module("mlp", Mlp(c.embedDim, static_cast<int>(std::lround(c.embedDim * c.mlpRatio))));
  if (c.layerScale) {
    ls1 = register_module("ls1", LayerScale(c.embedDim, c.layerScaleInit));
    ls2 = register_module("ls2", LayerScale(c.embedDim, c.layerScaleInit));
  }
}

at::Tensor BlockImpl::forward(const at::Tensor& x) {
  auto a = attn->forward(norm1->forward(x));
  auto y = x + (ls1 ? ls1->forward(a) : a);
  auto m = mlp->forward(norm2->forward(y));
  return y + (ls2 ? ls2->forward(m) : m);
}

VisionTransformerImpl::VisionTransformerImpl(ViTConfig config) : config_(std::move(config)) {
  config_.validate();
  const int D = config_.embedDim, G = config_.posEmbedGrid;
  patchEmbed = register_module("patch_embed", PatchEmbed(config_.patchSize, D));
  clsToken = register_parameter("cls_token", torch::zeros({1, 1, D}));
  posEmbed = register_parameter("pos_embed", torch::zeros({1, 1 + G * G, D}));
  if (config_.numRegisters > 0) {
    registerTokens = register_parameter("register_tokens", torch::zeros({1, config_.numRegisters, D}));
  }
  maskToken = register_parameter("mask_token", torch::zeros({1, D}));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config_.depth; ++i) blocks->push_back(Block(config_));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D}).eps(config_.layerNormEps)));
}

void VisionTransformerImpl::initialiseRandom(std::uint64_t seed) {
  torch::NoGradGuard noGrad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto truncNormal = [&](at::Tensor& t, double std) {
    t.normal_(0.0, std, generator);
    t.clamp_(-2.0 * std, 2.0 * std);
  };
  for (auto& item : named_parameters(/*recurse=*/true)) {
    const std::string& key = item.key();
    at::Tensor p = item.value();
    if (key.find("norm") != std::string::npos) {
      if (key.size() >= 6 && key.compare(key.size() - 6, 6, "weight") == 0) p.fill_(1.0); else p.zero_();
    } else if (key.find(".gamma") != std::string::npos) {
      p.fill_(config_.layerScaleInit);
    } else if (key.size() >= 4 && key.compare(key.size() - 4, 4, "bias") == 0) {
      p.zero_();
    } else {
      truncNormal(p, 0.02);
    }
  }
}

at::Tensor VisionTransformerImpl::interpolatedPosEmbed(int gridH, int gridW) const {
  const int G = config_.posEmbedGrid;
  if (gridH == G && gridW == G) return posEmbed;
  const auto D = posEmbed.size(2);
  auto clsPos = posEmbed.slice(1, 0, 1);
  auto patchPos = posEmbed.slice(1, 1).reshape({1, G, G, D}).permute({0, 3, 1, 2});
  auto options = F::InterpolateFuncOptions().mode(torch::kBicubic).align_corners(false);
  if (config_.interpolation == PosEmbedInterpolation::OffsetScaleFactor) {
    // NeCo/DINOv2: the scale factor itself drives the coordinate mapping (no recompute).
    const double sy = (gridH + 0.1) / G, sx = (gridW + 0.1) / G;
    options.scale_factor(std::vector<double>{sy, sx}).recompute_scale_factor(false);
  } else {
    options.size(std::vector<int64_t>{gridH, gridW}).antialias(true);
  }
  auto resized = F::interpolate(patchPos.to(at::kFloat), options).to(posEmbed.dtype());
  if (resized.size(2) != gridH || resized.size(3) != gridW) {
    throw InvalidArgumentError("position-embedding interpolation produced " + std::to_string(resized.size(2)) + "x" +
                               std::to_string(resized.size(3)) + " for a " + std::to_string(gridH) + "x" +
                               std::to_string(gridW) + " grid");
  }
  return at::cat({clsPos, resized.permute({0, 2, 3, 1}).reshape({1, gridH * gridW, D})}, 1);
}

ViTOutput VisionTransformerImpl::forward(const at::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3) {
    throw InvalidArgumentError("ViT input must be (B, 3, H, W), got " + std::to_string(images.dim()) + "-D");
  }
  const int P = config_.patchSize;
  if (images.size(2) < P || images.size(3) < P) {
    throw InvalidArgumentError("ViT input smaller than one " + std::to_string(P) + "-pixel patch");
  }
  auto x = patchEmbed->forward(images);  // (B, D, gh, gw)
  const int gh = static_cast<int>(x.size(2)), gw = static_cast<int>(x.size(3));
  x = x.flatten(2).transpose(1, 2);      // (B, gh*gw, D)
  const auto B = x.size(0);
  x = at::cat({clsToken.expand({B, -1, -1}), x}, 1) + interpolatedPosEmbed(gh, gw);
  const int R = config_.numRegisters;
  if (R > 0) x = at::cat({x.slice(1, 0, 1), registerTokens.expand({B, -1, -1}), x.slice(1, 1)}, 1);
  for (const auto& block : *blocks) x = block->as<Block>()->forward(x);
  x = norm->forward(x);
  ViTOutput out;
  out.cls = x.select(1, 0);
  out.registers = x.slice(1, 1, 1 + R);
  out.patchTokens = x.slice(1, 1 + R);
  out.gridH = gh;
  out.gridW = gw;
  return out;
}

std::int64_t VisionTransformerImpl::parameterCount() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace neco::nn

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

VisionTransformerImpl::VisionTransformerImpl(ViTConfig config) : config_(std::move(config)) {
  config_.validate();
  const int D = config_.embedDim, G = config_.posEmbedGrid;
  patchEmbed = register_module("patch_embed", PatchEmbed(config_.patchSize, D));
  clsToken = register_parameter("cls_token", torch::zeros({1, 1, D}));
  posEmbed = register_parameter("pos_embed", torch::zeros({1, 1 + G * G, D}));
  if (config_.numRegisters > 0) {
    registerTokens = register_parameter("register_tokens", torch::zeros({1, config_.numRegisters, D}));
  }
  if (config_.maskToken) maskToken = register_parameter("mask_token", torch::zeros({1, D}));
  blocks = register_module("blocks", torch::nn::ModuleList());
  const std::vector<double> rates = dropPathSchedule(config_.dropPathRate, config_.depth);
  for (int i = 0; i < config_.depth; ++i) blocks->push_back(Block(config_, rates[static_cast<std::size_t>(i)]));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D}).eps(config_.layerNormEps)));
}

void VisionTransformerImpl::setDropPathGenerator(const c10::optional<at::Generator>& generator) {
  for (const auto& block : *blocks) block->as<BlockImpl>()->setGenerator(generator);
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

at::Tensor VisionTransformerImpl::interpolatedPosEmbed(int gridH, int gridW, bool squareInput) const {
  const int G = config_.posEmbedGrid;
  // NOTE: DINOv2, DINO v1 and HF skip interpolation only for a square input with the trained grid
  // (`npatch == N and w == h`); 518x520 pixels still go through the (non-identity) interpolation.
  if (gridH == G && gridW == G && squareInput) return posEmbed;
  const auto D = posEmbed.size(2);
  auto clsPos = posEmbed.slice(1, 0, 1);
  auto patchPos = posEmbed.slice(1, 1).reshape({1, G, G, D}).permute({0, 3, 1, 2});
  auto options = F::InterpolateFuncOptions().mode(torch::kBicubic).align_corners(false);
  if (config_.interpolation == PosEmbedInterpolation::OffsetScaleFactor) {
    // NeCo/DINOv2: the scale factor itself drives the coordinate mapping (no recompute).
    const double sy = (gridH + 0.1) / G, sx = (gridW + 0.1) / G;
    options.scale_factor(std::vector<double>{sy, sx}).recompute_scale_factor(false);
  } else {
    options.size(std::vector<int64_t>{gridH, gridW})
        .antialias(config_.interpolation == PosEmbedInterpolation::ExplicitSizeAntialias);
  }
  auto resized = F::interpolate(patchPos.to(at::kFloat), options).to(posEmbed.dtype());
  if (resized.size(2) != gridH || resized.size(3) != gridW) {
    throw InvalidArgumentError("position-embedding interpolation produced " + std::to_string(resized.size(2)) + "x" +
                               std::to_string(resized.size(3)) + " for a " + std::to_string(gridH) + "x" +
                               std::to_string(gridW) + " grid");
  }
  return at::cat({clsPos, resized.permute({0, 2, 3, 1}).reshape({1, gridH * gridW, D})}, 1);
}

ViTOutput VisionTransformerImpl::forward(const at::Tensor& images, const ViTForwardOptions& options) {
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
  x = at::cat({clsToken.expand({B, -1, -1}), x}, 1) + interpolatedPosEmbed(gh, gw, images.size(2) == images.size(3));
  const int R = config_.numRegisters;
  if (R > 0) x = at::cat({x.slice(1, 0, 1), registerTokens.expand({B, -1, -1}), x.slice(1, 1)}, 1);
  ViTOutput out;
  const auto total = static_cast<int>(blocks->size());
  if (options.blocks < 0 || options.blocks > total) {
    throw InvalidArgumentError("ViT: cannot stop after block " + std::to_string(options.blocks) + " of a " +
                               std::to_string(total) + "-block model");
  }
  const auto depth = static_cast<std::size_t>(options.blocks == 0 ? total : options.blocks);
  for (std::size_t i = 0; i < depth; ++i) {
    auto* block = blocks[i]->as<Block>();
    if (options.lastBlockClsAttention && i + 1 == depth) {
      out.clsAttention = block->attn->clsAttention(block->norm1->forward(x)).slice(2, 1 + R);
    }
    x = block->forward(x);
    if (options.keepBlockOutputs) out.blockOutputs.push_back(x);
  }
  x = norm->forward(x);
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

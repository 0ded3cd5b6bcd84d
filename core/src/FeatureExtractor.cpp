#include "neco/core/FeatureExtractor.h"

#include "FeatureExtractorImpl.h"

#include "checkpoint/BackboneLoader.h"
#include "neco/core/Checkpoint.h"
#include "neco/core/Error.h"
#include "nn/VisionTransformer.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/types.h>

#include <spdlog/spdlog.h>

#include <cstring>

namespace neco {

namespace F = torch::nn::functional;


FeatureExtractor::FeatureExtractor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeatureExtractor::~FeatureExtractor() = default;

std::unique_ptr<FeatureExtractor> FeatureExtractor::createDemo(std::uint64_t seed) {
  auto impl = std::make_unique<Impl>();
  impl->model = nn::VisionTransformer(nn::ViTConfig::tiny());
  impl->model->initialiseRandom(seed);
  impl->model->eval();
  impl->weights = "random (seed " + std::to_string(seed) + ")";
  spdlog::info("demo model {}: {} parameters, weights {}", impl->model->config().name,
               impl->model->parameterCount(), impl->weights);
  return std::unique_ptr<FeatureExtractor>(new FeatureExtractor(std::move(impl)));
}

std::unique_ptr<FeatureExtractor> FeatureExtractor::fromCheckpoint(const std::string& path,
                                                                   const CheckpointOptions& options) {
  auto loaded = checkpoint::loadBackbone(path, options);
  auto impl = std::make_unique<Impl>();
  impl->model = loaded.model;
  impl->weights = path;
  return std::unique_ptr<FeatureExtractor>(new FeatureExtractor(std::move(impl)));
}

ModelDescription FeatureExtractor::describe() const {
  const nn::ViTConfig& c = impl_->model->config();
  return {c.name,         c.patchSize, c.embedDim, c.depth, c.numHeads, c.numRegisters, impl_->model->parameterCount(),
          impl_->weights, impl_->layer == 0 ? c.depth : impl_->layer};
}

std::shared_ptr<const FeatureExtractor> FeatureExtractor::atLayer(int layer) const {
  const int depth = impl_->model->config().depth;
  if (layer < 0 || layer > depth) {
    throw InvalidArgumentError("layer " + std::to_string(layer) + " does not exist: the model has blocks 1 to " +
                               std::to_string(depth));
  }
  auto impl = std::make_unique<Impl>(*impl_);
  impl->layer = layer == depth ? 0 : layer;
  return FeatureExtractorAccess::make(std::move(impl));
}

namespace {

// (H, W, 3) uint8 -> (1, 3, side, side) float, ImageNet-normalised.
at::Tensor preprocess(const RgbImage& image, int side) {
  at::Tensor hwc = at::from_blob(const_cast<std::uint8_t*>(image.pixels.data()), {image.height, image.width, 3},
                                 at::kByte);
  at::Tensor x = hwc.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat).div_(255.0);
  if (image.width != side || image.height != side) {
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{side, side})
                              .mode(torch::kBilinear)
                              .align_corners(false)
                              .antialias(true));
  }
  const at::Tensor mean = at::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const at::Tensor stdev = at::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  return (x - mean) / stdev;
}

}  // namespace

PatchFeatures FeatureExtractor::extract(const RgbImage& image, int inputSide, bool normalise) const {
  const int P = impl_->model->config().patchSize;
  if (image.empty() || image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
    throw InvalidArgumentError("extract: empty or inconsistent RGB image");
  }
  if (inputSide < P) {
    throw InvalidArgumentError("extract: input size " + std::to_string(inputSide) + " is smaller than one " +
                               std::to_string(P) + "-pixel patch");
  }
  const int side = inputSide / P * P;
  torch::NoGradGuard noGrad;
  nn::ViTForwardOptions options;
  options.blocks = impl_->layer;
  const nn::ViTOutput out = impl_->model->forward(preprocess(image, side), options);
  // L2-normalise each token so the similarity views reduce to dot products.
  const at::Tensor tokens = out.patchTokens[0];
  const at::Tensor normalised =
      normalise ? (tokens / tokens.norm(2, -1, true).clamp_min(1e-12)).contiguous() : tokens.contiguous();

  PatchFeatures features;
  features.gridH = out.gridH;
  features.gridW = out.gridW;
  features.dim = static_cast<int>(normalised.size(1));
  features.patchSize = P;
  features.inputWidth = side;
  features.inputHeight = side;
  features.tokens.resize(static_cast<std::size_t>(normalised.numel()));
  std::memcpy(features.tokens.data(), normalised.data_ptr<float>(), features.tokens.size() * sizeof(float));
  features.normalised = normalise;
  features.layer = impl_->layer == 0 ? impl_->model->config().depth : impl_->layer;
  const at::Tensor cls = out.cls[0].contiguous();
  features.cls.assign(cls.data_ptr<float>(), cls.data_ptr<float>() + cls.numel());
  const at::Tensor regs = out.registers[0].contiguous();
  features.registers.assign(regs.data_ptr<float>(), regs.data_ptr<float>() + regs.numel());
  return features;
}

}  // namespace neco

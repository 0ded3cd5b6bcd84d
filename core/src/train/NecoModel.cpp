#include "train/NecoModel.h"

#include "neco/core/Error.h"
#include "train/Autocast.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include <string>

namespace neco::train {

NecoNetworkImpl::NecoNetworkImpl(const nn::ViTConfig& config, const HeadConfig& head) {
  backbone = register_module("backbone", nn::VisionTransformer(config));
  projectionHead = register_module(
      "projection_head",
      torch::nn::Sequential(torch::nn::Linear(config.embedDim, head.hidden), torch::nn::GELU(),
                            torch::nn::Linear(head.hidden, head.hidden), torch::nn::GELU(),
                            torch::nn::Linear(head.hidden, head.out)));
}

at::Tensor NecoNetworkImpl::project(const at::Tensor& rows) {
  const at::Tensor y = projectionHead->forward(rows);
  return y / y.norm(2, {-1}, true).clamp_min(1e-12);  // F.normalize(dim=-1)
}

nn::ViTOutput NecoNetworkImpl::runBackbone(const at::Tensor& images, const nn::ViTForwardOptions& options) {
  nn::ViTOutput out;
  {
    const CudaAutocast autocast(mixedPrecision_, images);
    out = backbone->forward(images, options);
  }
  if (out.patchTokens.scalar_type() != images.scalar_type()) {  // back to fp32 for the head and the loss
    out.patchTokens = out.patchTokens.to(images.scalar_type());
    if (out.clsAttention.defined()) out.clsAttention = out.clsAttention.to(images.scalar_type());
  }
  return out;
}

at::Tensor NecoNetworkImpl::forward(const at::Tensor& images) {
  const nn::ViTOutput out = runBackbone(images, {});
  const at::Tensor z = project(out.patchTokens);  // (B, N, out), rows in grid order
  return z.transpose(1, 2).reshape({z.size(0), z.size(2), out.gridH, out.gridW});
}

std::pair<at::Tensor, at::Tensor> NecoNetworkImpl::forwardWithAttention(const at::Tensor& images) {
  nn::ViTForwardOptions options;
  options.lastBlockClsAttention = true;
  const nn::ViTOutput out = runBackbone(images, options);
  const at::Tensor z = project(out.patchTokens);
  return {z.transpose(1, 2).reshape({z.size(0), z.size(2), out.gridH, out.gridW}), out.clsAttention};
}

void NecoNetworkImpl::initialiseHead(std::uint64_t seed) {
  torch::NoGradGuard noGrad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& item : projectionHead->named_parameters()) {
    at::Tensor p = item.value();
    if (p.dim() == 1) {
      p.zero_();
    } else {
      // trunc_normal_(std=0.02) truncates at the default absolute bounds [-2, 2] (100 sigma): a plain
      // normal draw is the same distribution.
      p.normal_(0.0, 0.02, generator);
    }
  }
}

ParameterGroups parameterGroups(NecoNetworkImpl& student, const std::optional<std::vector<int>>& trainableBlocks) {
  const int depth = static_cast<int>(student.backbone->blocks->size());
  if (trainableBlocks) {
    for (int b : *trainableBlocks) {
      if (b < 0 || b >= depth) {
        throw InvalidArgumentError("trainable_blocks: block " + std::to_string(b) + " outside [0, " +
                                   std::to_string(depth) + ")");
      }
    }
  }
  auto blockTrains = [&](const std::string& name) {
    if (!trainableBlocks) return true;
    if (name.rfind("blocks.", 0) != 0) return false;  // patch embed, tokens, final norm stay frozen
    const int index = std::stoi(name.substr(7));
    for (int b : *trainableBlocks) {
      if (b == index) return true;
    }
    return false;
  };
  ParameterGroups g;
  for (auto& item : student.named_parameters()) {
    const std::string& name = item.key();
    at::Tensor p = item.value();
    const bool head = name.rfind("projection_head.", 0) == 0;
    if (!head) {
      const bool trains = blockTrains(name.substr(std::string("backbone.").size()));
      p.set_requires_grad(trains);
      if (!trains) continue;
    }
    const bool noDecay = (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0) || p.dim() == 1;
    const int group = (head ? 2 : 0) + (noDecay ? 1 : 0);
    g.groups[group].push_back(p);
    g.names[group].push_back(name);
  }
  return g;
}

void emaUpdate(NecoNetworkImpl& teacher, NecoNetworkImpl& student, double momentum) {
  torch::NoGradGuard noGrad;
  const auto t = teacher.named_parameters(), s = student.named_parameters();
  if (t.size() != s.size()) throw InvalidArgumentError("EMA: teacher and student have different parameters");
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto& ti = t[i];
    const auto& si = s[i];
    if (ti.key() != si.key() || !ti.value().sizes().equals(si.value().sizes())) {
      throw InvalidArgumentError("EMA: parameter " + ti.key() + " does not match the student's " + si.key());
    }
    ti.value().mul_(momentum).add_(si.value().detach(), 1.0 - momentum);
  }
}

void copyWeights(NecoNetworkImpl& to, NecoNetworkImpl& from) {
  torch::NoGradGuard noGrad;
  const auto t = to.named_parameters(), f = from.named_parameters();
  if (t.size() != f.size()) throw InvalidArgumentError("copyWeights: different architectures");
  for (std::size_t i = 0; i < t.size(); ++i) t[i].value().copy_(f[i].value());
  const auto tb = to.named_buffers(), fb = from.named_buffers();
  for (std::size_t i = 0; i < tb.size() && i < fb.size(); ++i) tb[i].value().copy_(fb[i].value());
}

}  // namespace neco::train

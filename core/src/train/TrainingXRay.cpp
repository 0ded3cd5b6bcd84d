#include "train/TrainingXRay.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace neco::train {
namespace {

SoftSortSettings publicSettings(sort::NetworkKind network, const sort::SortOptions& o) {
  SoftSortSettings s;
  s.network = network == sort::NetworkKind::Bitonic ? SortNetworkKind::Bitonic : SortNetworkKind::OddEven;
  s.relaxation = static_cast<SortRelaxation>(static_cast<int>(o.relaxation));
  s.steepness = o.steepness;
  s.artLambda = o.artLambda;
  return s;
}

/// (3, S, S) normalised -> 8-bit RGB, the ImageNet normalisation undone.
RgbImage cropPixels(const at::Tensor& normalised) {
  const at::Tensor mean = at::tensor({0.485, 0.456, 0.406}, at::kFloat).view({3, 1, 1});
  const at::Tensor stdev = at::tensor({0.229, 0.224, 0.225}, at::kFloat).view({3, 1, 1});
  const at::Tensor rgb = (normalised.to(at::kFloat) * stdev + mean).clamp(0, 1).mul(255).round().to(at::kByte)
                             .permute({1, 2, 0}).contiguous();
  RgbImage out;
  out.width = static_cast<int>(rgb.size(1));
  out.height = static_cast<int>(rgb.size(0));
  out.pixels.assign(rgb.data_ptr<std::uint8_t>(), rgb.data_ptr<std::uint8_t>() + rgb.numel());
  return out;
}

std::string describeDraw(const PhotometricDraw& d) {
  std::string s;
  char buffer[96];
  if (d.jitter) {
    std::snprintf(buffer, sizeof buffer, "jitter b %.2f c %.2f s %.2f h %+.3f", d.brightness, d.contrast, d.saturation, d.hue);
    s = buffer;
  }
  if (d.grayscale) s += std::string(s.empty() ? "" : ", ") + "grayscale";
  if (d.blur) {
    std::snprintf(buffer, sizeof buffer, "blur sigma %.2f", d.sigma);
    s += std::string(s.empty() ? "" : ", ") + buffer;
  }
  return s.empty() ? "no colour change" : s;
}

XRayBox boxAt(const at::Tensor& boxes, std::int64_t i, std::int64_t a, std::int64_t b) {
  const at::Tensor r = boxes[i][a][b].to(at::kDouble).contiguous();
  const double* p = r.data_ptr<double>();
  return {p[0], p[1], p[2], p[3]};
}

std::vector<float> floats(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

}  // namespace

TrainingXRay toXRay(const TrainerInspection& x, const StepConfig& config) {
  TrainingXRay out;
  const StepInspection& s = x.step;
  const NecoBatch& batch = x.batch.batch;
  const int K = config.loss.roiSize;
  const std::int64_t M = static_cast<std::int64_t>(K) * K;
  out.step = s.step;
  out.stepLoss = s.loss;
  out.roiSize = K;
  out.patchSize = config.loss.patchSize;
  out.batchSize = static_cast<int>(batch.crops.empty() ? 0 : batch.crops[0].size(0));
  out.student = publicSettings(config.loss.network, config.loss.student);
  out.teacher = publicSettings(config.loss.network, config.loss.teacher);
  out.lossMask = config.loss.mask == LossMask::All ? "all" : config.loss.mask == LossMask::Foreground ? "fg" : "bg";
  const bool fromQueue = !s.pairs.empty() && s.pairs.front().fromQueue;
  out.references = fromQueue ? "queue" : "batch";
  out.queueFill = s.queueFill;
  out.queueCapacity = config.useQueue ? config.queueLength : 0;
  out.queueRowsPerPush = s.queueRowsPerPush;
  const int V = static_cast<int>(batch.crops.size());
  for (std::size_t i = 0; i < x.sources.size(); ++i) {
    const auto b = static_cast<std::int64_t>(i);
    XRayImage image;
    image.sample = x.batch.indices[i];
    image.source = x.sources[i];
    if (i < x.names.size()) image.name = x.names[i];
    const CropLayout& layout = x.batch.layouts[i];
    for (int v = 0; v < V; ++v) {
      XRayCrop crop;
      crop.global = v < layout.globalCount;
      crop.size = layout.sizes[static_cast<std::size_t>(v)];
      crop.pixels = cropPixels(batch.crops[static_cast<std::size_t>(v)][b]);
      const PixelBox& p = layout.crops[static_cast<std::size_t>(v)];
      crop.inImage = {static_cast<double>(p.left), static_cast<double>(p.top), static_cast<double>(p.right()),
                      static_cast<double>(p.bottom())};
      if (i < x.batch.draws.size() && static_cast<std::size_t>(v) < x.batch.draws[i].size()) {
        crop.augmentation = describeDraw(x.batch.draws[i][static_cast<std::size_t>(v)]);
      }
      image.crops.push_back(std::move(crop));
    }
    for (const PairInspection& p : s.pairs) {
      const PairTrace& t = p.trace;
      XRayPair pair;
      pair.global = t.global;
      pair.other = t.other;
      const PixelBox both = intersect(layout.crops[static_cast<std::size_t>(t.global)], layout.crops[static_cast<std::size_t>(t.other)]);
      pair.inImage = {static_cast<double>(both.left), static_cast<double>(both.top), static_cast<double>(both.right()),
                      static_cast<double>(both.bottom())};
      pair.inGlobal = boxAt(batch.inGlobal, b, t.global, t.other);
      pair.inOther = boxAt(batch.inCrop, b, t.other, t.global);
      pair.batchLoss = t.loss;
      const at::Tensor rows = at::arange(b * M, (b + 1) * M, at::kLong);
      at::Tensor counted;
      if (t.positions.defined()) {
        counted = t.positions.index_select(0, rows);
        const at::Tensor flags = (counted > 0.5).to(at::kByte).contiguous();
        pair.inMask.assign(flags.data_ptr<std::uint8_t>(), flags.data_ptr<std::uint8_t>() + flags.numel());
      }
      pair.traced = t.studentSims.defined();
      if (pair.traced) {
        pair.studentSimilarity = floats(t.studentSims.index_select(0, rows));
        pair.teacherSimilarity = floats(t.teacherSims.index_select(0, rows));
        const at::Tensor loss = t.rowLoss.index_select(0, rows).to(at::kDouble);
        pair.patchLoss = floats(loss);
        if (counted.defined()) {
          const double n = counted.sum().item<double>();
          pair.imageLoss = n > 0 ? (loss * counted.to(at::kDouble)).sum().item<double>() / n : 0.0;
        } else {
          pair.imageLoss = loss.mean().item<double>();
        }
        const at::Tensor prov = p.provenance.index_select(0, rows).contiguous();
        for (std::int64_t r = 0; r < M; ++r) {
          XRayReference ref;
          const std::int64_t value = prov[r].item<std::int64_t>();
          ref.fromQueue = p.fromQueue;
          if (p.fromQueue) {
            ref.slot = value;
          } else {
            ref.image = static_cast<int>(value / M);
            ref.cellY = static_cast<int>((value % M) / K);
            ref.cellX = static_cast<int>(value % K);
          }
          pair.references.push_back(ref);
        }
      }
      image.pairs.push_back(std::move(pair));
    }
    out.images.push_back(std::move(image));
  }
  return out;
}

}  // namespace neco::train

// Dense nearest-neighbour retrieval (Hummingbird, METHOD.md §4.3) behind neco/core/Evaluation.h.
//
// Memory images: photometric jitter (brightness, contrast, saturation, hue, each factor drawn within
// ±0.1 and each applied independently with p = 0.5, in that order), normalisation with Hummingbird's
// std (0.229, 0.224, 0.255 — its typo kept), then a joint RandomResizedCrop(S, scale (0.5, 2.0)) of the
// normalised image (bilinear, no antialiasing, as torchvision on tensors) and the mask (nearest);
// L2-normalised patch features, soft labels = class histograms per patch with 255 counted as 0.
// Queries: the image resized to S² (antialiased bilinear, as PIL), the mask by PIL's nearest rule.
// Data fractions draw a random subset of the memory images per seed (Hummingbird ships fixed file
// lists for VOC / ADE20K; this uses the seed instead — documented in docs/EVALUATION.md).
#include "FeatureExtractorImpl.h"
#include "eval/LabelMaps.h"
#include "eval/Retrieval.h"
#include "eval/SegmentationMetrics.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"
#include "train/Augment.h"
#include "train/CropGeometry.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <sstream>

namespace neco {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

at::Tensor rgbTensor(const RgbImage& image) {  // (3, H, W) float in [0, 1]
  return at::from_blob(const_cast<std::uint8_t*>(image.pixels.data()), {image.height, image.width, 3}, at::kByte)
      .permute({2, 0, 1})
      .to(at::kFloat)
      .div(255.0);
}

at::Tensor maskTensor(const LabelImage& m) {
  return at::from_blob(const_cast<std::uint8_t*>(m.labels.data()), {m.height, m.width}, at::kByte).clone();
}

/// L2-normalised patch tokens (gh * gw, D) of a normalised (1, 3, S, S) input.
at::Tensor patchFeatures(const FeatureExtractor& model, const at::Tensor& input) {
  at::NoGradGuard noGrad;
  const at::Tensor t = FeatureExtractorAccess::impl(model).model->forward(input).patchTokens[0];
  return t / t.norm(2, -1, true).clamp_min(1e-12);
}

/// One augmented memory view: (normalised image (1, 3, S, S), mask (S, S) uint8).
std::pair<at::Tensor, at::Tensor> memoryView(const RgbImage& image, const LabelImage& mask, int S, train::CropRng& rng) {
  at::Tensor x = rgbTensor(image);
  if (rng.bernoulli(0.5)) x = train::adjustBrightness(x, rng.uniform(0.9, 1.1));
  if (rng.bernoulli(0.5)) x = train::adjustContrast(x, rng.uniform(0.9, 1.1));
  if (rng.bernoulli(0.5)) x = train::adjustSaturation(x, rng.uniform(0.9, 1.1));
  if (rng.bernoulli(0.5)) x = train::adjustHue(x, rng.uniform(-0.1, 0.1));
  const at::Tensor mean = at::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1});
  const at::Tensor stdev = at::tensor({0.229f, 0.224f, 0.255f}).view({3, 1, 1});  // Hummingbird's 0.255 (sic)
  x = (x - mean) / stdev;
  const train::PixelBox b = train::sampleResizedCrop(image.width, image.height, 0.5, 2.0, rng);
  const at::Tensor crop = x.slice(1, b.top, b.bottom()).slice(2, b.left, b.right()).unsqueeze(0);
  const at::Tensor img = at::upsample_bilinear2d(crop, {S, S}, /*align_corners=*/false);
  const at::Tensor m = maskTensor(mask).slice(0, b.top, b.bottom()).slice(1, b.left, b.right());
  const at::Tensor mr = at::upsample_nearest2d(m.to(at::kFloat).unsqueeze(0).unsqueeze(0), {S, S}).squeeze(0).squeeze(0).to(at::kByte);
  return {img, mr};
}

}  // namespace

RetrievalResult evaluateRetrieval(const FeatureExtractor& model, const EvaluationData& memory, const EvaluationData& queries,
                                  const RetrievalOptions& o,
                                  const std::function<void(std::size_t, std::size_t, const std::string&)>& progress) {
  const ModelDescription md = model.describe();
  const int P = md.patchSize;
  const int S = o.inputSize > 0 ? o.inputSize / P * P : (P == 14 ? 504 : 32 * P);
  if (S < P) throw InvalidArgumentError("retrieval: input size " + std::to_string(o.inputSize) + " is below one patch");
  if (o.k < 1 || o.temperature <= 0 || o.augmentationEpochs < 1 || o.memorySize < 0 || !(o.fraction > 0 && o.fraction <= 1) ||
      o.seeds.empty()) {
    throw InvalidArgumentError("retrieval: need k >= 1, temperature > 0, epochs >= 1, memory size >= 0, 0 < fraction <= 1 and a seed");
  }
  if (memory.classCount() != queries.classCount()) {
    throw InvalidArgumentError("retrieval: the memory data has " + std::to_string(memory.classCount()) + " classes, the queries " +
                               std::to_string(queries.classCount()));
  }
  if (memory.size() == 0 || queries.size() == 0) throw InvalidArgumentError("retrieval: no memory or no query image");
  const int C = queries.classCount();
  RetrievalResult result;
  result.model = md.name + " (" + md.weights + ")";
  result.memoryData = memory.describe();
  result.queryData = queries.describe();
  result.classNames = queries.classNames();
  result.classes = C;
  result.ignoreIndex = queries.ignoreIndex();
  result.inputSize = S;
  result.options = o;

  // the queries' features and ground truth, shared by every seed
  std::vector<at::Tensor> queryFeatures, queryMasks;
  {
    for (std::size_t i = 0; i < queries.size(); ++i) {
      if (progress) progress(i, queries.size(), "query features");
      const RgbImage image = queries.image(i);
      const LabelImage mask = queries.mask(i);
      if (mask.width != image.width || mask.height != image.height) {
        throw FormatError(queries.id(i), "its mask is " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                                             " but the image " + std::to_string(image.width) + "x" + std::to_string(image.height));
      }
      const PatchFeatures f = model.extract(image, S, /*normalise=*/true);
      queryFeatures.push_back(at::from_blob(const_cast<float*>(f.tokens.data()), {f.patchCount(), f.dim}, at::kFloat).clone());
      queryMasks.push_back(maskTensor(eval::pilNearest(mask, S, S)));
      result.imageIds.push_back(queries.id(i));
    }
  }
  const int grid = S / P;
  std::vector<double> mious;
  for (std::size_t si = 0; si < o.seeds.size(); ++si) {
    const std::uint64_t seed = o.seeds[si];
    RetrievalRun run;
    run.seed = seed;
    auto t0 = Clock::now();
    // the memory images of this seed: a random subset for fractions below 1
    std::vector<std::int64_t> chosen;
    {
      at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
      const auto n = static_cast<std::int64_t>(memory.size());
      const std::int64_t keep = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(o.fraction * static_cast<double>(n))));
      const at::Tensor perm =
          o.fraction < 1 ? std::get<0>(at::randperm(n, g, at::kLong).slice(0, 0, keep).sort()) : at::arange(n, at::kLong);
      chosen.assign(perm.data_ptr<std::int64_t>(), perm.data_ptr<std::int64_t>() + perm.numel());
    }
    run.memoryImages = static_cast<std::int64_t>(chosen.size());
    const std::int64_t perImage =
        o.memorySize > 0 ? std::max<std::int64_t>(1, o.memorySize / (run.memoryImages * o.augmentationEpochs)) : 0;
    std::vector<at::Tensor> features, labels;
    at::Generator bounded = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
    const std::size_t views = chosen.size() * static_cast<std::size_t>(o.augmentationEpochs);
    std::size_t done = 0;
    for (int epoch = 0; epoch < o.augmentationEpochs; ++epoch) {
      for (const std::int64_t index : chosen) {
        if (progress) progress(done, views, "memory (seed " + std::to_string(seed) + ")");
        ++done;
        const RgbImage image = memory.image(static_cast<std::size_t>(index));
        const LabelImage mask = memory.mask(static_cast<std::size_t>(index));
        if (mask.width != image.width || mask.height != image.height) {
          throw FormatError(memory.id(static_cast<std::size_t>(index)), "its mask and image differ in size");
        }
        train::CropRng rng = train::CropRng::forSample(seed, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(index));
        const auto [input, viewMask] = memoryView(image, mask, S, rng);
        at::Tensor f = patchFeatures(model, input);
        at::Tensor l = eval::patchSoftLabels(viewMask, P, C, /*remapTo=*/0);
        if (perImage > 0) {
          const at::Tensor keep = eval::boundedMemoryPatches(l, perImage, bounded);
          f = f.index_select(0, keep);
          l = l.index_select(0, keep);
        }
        features.push_back(f);
        labels.push_back(l);
      }
    }
    const at::Tensor bank = at::cat(features, 0), bankLabels = at::cat(labels, 0);
    run.memoryPatches = bank.size(0);
    run.memorySeconds = secondsSince(t0);
    if (o.k > bank.size(0)) {
      throw InvalidArgumentError("retrieval: k = " + std::to_string(o.k) + " but the memory holds " + std::to_string(bank.size(0)) + " patches");
    }
    // label every query patch, upsample, argmax, count
    t0 = Clock::now();
    eval::ConfusionMatrix cm(C, C, queries.ignoreIndex());
    std::vector<at::Tensor> predicted;
    std::int64_t queryPatches = 0;
    for (std::size_t i = 0; i < queryFeatures.size(); ++i) {
      if (progress) progress(i, queryFeatures.size(), "retrieval (seed " + std::to_string(seed) + ")");
      const eval::Neighbours n = eval::exactTopK(queryFeatures[i], bank, o.k);
      queryPatches += queryFeatures[i].size(0);
      const at::Tensor soft = eval::transferLabels(n, bankLabels, o.temperature);            // (grid², C)
      const at::Tensor map = soft.t().reshape({1, C, grid, grid});
      const at::Tensor up = at::upsample_bilinear2d(map, {S, S}, /*align_corners=*/false);
      const at::Tensor pred = up[0].argmax(0).to(at::kInt).contiguous();
      cm.add(queryMasks[i].data_ptr<std::uint8_t>(), pred.data_ptr<std::int32_t>(), static_cast<std::size_t>(pred.numel()));
      if (si == 0) predicted.push_back(pred);
    }
    run.searchSeconds = secondsSince(t0);
    run.queryPatchesPerSecond = run.searchSeconds > 0 ? static_cast<double>(queryPatches) / run.searchSeconds : 0.0;
    const std::vector<int> match = eval::hungarianMatch(cm);
    const eval::ConfusionMatrix matched = cm.relabelled(match);
    const eval::SegmentationScores s = eval::scoreSegmentation(matched);
    run.miou = s.miouReference;
    run.miouPresent = s.miouPresent;
    run.pixelAccuracy = s.pixelAccuracy;
    run.iou = s.iou;
    mious.push_back(s.miouReference);
    if (si == 0) {
      result.confusion = matched.counts();
      for (std::size_t i = 0; i < predicted.size(); ++i) {
        LabelImage p;
        p.width = p.height = S;
        p.labels.resize(static_cast<std::size_t>(S) * S);
        const std::int32_t* src = predicted[i].data_ptr<std::int32_t>();
        std::vector<std::int32_t> classes(p.labels.size());
        for (std::size_t j = 0; j < p.labels.size(); ++j) {
          classes[j] = match[static_cast<std::size_t>(src[j])];
          p.labels[j] = static_cast<std::uint8_t>(classes[j]);
        }
        eval::ConfusionMatrix one(C, C, queries.ignoreIndex());
        one.add(queryMasks[i].data_ptr<std::uint8_t>(), classes.data(), classes.size());
        result.imageMiou.push_back(eval::scoreSegmentation(one).miouPresent);
        result.predictions.push_back(std::move(p));
      }
    }
    result.runs.push_back(std::move(run));
  }
  const eval::MeanStd spread = eval::meanAndStd(mious);
  result.miou = spread.mean;
  result.miouStd = spread.std;
  for (const at::Tensor& m : queryMasks) {
    LabelImage t;
    t.width = t.height = S;
    t.labels.assign(m.data_ptr<std::uint8_t>(), m.data_ptr<std::uint8_t>() + m.numel());
    result.targets.push_back(std::move(t));
  }
  if (progress) progress(1, 1, "done");
  return result;
}

std::string retrievalJson(const RetrievalResult& r) {
  nlohmann::json runs = nlohmann::json::array();
  for (const RetrievalRun& run : r.runs) {
    nlohmann::json perClass = nlohmann::json::array();
    for (int c = 0; c < r.classes; ++c) {
      perClass.push_back({{"class", c}, {"name", eval::className(r.classNames, c)}, {"iou", run.iou[static_cast<std::size_t>(c)]}});
    }
    runs.push_back({{"seed", run.seed},
                    {"memory_images", run.memoryImages},
                    {"memory_patches", run.memoryPatches},
                    {"miou", run.miou},
                    {"miou_present_classes", run.miouPresent},
                    {"pixel_accuracy", run.pixelAccuracy},
                    {"per_class", perClass},
                    {"seconds", {{"memory", run.memorySeconds}, {"search", run.searchSeconds}}},
                    {"query_patches_per_second", run.queryPatchesPerSecond}});
  }
  nlohmann::json images = nlohmann::json::array();
  for (std::size_t i = 0; i < r.imageMiou.size() && i < r.imageIds.size(); ++i) {
    images.push_back({{"id", r.imageIds[i]}, {"miou_present", r.imageMiou[i]}});
  }
  const RetrievalOptions& o = r.options;
  nlohmann::json j = {{"protocol", "nn-retrieval"},
                      {"model", r.model},
                      {"memory_data", r.memoryData},
                      {"query_data", r.queryData},
                      {"classes", r.classes},
                      {"ignore_index", r.ignoreIndex},
                      {"config",
                       {{"input_size", r.inputSize},
                        {"k", o.k},
                        {"temperature", o.temperature},
                        {"augmentation_epochs", o.augmentationEpochs},
                        {"memory_size", o.memorySize},
                        {"fraction", o.fraction},
                        {"seeds", o.seeds},
                        {"search", "exact inner product, chunked"},
                        {"matching", "hungarian"}}},
                      {"miou", r.miou},
                      {"miou_std", r.miouStd},
                      {"runs", runs},
                      {"confusion_seed0", r.confusion},
                      {"images_seed0", images}};
  return j.dump(2) + "\n";
}

std::string retrievalCsv(const RetrievalResult& r) {
  std::ostringstream s;
  s << "seed,class,name,iou\n";
  for (const RetrievalRun& run : r.runs) {
    for (int c = 0; c < r.classes; ++c) s << run.seed << "," << c << "," << eval::className(r.classNames, c) << "," << run.iou[static_cast<std::size_t>(c)] << "\n";
    s << run.seed << ",miou,," << run.miou << "\n";
  }
  return s.str();
}

std::string retrievalMarkdown(const RetrievalResult& r) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(2);
  s << "Dense NN retrieval of " << r.model << ": memory " << r.memoryData << ", queries " << r.queryData << " (input "
    << r.inputSize << ", k " << r.options.k << ", fraction " << r.options.fraction << ")\n\n";
  s << "| seed | memory patches | mIoU (reference, all " << r.classes << " classes) | mIoU (present classes) | pixel accuracy | query patches/s |\n";
  s << "|---|---|---|---|---|---|\n";
  for (const RetrievalRun& run : r.runs) {
    s << "| " << run.seed << " | " << run.memoryPatches << " | " << 100 * run.miou << " | " << 100 * run.miouPresent << " | "
      << 100 * run.pixelAccuracy << " | " << static_cast<long long>(run.queryPatchesPerSecond) << " |\n";
  }
  s << "\nmean mIoU " << 100 * r.miou << " ± " << 100 * r.miouStd << "\n";
  return s.str();
}

}  // namespace neco

// The linear segmentation probe (METHOD.md §4.1) behind neco/core/Evaluation.h.
//
// Frozen backbone, patch tokens after the final norm at inputSize² (the image resized as PIL does,
// bilinear with antialiasing, then ImageNet-normalised). A 1x1 convolution D -> C with bias is
// trained by SGD (momentum, weight decay, StepLR x0.1) on cross-entropy against the ground truth at
// maskSize², pixels equal to the ignore index left out.
//
// The reference upsamples the token map bilinearly to 100² and then applies the 1x1 conv; here the
// conv runs on the token grid and its logits are upsampled. Both maps are linear and bilinear weights
// sum to one (so the bias passes through unchanged): the logits are the same up to rounding, at
// (100 / grid)² less work.
//
// Training views: the reference's joint RandomResizedCrop(inputSize, scale (0.8, 1), ratio (3/4, 4/3))
// of image (then resized like any input) and mask (PIL nearest to inputSize², torch nearest to
// maskSize²), and a joint horizontal flip with p = 0.5. Each view's randomness comes from
// (seed, view, image index), so a run is reproducible. The backbone is frozen, so a view's tokens
// never change: with augmentation off there is one view and it is computed once; with augmentation
// on, the reference draws a fresh view every epoch (the backbone runs epochs x images times) and
// cachedViews = V draws V views once and cycles them (V x images backbone passes; an approximation of
// the reference's augmentation that docs/EVALUATION.md discusses).
//
// Validation: each image resized to inputSize² and its tokens computed once; argmax of the logits at
// maskSize² against the ground truth at maskSize² (the reference's validation), and of the logits
// bilinearly upsampled to the mask's own size against the mask itself ("full size"); no matching.
#include "eval/LabelMaps.h"
#include "eval/SegmentationMetrics.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"
#include "train/CropGeometry.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <sstream>

namespace neco {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// One training or validation view: the token map (D, h, w) and the targets (maskSize², long).
struct View {
  at::Tensor tokens;
  at::Tensor target;
};

RgbImage cropRgb(const RgbImage& image, const train::PixelBox& b, bool flip) {
  RgbImage r;
  r.width = static_cast<int>(b.width);
  r.height = static_cast<int>(b.height);
  r.pixels.resize(static_cast<std::size_t>(r.width) * r.height * 3);
  for (int y = 0; y < r.height; ++y) {
    for (int x = 0; x < r.width; ++x) {
      const std::int64_t sx = b.left + (flip ? r.width - 1 - x : x), sy = b.top + y;
      const std::size_t src = (static_cast<std::size_t>(sy) * image.width + static_cast<std::size_t>(sx)) * 3;
      const std::size_t dst = (static_cast<std::size_t>(y) * r.width + static_cast<std::size_t>(x)) * 3;
      for (int c = 0; c < 3; ++c) r.pixels[dst + c] = image.pixels[src + c];
    }
  }
  return r;
}

LabelImage cropLabels(const LabelImage& mask, const train::PixelBox& b, bool flip) {
  LabelImage r;
  r.width = static_cast<int>(b.width);
  r.height = static_cast<int>(b.height);
  r.labels.resize(static_cast<std::size_t>(r.width) * r.height);
  for (int y = 0; y < r.height; ++y) {
    for (int x = 0; x < r.width; ++x) {
      r.at(x, y) = mask.at(static_cast<int>(b.left + (flip ? r.width - 1 - x : x)), static_cast<int>(b.top + y));
    }
  }
  return r;
}

/// Every label is a class or the ignore index, else FormatError naming the image.
void checkLabels(const LabelImage& m, int classes, int ignore, const std::string& id) {
  for (std::uint8_t v : m.labels) {
    if (v != ignore && v >= classes) {
      throw FormatError(id, "its mask has label " + std::to_string(v) + ", outside the " + std::to_string(classes) +
                                " classes and not the ignore index " + std::to_string(ignore));
    }
  }
}

/// The (already checked) labels as a long tensor, the cross-entropy's target.
at::Tensor targetTensor(const LabelImage& m) {
  return at::from_blob(const_cast<std::uint8_t*>(m.labels.data()), {m.height, m.width}, at::kByte).to(at::kLong);
}

at::Tensor tokenMap(const PatchFeatures& f) {  // (D, h, w)
  return at::from_blob(const_cast<float*>(f.tokens.data()), {f.gridH * f.gridW, f.dim}, at::kFloat)
      .t()
      .reshape({f.dim, f.gridH, f.gridW})
      .clone();
}

void checkImage(const EvaluationData& data, std::size_t i, const RgbImage& image, const LabelImage& mask) {
  if (mask.width != image.width || mask.height != image.height) {
    throw FormatError(data.id(i), "its mask is " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                                      " but the image " + std::to_string(image.width) + "x" + std::to_string(image.height));
  }
}

class Probe {
 public:
  Probe(const FeatureExtractor& model, const EvaluationData& train, const LinearProbeOptions& o, int inputSize, int classes,
        int ignore)
      : model_(model), train_(train), o_(o), inputSize_(inputSize), classes_(classes), ignore_(ignore) {}

  /// Training view `view` of image i (view 0 without augmentation is the plain resize).
  View trainingView(std::size_t i, int view) const {
    const RgbImage image = train_.image(i);
    const LabelImage mask = train_.mask(i);
    checkImage(train_, i, image, mask);
    checkLabels(mask, classes_, ignore_, train_.id(i));  // every label, not only those the resize keeps
    train::PixelBox box{0, 0, image.width, image.height};
    bool flip = false;
    if (o_.augment) {
      train::CropRng rng = train::CropRng::forSample(o_.seed, static_cast<std::uint64_t>(view), static_cast<std::uint64_t>(i));
      box = train::sampleResizedCrop(image.width, image.height, 0.8, 1.0, rng);
      flip = rng.bernoulli(0.5);
    }
    const bool whole = box.left == 0 && box.top == 0 && box.width == image.width && box.height == image.height;
    const RgbImage input = whole && !flip ? image : cropRgb(image, box, flip);
    const LabelImage labels = whole && !flip ? mask : cropLabels(mask, box, flip);
    View v;
    v.tokens = tokenMap(model_.extract(input, o_.inputSize, /*normalise=*/false));
    v.target = targetTensor(eval::referenceMaskResize(labels, inputSize_, o_.maskSize));
    return v;
  }

 private:
  const FeatureExtractor& model_;
  const EvaluationData& train_;
  const LinearProbeOptions& o_;
  int inputSize_;  ///< the input side the model really sees (whole patches)
  int classes_, ignore_;
};

struct ValidationImage {
  at::Tensor tokens;     ///< (D, h, w)
  LabelImage target;     ///< maskSize²
  LabelImage full;       ///< the mask at its own size
};

struct Scored {
  eval::ConfusionMatrix at100, full;
  std::vector<LabelImage> predictions;
};

/// Argmax predictions of the head (weight (C, D, 1, 1), bias (C)) on every validation image.
Scored score(const std::vector<ValidationImage>& val, const at::Tensor& weight, const at::Tensor& bias, int classes, int ignore,
             int maskSize, bool keepPredictions, bool full) {
  at::NoGradGuard noGrad;
  Scored s{eval::ConfusionMatrix(classes, classes, ignore), eval::ConfusionMatrix(classes, classes, ignore), {}};
  for (const ValidationImage& v : val) {
    const at::Tensor logits = at::conv2d(v.tokens.unsqueeze(0), weight, bias);
    const at::Tensor small = at::upsample_bilinear2d(logits, {maskSize, maskSize}, /*align_corners=*/false)[0].argmax(0).to(at::kInt).contiguous();
    s.at100.add(v.target.labels.data(), small.data_ptr<std::int32_t>(), static_cast<std::size_t>(small.numel()));
    if (full) {
      const at::Tensor big =
          at::upsample_bilinear2d(logits, {v.full.height, v.full.width}, /*align_corners=*/false)[0].argmax(0).to(at::kInt).contiguous();
      s.full.add(v.full.labels.data(), big.data_ptr<std::int32_t>(), static_cast<std::size_t>(big.numel()));
    }
    if (keepPredictions) {
      LabelImage p;
      p.width = p.height = maskSize;
      p.labels.assign(small.data_ptr<std::int32_t>(), small.data_ptr<std::int32_t>() + small.numel());
      s.predictions.push_back(std::move(p));
    }
  }
  return s;
}

void checkOptions(const LinearProbeOptions& o, int patchSize) {
  if (o.inputSize < patchSize) {
    throw InvalidArgumentError("linear probe: input size " + std::to_string(o.inputSize) + " is below one " +
                               std::to_string(patchSize) + "-pixel patch");
  }
  if (o.maskSize < 1 || o.epochs < 1 || o.batchSize < 1 || o.cachedViews < 0 || o.validateEvery < 0 || o.decayEpoch < 0) {
    throw InvalidArgumentError("linear probe: need mask size, epochs and batch size >= 1, cached views, validation interval "
                               "and decay epoch >= 0");
  }
  if (!(o.learningRate > 0) || !(o.momentum >= 0) || !(o.weightDecay >= 0)) {
    throw InvalidArgumentError("linear probe: need a positive learning rate and non-negative momentum and weight decay");
  }
}

}  // namespace

LinearProbeResult evaluateLinearProbe(const FeatureExtractor& model, const EvaluationData& train, const EvaluationData& val,
                                      const LinearProbeOptions& o,
                                      const std::function<void(std::size_t, std::size_t, const std::string&)>& progress) {
  const ModelDescription md = model.describe();
  checkOptions(o, md.patchSize);
  if (train.classCount() != val.classCount()) {
    throw InvalidArgumentError("linear probe: the training data has " + std::to_string(train.classCount()) +
                               " classes, the validation data " + std::to_string(val.classCount()));
  }
  if (train.size() == 0 || val.size() == 0) throw InvalidArgumentError("linear probe: no training or no validation image");
  const int C = val.classCount(), ignore = val.ignoreIndex();
  if (train.ignoreIndex() != ignore) throw InvalidArgumentError("linear probe: the training and validation data ignore different labels");
  LinearProbeResult result;
  result.model = md.name + " (" + md.weights + ")";
  result.trainData = train.describe();
  result.valData = val.describe();
  result.classNames = val.classNames();
  result.classes = C;
  result.ignoreIndex = ignore;
  result.inputSize = o.inputSize / md.patchSize * md.patchSize;
  result.options = o;

  // validation tokens once (no augmentation there)
  auto t0 = Clock::now();
  std::vector<ValidationImage> validation;
  for (std::size_t i = 0; i < val.size(); ++i) {
    if (progress) progress(i, val.size(), "validation features");
    const RgbImage image = val.image(i);
    LabelImage mask = val.mask(i);
    checkImage(val, i, image, mask);
    checkLabels(mask, C, ignore, val.id(i));
    ValidationImage v;
    v.tokens = tokenMap(model.extract(image, o.inputSize, /*normalise=*/false));
    v.target = eval::referenceMaskResize(mask, result.inputSize, o.maskSize);
    v.full = std::move(mask);
    validation.push_back(std::move(v));
    result.imageIds.push_back(val.id(i));
  }
  const std::int64_t D = validation.front().tokens.size(0);

  // training views: cached when the backbone would only repeat itself
  const Probe probe(model, train, o, result.inputSize, C, ignore);
  const int cached = !o.augment ? 1 : std::min(o.cachedViews, o.epochs);  // views beyond the epochs would never be used
  const std::size_t N = train.size();
  std::vector<std::vector<View>> cache(static_cast<std::size_t>(cached));
  for (int v = 0; v < cached; ++v) {
    for (std::size_t i = 0; i < N; ++i) {
      if (progress) progress(static_cast<std::size_t>(v) * N + i, static_cast<std::size_t>(cached) * N, "training features");
      cache[static_cast<std::size_t>(v)].push_back(probe.trainingView(i, v));
      ++result.backbonePasses;
    }
  }
  result.featureSeconds = secondsSince(t0);

  // the head, initialised as torch's Conv2d: U(-1/sqrt(D), 1/sqrt(D)) for weight and bias
  t0 = Clock::now();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(D));
  at::Tensor weight = at::empty({C, D, 1, 1}, at::kFloat).uniform_(-bound, bound, gen).set_requires_grad(true);
  at::Tensor bias = at::empty({C}, at::kFloat).uniform_(-bound, bound, gen).set_requires_grad(true);
  const at::AutoGradMode gradients(true);  // whatever the caller's mode, the head is trained
  torch::optim::SGD sgd({weight, bias}, torch::optim::SGDOptions(o.learningRate).momentum(o.momentum).weight_decay(o.weightDecay));
  double evalSeconds = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    // torch's StepLR(step_size = decayEpoch, gamma = 0.1): x0.1 every decayEpoch epochs (0: never)
    const double lr = o.decayEpoch > 0 ? o.learningRate * std::pow(0.1, epoch / o.decayEpoch) : o.learningRate;
    static_cast<torch::optim::SGDOptions&>(sgd.param_groups()[0].options()).lr(lr);
    const at::Tensor order = at::randperm(static_cast<std::int64_t>(N), gen, at::kLong);
    const std::int64_t* idx = order.data_ptr<std::int64_t>();
    double lossSum = 0;
    std::int64_t lossBatches = 0;
    const std::size_t batches = (N + static_cast<std::size_t>(o.batchSize) - 1) / static_cast<std::size_t>(o.batchSize);
    for (std::size_t b = 0; b < batches; ++b) {
      if (progress) progress(b, batches, "epoch " + std::to_string(epoch + 1) + " / " + std::to_string(o.epochs));
      std::vector<at::Tensor> xs, ys;
      for (std::size_t j = b * static_cast<std::size_t>(o.batchSize); j < std::min(N, (b + 1) * static_cast<std::size_t>(o.batchSize)); ++j) {
        const auto i = static_cast<std::size_t>(idx[j]);
        if (cached > 0) {
          const View& v = cache[static_cast<std::size_t>(epoch % cached)][i];
          xs.push_back(v.tokens);
          ys.push_back(v.target);
        } else {
          View v = probe.trainingView(i, epoch);
          ++result.backbonePasses;
          xs.push_back(std::move(v.tokens));
          ys.push_back(std::move(v.target));
        }
      }
      const at::Tensor x = at::stack(xs), y = at::stack(ys);
      if ((y != ignore).sum().item<std::int64_t>() == 0) continue;  // nothing to learn from (the mean would be NaN)
      const at::Tensor logits = at::upsample_bilinear2d(at::conv2d(x, weight, bias), {o.maskSize, o.maskSize}, /*align_corners=*/false);
      const at::Tensor loss = torch::nn::functional::cross_entropy(
          logits, y, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(ignore));
      sgd.zero_grad();
      loss.backward();
      sgd.step();
      lossSum += loss.item<double>();
      ++lossBatches;
    }
    result.epochLoss.push_back(lossBatches > 0 ? lossSum / static_cast<double>(lossBatches) : std::nan(""));
    if (o.validateEvery > 0 && (epoch + 1) % o.validateEvery == 0 && epoch + 1 < o.epochs) {
      const auto tv = Clock::now();
      if (progress) progress(0, 1, "validation, epoch " + std::to_string(epoch + 1));
      const Scored s = score(validation, weight, bias, C, ignore, o.maskSize, false, false);
      result.validationCurve.emplace_back(epoch + 1, eval::scoreSegmentation(s.at100).miouReference);
      evalSeconds += secondsSince(tv);
    }
  }
  result.trainSeconds = secondsSince(t0) - evalSeconds;

  // the final head on the validation images
  t0 = Clock::now();
  if (progress) progress(0, 1, "validation");
  Scored s = score(validation, weight, bias, C, ignore, o.maskSize, true, true);
  const eval::SegmentationScores small = eval::scoreSegmentation(s.at100), full = eval::scoreSegmentation(s.full);
  result.miou = small.miouReference;
  result.miouPresent = small.miouPresent;
  result.pixelAccuracy = small.pixelAccuracy;
  result.iou = small.iou;
  result.miouFull = full.miouReference;
  result.miouFullPresent = full.miouPresent;
  result.pixelAccuracyFull = full.pixelAccuracy;
  result.iouFull = full.iou;
  result.confusion = s.at100.counts();
  if (o.validateEvery > 0) result.validationCurve.emplace_back(o.epochs, small.miouReference);
  for (std::size_t i = 0; i < validation.size(); ++i) {
    eval::ConfusionMatrix one(C, C, ignore);
    std::vector<std::int32_t> labels(s.predictions[i].labels.begin(), s.predictions[i].labels.end());
    one.add(validation[i].target.labels.data(), labels.data(), labels.size());
    result.imageMiou.push_back(eval::scoreSegmentation(one).miouPresent);
    result.targets.push_back(std::move(validation[i].target));
  }
  result.predictions = std::move(s.predictions);
  result.evalSeconds = evalSeconds + secondsSince(t0);
  if (progress) progress(1, 1, "done");
  return result;
}

std::string linearProbeJson(const LinearProbeResult& r) {
  nlohmann::json perClass = nlohmann::json::array();
  for (int c = 0; c < r.classes; ++c) {
    perClass.push_back({{"class", c},
                        {"name", eval::className(r.classNames, c)},
                        {"iou", r.iou[static_cast<std::size_t>(c)]},
                        {"iou_full_size", r.iouFull[static_cast<std::size_t>(c)]}});
  }
  nlohmann::json images = nlohmann::json::array();
  for (std::size_t i = 0; i < r.imageMiou.size() && i < r.imageIds.size(); ++i) {
    images.push_back({{"id", r.imageIds[i]}, {"miou_present", r.imageMiou[i]}});
  }
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& [epoch, miou] : r.validationCurve) curve.push_back({{"epoch", epoch}, {"miou", miou}});
  const LinearProbeOptions& o = r.options;
  const int cached = !o.augment ? 1 : std::min(o.cachedViews, o.epochs);
  const nlohmann::json j = {
      {"protocol", "linear"},
      {"model", r.model},
      {"train_data", r.trainData},
      {"data", r.valData},
      {"classes", r.classes},
      {"ignore_index", r.ignoreIndex},
      {"images", r.imageIds.size()},
      {"config",
       {{"input_size", r.inputSize},
        {"mask_size", o.maskSize},
        {"epochs", o.epochs},
        {"decay_epoch", o.decayEpoch},
        {"learning_rate", o.learningRate},
        {"momentum", o.momentum},
        {"weight_decay", o.weightDecay},
        {"batch_size", o.batchSize},
        {"augment", o.augment},
        {"cached_views", cached},
        {"feature_caching", cached > 0 ? (o.augment ? "views drawn once and cycled over the epochs" : "exact (no augmentation)")
                                       : "none: a fresh augmented view every epoch (as the reference)"},
        {"seed", o.seed}}},
      {"miou", r.miou},
      {"miou_present_classes", r.miouPresent},
      {"pixel_accuracy", r.pixelAccuracy},
      {"miou_full_size", r.miouFull},
      {"miou_full_size_present_classes", r.miouFullPresent},
      {"pixel_accuracy_full_size", r.pixelAccuracyFull},
      {"per_class", perClass},
      {"confusion", r.confusion},
      {"images_miou", images},
      {"epoch_loss", r.epochLoss},
      {"validation_curve", curve},
      {"backbone_passes", r.backbonePasses},
      {"seconds", {{"features", r.featureSeconds}, {"training", r.trainSeconds}, {"evaluation", r.evalSeconds}}}};
  return j.dump(2) + "\n";
}

std::string linearProbeCsv(const LinearProbeResult& r) {
  std::ostringstream s;
  s << "class,name,iou_" << r.options.maskSize << ",iou_full_size\n";
  for (int c = 0; c < r.classes; ++c) {
    s << c << "," << eval::className(r.classNames, c) << "," << r.iou[static_cast<std::size_t>(c)] << ","
      << r.iouFull[static_cast<std::size_t>(c)] << "\n";
  }
  s << "miou,," << r.miou << "," << r.miouFull << "\n";
  s << "miou_present_classes,," << r.miouPresent << "," << r.miouFullPresent << "\n";
  return s.str();
}

std::string linearProbeMarkdown(const LinearProbeResult& r) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(2);
  s << "Linear probe of " << r.model << ": trained on " << r.trainData << " (" << r.options.epochs << " epochs), scored on "
    << r.valData << " (input " << r.inputSize << ")\n\n";
  s << "| evaluated at | mIoU (reference, all " << r.classes << " classes) | mIoU (present classes) | pixel accuracy |\n";
  s << "|---|---|---|---|\n";
  s << "| " << r.options.maskSize << "x" << r.options.maskSize << " | " << 100 * r.miou << " | " << 100 * r.miouPresent << " | "
    << 100 * r.pixelAccuracy << " |\n";
  s << "| full mask size | " << 100 * r.miouFull << " | " << 100 * r.miouFullPresent << " | " << 100 * r.pixelAccuracyFull << " |\n";
  return s.str();
}

}  // namespace neco

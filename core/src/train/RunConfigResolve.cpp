// RunConfig -> TrainerConfig: every value checked (messages name the key and quote the value as the
// YAML shows it), the reference's architecture / weights names mapped to ours.
#include "neco/core/Error.h"
#include "neco/core/Weights.h"
#include "sort/Relaxation.h"
#include "sort/SortingNetwork.h"
#include "train/RunConfig.h"
#include "train/RunConfigKeys.h"
#include "train/TrainerConfig.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <algorithm>
#include <cmath>

namespace neco::train {

namespace {

/// Throws InvalidArgumentError("<file>: train.batch_size = 0: must be >= 1").
[[noreturn]] void bad(const RunConfig& c, const std::string& key, const std::string& why) {
  const std::string where = c.source.empty() ? std::string() : c.source.string() + ": ";
  throw InvalidArgumentError(where + key + " = " + detail::runConfigValueText(c, key) + ": " + why);
}

[[noreturn]] void unsupported(const RunConfig& c, const std::string& key, const std::string& why) {
  const std::string where = c.source.empty() ? std::string() : c.source.string() + ": ";
  throw UnsupportedError(where + key + " = " + detail::runConfigValueText(c, key) + ": " + why);
}

void positive(const RunConfig& c, const std::string& key, double value) {
  if (!(value > 0) || !std::isfinite(value)) bad(c, key, "must be a positive number");
}

void nonNegative(const RunConfig& c, const std::string& key, double value) {
  if (!(value >= 0) || !std::isfinite(value)) bad(c, key, "must be >= 0");
}

void fraction(const RunConfig& c, const std::string& key, double value, bool zeroAllowed) {
  if (!(value <= 1) || !(zeroAllowed ? value >= 0 : value > 0)) {
    bad(c, key, zeroAllowed ? "must be in [0, 1]" : "must be in (0, 1]");
  }
}

char widthLetter(const RunConfig& c) {
  const std::string& a = c.train.arch;
  if (a == "vit-small") return 's';
  if (a == "vit-base") return 'b';
  if (a == "vit-large") return 'l';
  bad(c, "train.arch", "expected vit-small, vit-base or vit-large");
}

nn::ViTConfig backboneFor(const RunConfig& c) {
  if (!c.neco.model.empty()) {
    try {
      return nn::ViTConfig::named(c.neco.model);
    } catch (const InvalidArgumentError& e) {
      bad(c, "neco.model", e.what());
    }
  }
  const char w = widthLetter(c);
  const RunConfig::Train& t = c.train;
  if (t.num_register_tokens < 0 || t.num_register_tokens > 64)
    bad(c, "train.num_register_tokens", "must be in [0, 64]");
  nn::ViTConfig v;
  if (t.arch_version == "v2") {
    if (t.patch_size != 14) bad(c, "train.patch_size", "the DINOv2 (v2) architectures have patch 14");
    v = nn::ViTConfig::named(std::string("dinov2_vit") + w + "14");
    v.numRegisters = t.num_register_tokens;
    if (v.numRegisters > 0) v.name += v.numRegisters == 4 ? "_reg" : "_reg" + std::to_string(v.numRegisters);
    // NeCo's own ViT (src/models/vit_v2.py) interpolates the position embedding the offset way,
    // registers or not (METHOD.md §2.3).
    v.interpolation = nn::PosEmbedInterpolation::OffsetScaleFactor;
  } else if (t.arch_version == "v1") {
    if (w == 'l') bad(c, "train.arch", "DINO (v1) has no ViT-L: use vit-small or vit-base");
    if (t.patch_size != 16 && t.patch_size != 8)
      bad(c, "train.patch_size", "the DINO (v1) architectures have patch 16 or 8");
    if (t.num_register_tokens != 0) bad(c, "train.num_register_tokens", "DINO (v1) has no register tokens");
    v = nn::ViTConfig::named(std::string("dino_vit") + w + std::to_string(t.patch_size));
  } else {
    bad(c, "train.arch_version", "expected v2 (DINOv2) or v1 (DINO)");
  }
  return v;
}

DataSourceConfig dataSourceFor(const RunConfig& c) {
  const std::string& name = c.data.dataset_name;
  if (name.find(',') != std::string::npos) {
    unsupported(c, "data.dataset_name", "combined datasets are not supported yet: train on one of them");
  }
  if (name == "imagenet")
    unsupported(c, "data.dataset_name", "the full ImageNet layout is not supported yet (imagenet100k is)");
  static const char* known[] = {"demo", "folder", "coco", "imagenet100k", "voc", "ade20k", "cityscapes"};
  if (std::find(std::begin(known), std::end(known), name) == std::end(known)) {
    bad(c, "data.dataset_name", "expected coco, imagenet100k, voc, ade20k, cityscapes, folder or demo");
  }
  DataSourceConfig d;
  d.dataset = name;
  if (name == "voc") {
    if (c.data.voc_data_path.empty()) bad(c, "data.voc_data_path", "required to train on voc (its trainaug split)");
    d.root = c.data.voc_data_path;
  } else if (name != "demo") {
    if (c.data.data_dir.size() != 1 || c.data.data_dir[0].empty()) {
      bad(c, "data.data_dir", "one dataset folder is required for '" + name + "'");
    }
    d.root = c.data.data_dir[0];
  }
  d.split = !c.neco.dataset_split.empty() ? c.neco.dataset_split : name == "voc" ? "trainaug" : "train";
  fraction(c, "neco.max_bad_fraction", c.neco.max_bad_fraction, true);
  d.maxBadFraction = c.neco.max_bad_fraction;
  d.scanDecode = c.neco.scan_decode;
  if (c.num_workers < 0) bad(c, "num_workers", "must be >= 0");
  d.loaderThreads = std::max(1, c.num_workers);
  if (c.neco.prefetch_batches < 1) bad(c, "neco.prefetch_batches", "must be >= 1");
  d.prefetchBatches = c.neco.prefetch_batches;
  return d;
}

MultiCropConfig cropsFor(const RunConfig& c, int patch) {
  const RunConfig::Data& d = c.data;
  if (d.nmb_samples.size() != 2) bad(c, "data.nmb_samples", "expected [global, local] crop counts");
  if (d.nmb_samples[0] < 1 || d.nmb_samples[1] < 0 || d.nmb_samples[0] + d.nmb_samples[1] < 2 ||
      d.nmb_samples[0] + d.nmb_samples[1] > 64) {
    bad(c, "data.nmb_samples", "needs >= 1 global crop, >= 0 local crops, 2 to 64 crops in all");
  }
  if (d.size_crops.size() != 2) bad(c, "data.size_crops", "expected [global, local] sizes in pixels");
  for (int s : d.size_crops) {
    if (s < patch || s > 4096) {
      bad(c, "data.size_crops", "each size must be in [patch size " + std::to_string(patch) + ", 4096] pixels");
    }
  }
  const std::pair<const char*, const std::vector<double>*> scales[] = {{"data.min_scale_crops", &d.min_scale_crops},
                                                                       {"data.max_scale_crops", &d.max_scale_crops}};
  for (const auto& [key, v] : scales) {
    if (v->size() != 2) bad(c, key, "expected [global, local] fractions of the image area");
    for (double x : *v) fraction(c, key, x, false);
  }
  for (int i = 0; i < 2; ++i) {
    if (d.min_scale_crops[i] > d.max_scale_crops[i]) bad(c, "data.min_scale_crops", "above data.max_scale_crops");
  }
  if (!(d.min_intersection_crops >= 0 && d.min_intersection_crops < 0.5)) {
    bad(c, "data.min_intersection_crops", "must be in [0, 0.5) (the second global crop needs twice as much)");
  }
  if (c.neco.max_overlap_retries < 1) bad(c, "neco.max_overlap_retries", "must be >= 1");
  MultiCropConfig m;
  m.globalCrops = d.nmb_samples[0];
  m.localCrops = d.nmb_samples[1];
  m.globalSize = d.size_crops[0];
  m.localSize = d.size_crops[1];
  m.globalScaleLo = d.min_scale_crops[0];
  m.globalScaleHi = d.max_scale_crops[0];
  m.localScaleLo = d.min_scale_crops[1];
  m.localScaleHi = d.max_scale_crops[1];
  m.minIntersection = d.min_intersection_crops;
  m.maxOverlapRetries = c.neco.max_overlap_retries;
  return m;
}

std::optional<std::vector<int>> trainableBlocksFor(const RunConfig& c, int depth) {
  const auto& tb = c.train.trainable_blocks;
  if (!tb) return std::nullopt;
  std::vector<int> blocks;
  if (std::holds_alternative<int>(*tb)) {
    // Python's sorted_block_ids[n:]: n < 0 keeps the last -n blocks, n >= 0 the blocks from n on.
    const int n = std::get<int>(*tb);
    const int from = n < 0 ? std::max(0, depth + n) : std::min(n, depth);
    for (int b = from; b < depth; ++b) blocks.push_back(b);
  } else {
    blocks = std::get<std::vector<int>>(*tb);
    for (int b : blocks) {
      if (b < 0 || b >= depth)
        bad(c, "train.trainable_blocks", "blocks are numbered 0 to " + std::to_string(depth - 1));
    }
  }
  if (blocks.empty()) bad(c, "train.trainable_blocks", "selects no block of the " + std::to_string(depth));
  return blocks;
}

StepConfig stepFor(const RunConfig& c, const nn::ViTConfig& backbone, int globalCrops) {
  const RunConfig::Train& t = c.train;
  StepConfig s;
  if (t.roi_align_kernel_size < 2 || t.roi_align_kernel_size > 64) {
    bad(c, "train.roi_align_kernel_size", "must be in [2, 64] (the sort ranks K^2 references)");
  }
  s.loss.roiSize = t.roi_align_kernel_size;
  s.loss.patchSize = backbone.patchSize;
  if (t.sort_net == "bitonic" || t.sort_net == "odd_even") {
    s.loss.network = sort::parseNetwork(t.sort_net);
  } else {
    bad(c, "train.sort_net", "expected bitonic or odd_even");
  }
  sort::Relaxation relaxation = sort::Relaxation::Cauchy;
  try {
    relaxation = sort::parseRelaxation(c.neco.relaxation);
  } catch (const InvalidArgumentError& e) {
    bad(c, "neco.relaxation", e.what());
  }
  positive(c, "train.student_steepness", t.student_steepness);
  if (t.teacher_steepness) positive(c, "train.teacher_steepness", *t.teacher_steepness);
  s.loss.student = {relaxation, t.student_steepness, 0.25};
  s.loss.teacher = {relaxation, t.teacher_steepness.value_or(t.student_steepness), 0.25};
  if (t.sim_dist == "cosine") {
    s.loss.similarity = SimilarityKind::Cosine;
  } else if (t.sim_dist == "euclidean") {
    s.loss.similarity = SimilarityKind::Euclidean;
  } else {
    bad(c, "train.sim_dist", "expected cosine or euclidean");
  }
  if (t.loss_mask == "all") {
    s.loss.mask = LossMask::All;
  } else if (t.loss_mask == "fg") {
    s.loss.mask = LossMask::Foreground;
  } else if (t.loss_mask == "bg") {
    s.loss.mask = LossMask::Background;
  } else {
    bad(c, "train.loss_mask", "expected all, fg or bg");
  }
  if (!(c.neco.log_floor > 0 && c.neco.log_floor < 1)) bad(c, "neco.log_floor", "must be in (0, 1)");
  s.loss.logFloor = c.neco.log_floor;

  if (t.optimizer != "adamw") bad(c, "train.optimizer", "only adamw is supported (as in the reference)");
  if (!t.exclude_norm_bias) {
    unsupported(c, "train.exclude_norm_bias", "the optimizer always keeps biases and norms out of weight decay");
  }
  nonNegative(c, "train.lr_backbone", t.lr_backbone);
  nonNegative(c, "train.lr_heads", t.lr_heads);
  nonNegative(c, "train.final_lr", t.final_lr);
  nonNegative(c, "train.weight_decay", t.weight_decay);
  nonNegative(c, "train.weight_decay_end", t.weight_decay_end);
  fraction(c, "train.momentum_teacher", t.momentum_teacher, true);
  if (t.momentum_teacher_end != 1.0)
    unsupported(c, "train.momentum_teacher_end", "the EMA momentum schedule ends at 1");
  s.schedule.lrBackbone = t.lr_backbone;
  s.schedule.lrHead = t.lr_heads;
  s.schedule.finalLr = t.final_lr;
  s.schedule.weightDecayStart = t.weight_decay;
  s.schedule.weightDecayEnd = t.weight_decay_end;
  s.schedule.momentumStart = t.momentum_teacher;

  if (t.n_layers_projection_head != 3) {
    unsupported(c, "train.n_layers_projection_head", "the projection head has 3 layers, as in every reference config");
  }
  if (t.projection_hidden_dim < 1 || t.projection_hidden_dim > 65536)
    bad(c, "train.projection_hidden_dim", "must be in [1, 65536]");
  if (t.projection_feat_dim < 1 || t.projection_feat_dim > 65536)
    bad(c, "train.projection_feat_dim", "must be in [1, 65536]");
  s.head = HeadConfig{t.projection_hidden_dim, t.projection_feat_dim};

  s.useTeacher = t.use_teacher;
  s.useQueue = t.is_queue_usable;
  if (t.queue_length < 0 || (t.is_queue_usable && t.queue_length < 1)) {
    bad(c, "train.queue_length", t.is_queue_usable ? "must be >= 1 with is_queue_usable" : "must be >= 0");
  }
  s.queueLength = t.queue_length;
  s.exactQueueFill = c.neco.exact_queue_fill;
  if (t.grad_norm_clipping) positive(c, "train.grad_norm_clipping", *t.grad_norm_clipping);
  s.gradClipNorm = t.grad_norm_clipping;
  s.trainableBlocks = trainableBlocksFor(c, backbone.depth);
  if (c.neco.max_consecutive_non_finite < 1) bad(c, "neco.max_consecutive_non_finite", "must be >= 1");
  s.maxConsecutiveNonFinite = c.neco.max_consecutive_non_finite;
  s.globalCrops = globalCrops;
  s.seed = c.neco.seed;
  const bool haveGpu = at::hasCUDA() && at::detail::getCUDAHooks().getNumGPUs() > 0;
  if (c.neco.device == "auto") {
    s.device = haveGpu ? "cuda" : "cpu";
  } else if (c.neco.device == "cpu" || c.neco.device == "cuda" || c.neco.device.rfind("cuda:", 0) == 0) {
    if (c.neco.device != "cpu" && !haveGpu) {
      bad(c, "neco.device", "is '" + c.neco.device + "' but " +
                                (at::hasCUDA() ? std::string("no CUDA device is visible") : "LibTorch in this build has no CUDA"));
    }
    s.device = c.neco.device;
  } else {
    bad(c, "neco.device", "must be auto, cpu, cuda or cuda:N, got '" + c.neco.device + "'");
  }
  s.mixedPrecision = c.neco.mixed_precision;
  return s;
}

InTrainingEvaluation evaluationFor(const RunConfig& c, const TrainerConfig& t) {
  const RunConfig::Neco& n = c.neco;
  InTrainingEvaluation e;
  if (n.eval_every < 0) bad(c, "neco.eval_every", "must be >= 0 (0: off)");
  e.every = n.eval_every;
  if (e.every == 0) return e;
  if (n.eval_protocol != "overcluster" && n.eval_protocol != "nn-retrieval") {
    bad(c, "neco.eval_protocol", "expected overcluster or nn-retrieval (the linear probe is too long to run inside training: "
                                 "use neco eval --protocol linear on a checkpoint)");
  }
  if (n.eval_part != "student" && n.eval_part != "teacher") bad(c, "neco.eval_part", "expected student or teacher");
  e.protocol = n.eval_protocol;
  e.part = n.eval_part;
  e.dataset = n.eval_dataset.empty() ? t.data.dataset : n.eval_dataset;
  if (e.dataset != "demo" && e.dataset != "voc" && e.dataset != "ade20k" && e.dataset != "cityscapes") {
    bad(c, n.eval_dataset.empty() ? "neco.eval_every" : "neco.eval_dataset",
        "evaluation needs labelled data: demo, voc, ade20k or cityscapes (the training data, " + t.data.dataset +
            ", has no masks; set neco.eval_dataset and neco.eval_data_dir)");
  }
  e.root = !n.eval_data_dir.empty() ? std::filesystem::path(n.eval_data_dir) : e.dataset == t.data.dataset ? t.data.root
                                                                                                             : std::filesystem::path();
  if (e.dataset != "demo" && e.root.empty()) bad(c, "neco.eval_data_dir", "the " + e.dataset + " folder to evaluate on is required");
  e.split = n.eval_split;
  e.memorySplit = e.dataset == "voc" ? "trainaug" : "train";
  if (n.eval_limit < 0) bad(c, "neco.eval_limit", "must be >= 0 (0: every image)");
  e.limit = static_cast<std::size_t>(n.eval_limit);
  if (n.eval_input_size < 0) bad(c, "neco.eval_input_size", "must be >= 0 (0: the global crop size)");
  e.inputSize = n.eval_input_size > 0 ? n.eval_input_size : t.crops.globalSize;
  if (e.inputSize < t.backbone.patchSize) bad(c, "neco.eval_input_size", "is below one patch");
  if (n.eval_k < 0) bad(c, "neco.eval_k", "must be >= 0 (0: the class count)");
  e.k = n.eval_k;
  if (n.eval_seeds < 1) bad(c, "neco.eval_seeds", "must be >= 1");
  e.seeds = n.eval_seeds;
  return e;
}

}  // namespace

TrainerConfig toTrainerConfig(const RunConfig& c) {
  if (c.gpus > 1) unsupported(c, "gpus", "multi-GPU (DDP) training is not supported; use 1");
  if (c.gpus < 0) bad(c, "gpus", "must be 0 or 1");
  TrainerConfig r;
  r.data = dataSourceFor(c);
  r.backbone = backboneFor(c);
  r.crops = cropsFor(c, r.backbone.patchSize);
  std::vector<int> expected(static_cast<std::size_t>(r.crops.globalCrops));
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int>(i);
  if (c.train.crops_for_assign != expected) {
    bad(c, "train.crops_for_assign",
        "must list every global crop in order, [0, .., " + std::to_string(r.crops.globalCrops - 1) +
            "] (data.nmb_samples[0] = " + std::to_string(r.crops.globalCrops) + ")");
  }
  r.step = stepFor(c, r.backbone, r.crops.globalCrops);
  nonNegative(c, "data.jitter_strength", c.data.jitter_strength);
  nonNegative(c, "data.blur_strength", c.data.blur_strength);
  r.photometric = photometricConfig(c.data.jitter_strength, c.data.blur_strength);
  if (c.train.batch_size < 1) bad(c, "train.batch_size", "must be >= 1");
  if (c.train.max_epochs < 1) bad(c, "train.max_epochs", "must be >= 1");
  r.batchSize = c.train.batch_size;
  r.epochs = c.train.max_epochs;
  if (c.neco.max_steps < 0) bad(c, "neco.max_steps", "must be >= 0 (0: the whole schedule)");
  if (c.neco.checkpoint_every < 0) bad(c, "neco.checkpoint_every", "must be >= 0 (0: once per epoch)");
  if (c.neco.keep_checkpoints < 1) bad(c, "neco.keep_checkpoints", "must be >= 1");
  r.maxSteps = c.neco.max_steps;
  r.checkpointEvery = c.neco.checkpoint_every;
  r.keepCheckpoints = c.neco.keep_checkpoints;
  if (c.neco.monitor_every < 0) bad(c, "neco.monitor_every", "must be >= 0 (0: off)");
  r.monitorEvery = c.neco.monitor_every;
  r.evaluation = evaluationFor(c, r);
  r.seed = c.neco.seed;

  if (!c.neco.pretrained_path.empty()) {
    r.pretrained = std::filesystem::path(c.neco.pretrained_path);
  } else if (c.train.checkpoint) {
    if (!c.train.only_load_weights) {
      unsupported(
          c, "train.only_load_weights",
          "resuming a Lightning checkpoint is not supported: use only_load_weights True, or resume a run folder");
    }
    if (c.train.checkpoint->empty()) bad(c, "train.checkpoint", "an empty path");
    r.pretrained = std::filesystem::path(*c.train.checkpoint);
  }
  return r;
}

std::string officialWeightsName(const RunConfig& c) {
  if (!c.neco.pretrained_path.empty() || c.train.checkpoint || !c.train.pretrained_weights) return {};
  // neco.model names the architecture, and a released one has its own file of the same name.
  if (!c.neco.model.empty()) return findOfficialWeights(c.neco.model) ? c.neco.model : std::string();
  const RunConfig::Train& t = c.train;
  const std::string& method = *t.pretrained_weights;
  std::string letter;
  if (t.arch == "vit-small")
    letter = "s";
  else if (t.arch == "vit-base")
    letter = "b";
  else if (t.arch == "vit-large")
    letter = "l";
  else if (t.arch == "vit-giant")
    letter = "g";
  else
    return {};
  std::string name;
  if ((method == "dinov2" || method == "dinov2-reg") && t.patch_size == 14) {
    name = "dinov2_vit" + letter + "14" + (method == "dinov2-reg" ? "_reg" : "");
  } else if (method == "dino" && (t.patch_size == 16 || t.patch_size == 8)) {
    name = "dino_vit" + letter + std::to_string(t.patch_size);
  }
  return findOfficialWeights(name) ? name : std::string();
}

}  // namespace neco::train

#include "train/NecoStep.h"

#include "neco/core/Error.h"
#include "train/LossMasks.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace neco::train {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

/// Runs `net` on the crops, batching crops of equal size together (the reference batches the global
/// crops and the local crops) -> one (B, C, h, w) map per crop, in crop order.
std::vector<at::Tensor> mapsOf(NecoNetworkImpl& net, const std::vector<at::Tensor>& crops) {
  std::vector<at::Tensor> maps(crops.size());
  std::size_t begin = 0;
  while (begin < crops.size()) {
    std::size_t end = begin + 1;
    while (end < crops.size() && crops[end].sizes().equals(crops[begin].sizes())) ++end;
    std::vector<at::Tensor> group(crops.begin() + static_cast<std::ptrdiff_t>(begin), crops.begin() + static_cast<std::ptrdiff_t>(end));
    const at::Tensor out = net.forward(at::cat(group, 0));
    const auto parts = out.chunk(static_cast<int64_t>(end - begin), 0);
    for (std::size_t i = begin; i < end; ++i) maps[i] = parts[i - begin];
    begin = end;
  }
  return maps;
}

std::vector<torch::optim::OptimizerParamGroup> adamwGroups(const ParameterGroups& g) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (const auto& params : g.groups) {
    // every group is kept (possibly empty) so that group i is always the reference's group i
    groups.emplace_back(params, std::make_unique<torch::optim::AdamWOptions>(1e-3));
  }
  return groups;
}

void checkBatch(const NecoBatch& b, int globals) {
  const auto V = static_cast<int64_t>(b.crops.size());
  if (V <= globals || globals < 1) {
    throw InvalidArgumentError("NeCo step: need " + std::to_string(globals) + " global crops and at least one other");
  }
  for (const at::Tensor& c : b.crops) {
    if (c.dim() != 4 || c.size(1) != 3 || c.size(0) != b.crops[0].size(0)) {
      throw InvalidArgumentError("NeCo step: every crop must be (B, 3, S, S) with the same B");
    }
  }
}

/// "cpu", "cuda", "cuda:N" -> a device this build and machine can use.
at::Device parseDevice(const std::string& name) {
  std::optional<at::Device> device;
  try {
    device = at::Device(name);
  } catch (const std::exception&) {
  }
  if (!device || (!device->is_cpu() && !device->is_cuda())) {
    throw InvalidArgumentError("NeCo step: device '" + name + "' is not one of cpu, cuda, cuda:N");
  }
  if (device->is_cuda()) {
    if (!at::hasCUDA()) throw UnsupportedError("NeCo step: device '" + name + "' asked, but LibTorch in this build has no CUDA");
    if (device->has_index() && device->index() >= at::detail::getCUDAHooks().getNumGPUs()) {
      throw InvalidArgumentError("NeCo step: device '" + name + "' does not exist (" +
                                 std::to_string(at::detail::getCUDAHooks().getNumGPUs()) + " CUDA devices)");
    }
  }
  return *device;
}

/// The crops on the step's device (the loader builds them on the CPU).
std::vector<at::Tensor> onDevice(const std::vector<at::Tensor>& crops, const at::Device& device) {
  std::vector<at::Tensor> out;
  out.reserve(crops.size());
  for (const at::Tensor& c : crops) out.push_back(c.device() == device ? c : c.to(device, /*non_blocking=*/true));
  return out;
}

/// NECO_FAULT=nan-loss:<first step>:<count> makes those steps' loss NaN (tests of the skip rule).
void parseNanFault(const char* fault, std::int64_t& from, std::int64_t& count) {
  long long f = 0, c = 0;
  if (fault != nullptr && std::sscanf(fault, "nan-loss:%lld:%lld", &f, &c) == 2 && f >= 0 && c > 0) {
    from = f;
    count = c;
  }
}

}  // namespace

NecoStep::NecoStep(const nn::ViTConfig& backbone, StepConfig config) : config_(std::move(config)) {
  if (config_.schedule.totalSteps < 1) {
    throw InvalidArgumentError("NeCo step: the schedule needs the run's total step count (iterations per epoch x epochs)");
  }
  if (config_.globalCrops < 1) throw InvalidArgumentError("NeCo step: need at least one global crop");
  if (config_.useQueue && config_.queueLength < 1) throw InvalidArgumentError("NeCo step: queue_length must be >= 1");
  config_.loss.patchSize = backbone.patchSize;  // boxes in pixels become token units with the backbone's patch
  device_ = parseDevice(config_.device);
  nn::ViTConfig studentConfig = backbone, teacherConfig = backbone;
  studentConfig.dropPathRate = config_.studentDropPath;
  teacherConfig.dropPathRate = 0.0;
  // The reference builds the teacher first; both backbones load the same weights, the heads differ.
  teacher_ = NecoNetwork(teacherConfig, config_.head);
  student_ = NecoNetwork(studentConfig, config_.head);
  teacher_->backbone->initialiseRandom(config_.seed);
  teacher_->initialiseHead(config_.seed + 1);
  student_->backbone->initialiseRandom(config_.seed);
  student_->initialiseHead(config_.seed + 2);
  for (auto& p : teacher_->parameters()) p.set_requires_grad(false);
  teacher_->eval();
  student_->train();
  teacher_->to(device_);
  student_->to(device_);  // before the optimizer sees the parameters
  teacher_->setMixedPrecision(config_.mixedPrecision);
  student_->setMixedPrecision(config_.mixedPrecision);
  optimizer_ = std::make_unique<torch::optim::AdamW>(adamwGroups(parameterGroups(*student_, config_.trainableBlocks)),
                                                     torch::optim::AdamWOptions(1e-3));
  if (config_.useQueue) {
    queue_ = std::make_unique<ReferenceQueue>(config_.globalCrops, config_.queueLength, config_.head.out,
                                              config_.exactQueueFill, device_);
  }
  parseNanFault(std::getenv("NECO_FAULT"), nanFrom_, nanCount_);
  generator_ = at::make_generator<at::CPUGeneratorImpl>(config_.seed + 3);
  dropPathGenerator_ = at::make_generator<at::CPUGeneratorImpl>(config_.seed + 4);
  student_->backbone->setDropPathGenerator(dropPathGenerator_);
}

void NecoStep::updateQueue(const std::vector<at::Tensor>& teacherMaps, const std::vector<at::Tensor>& masks) {
  for (std::size_t c = 0; c < teacherMaps.size(); ++c) {
    const at::Tensor& m = teacherMaps[c];
    at::Tensor rows = m.permute({0, 2, 3, 1}).reshape({-1, m.size(1)});  // (b, y, x) order
    if (!masks.empty()) {  // only the masked (fg, or bg for 'bg') embeddings are stored, as the reference
      rows = rows.index_select(0, (masks[c].reshape({-1}) > 0.5).nonzero().flatten());
      if (rows.size(0) == 0) continue;
    }
    const std::int64_t n = std::min<std::int64_t>({config_.queueRowsPerImage * m.size(0), config_.queueLength, rows.size(0)});
    const at::Tensor pick =
        at::randperm(rows.size(0), generator_, at::TensorOptions().dtype(at::kLong)).slice(0, 0, n).to(rows.device());
    queue_->push(static_cast<int>(c), rows.index_select(0, pick));
  }
}

at::Tensor NecoStep::referencesFor(int crop, const at::Tensor& teacherAligned, std::int64_t batch,
                                   PairInspection* record) {
  const std::int64_t M = teacherAligned.size(2) * teacherAligned.size(3);
  if (queue_ && queue_->filled(crop) > 0) {
    if (batch * M > config_.queueLength) {
      throw InvalidArgumentError("NeCo step: queue_length " + std::to_string(config_.queueLength) +
                                 " is smaller than the " + std::to_string(batch * M) +
                                 " references a crop pair needs (batch x K^2)");
    }
    const at::Tensor slots = queue_->samplePositions(crop, batch * M, generator_);
    if (record != nullptr) {
      record->provenance = slots;
      record->fromQueue = true;
    }
    return queue_->storage()[crop].index_select(0, slots.to(device_)).reshape({batch, M, -1});
  }
  at::Tensor order;
  at::Tensor refs = batchReferences(teacherAligned, generator_, record != nullptr ? &order : nullptr);
  if (record != nullptr) record->provenance = order;
  return refs;
}

void NecoStep::restoreProgress(std::int64_t step, std::int64_t skipped, int nonFiniteRun) {
  if (step < 0 || skipped < 0 || skipped > step || nonFiniteRun < 0 || nonFiniteRun > skipped) {
    throw InvalidArgumentError("NeCo step: inconsistent counters (step " + std::to_string(step) + ", skipped " +
                               std::to_string(skipped) + ", non-finite run " + std::to_string(nonFiniteRun) + ")");
  }
  step_ = step;
  skipped_ = skipped;
  nonFiniteRun_ = nonFiniteRun;
}

NecoStep::Forward NecoStep::forward(const NecoBatch& batch) {
  const int G = config_.globalCrops;
  if (batch.inGlobal.dim() != 4 || batch.inGlobal.size(1) != G) {
    throw InvalidArgumentError("NeCo step: the batch's boxes must be (B, " + std::to_string(G) + ", V, 4) for " +
                               std::to_string(G) + " global crops");
  }
  checkBatch(batch, G);
  Forward f;
  const std::vector<at::Tensor> crops = onDevice(batch.crops, device_);
  {
    at::NoGradGuard noGrad;
    const std::vector<at::Tensor> globals(crops.begin(), crops.begin() + G);
    // use_teacher False (an ablation): the student, in a second pass of its own (train mode, its
    // drop-path), produces the targets; no EMA.
    NecoNetworkImpl& targets = config_.useTeacher ? *teacher_ : *student_;
    if (config_.loss.mask == LossMask::All) {
      f.teacherMaps = mapsOf(targets, globals);
    } else {
      for (const at::Tensor& crop : globals) {  // METHOD.md §2.8: masks from the last block's attention
        auto [map, attention] = targets.forwardWithAttention(crop);
        at::Tensor mask = foregroundMask(attention, static_cast<int>(map.size(2)), static_cast<int>(map.size(3)));
        if (config_.loss.mask == LossMask::Background) mask = 1 - mask;
        f.teacherMaps.push_back(map);
        f.teacherMasks.push_back(mask);
      }
    }
  }
  f.studentMaps = mapsOf(*student_, crops);
  if (queue_) {
    at::NoGradGuard noGrad;
    updateQueue(f.teacherMaps, f.teacherMasks);  // before the loss, as the reference
  }
  return f;
}

StepInspection NecoStep::inspect(const NecoBatch& batch) {
  // Everything step() would change, saved and put back afterwards (also when something throws).
  struct Restore {
    NecoStep& s;
    at::Tensor generator, dropPath, queueRows;
    std::vector<std::int64_t> queueFill;
    ~Restore() {
      s.generator_.set_state(generator);
      s.dropPathGenerator_.set_state(dropPath);
      if (s.queue_) s.queue_->restore(queueRows, queueFill);
    }
  } restore{*this, generator_.get_state(), dropPathGenerator_.get_state(), {}, {}};
  if (queue_) {
    restore.queueRows = queue_->storage().clone();
    restore.queueFill = queue_->fillCounts();
  }
  StepInspection out;
  out.step = step_;
  out.queueFill = queue_ ? queue_->filled(0) : 0;
  at::NoGradGuard noGrad;
  const Forward f = forward(batch);
  if (queue_) out.queueRowsPerPush = std::min<std::int64_t>(config_.queueRowsPerImage * batch.crops[0].size(0), config_.queueLength);
  const std::int64_t B = batch.crops[0].size(0);
  std::map<std::pair<int, int>, PairInspection> records;
  const NecoLossInputs inputs{f.studentMaps, f.teacherMaps, batch.inGlobal, batch.inCrop, f.teacherMasks};
  std::vector<PairTrace> traces;
  const NecoLossResult loss = necoLoss(
      inputs,
      [&](int c, int v, const at::Tensor& aligned) { return referencesFor(c, aligned, B, &records[{c, v}]); },
      config_.loss, &traces);
  out.loss = loss.loss.item<double>();
  for (PairTrace& t : traces) {
    PairInspection p;
    if (auto it = records.find({t.global, t.other}); it != records.end()) p = std::move(it->second);
    if (!p.fromQueue && p.provenance.defined() && t.positions.defined()) {
      // masked in-batch candidates are the masked rows tiled: candidate j is masked row j mod count
      const at::Tensor kept = t.positions.nonzero().flatten();
      p.provenance = kept.index_select(0, p.provenance.remainder(kept.size(0)));
    }
    for (at::Tensor* x : {&t.studentSims, &t.teacherSims, &t.rowLoss, &t.positions, &p.provenance}) {
      if (x->defined()) *x = x->cpu();  // the X-ray is read on the CPU
    }
    p.trace = std::move(t);
    out.pairs.push_back(std::move(p));
  }
  return out;
}

StepReport NecoStep::step(const NecoBatch& batch) {
  StepReport report;
  report.step = step_;
  report.hyper = hyperParametersAt(config_.schedule, step_);
  const std::int64_t B = batch.crops.empty() ? 0 : batch.crops[0].size(0);

  auto t0 = Clock::now();
  const Forward f = forward(batch);
  report.forwardMs = msSince(t0);

  t0 = Clock::now();
  const NecoLossInputs inputs{f.studentMaps, f.teacherMaps, batch.inGlobal, batch.inCrop, f.teacherMasks};
  const NecoLossResult loss = necoLoss(
      inputs, [&](int c, int, const at::Tensor& aligned) { return referencesFor(c, aligned, B); }, config_.loss);
  report.loss = loss.loss.item<double>();
  if (step_ >= nanFrom_ && step_ < nanFrom_ + nanCount_) report.loss = std::nan("");  // NECO_FAULT test hook
  report.lossMs = msSince(t0);
  report.sortMs = loss.sortMs;

  optimizer_->zero_grad();
  if (loss.maskedPositions == 0) {
    // No source position of any pair is in the loss mask: nothing to learn from this batch. The
    // reference skips such a step (`loss == 0.0`); it is counted as skipped, not as non-finite.
    ++step_;
    ++skipped_;
    report.skipped = true;
    report.emptyMask = true;
    return report;
  }
  bool finite = std::isfinite(report.loss);
  if (finite) {
    t0 = Clock::now();
    loss.loss.backward();
    double sq = 0;
    for (const at::Tensor& p : student_->parameters()) {
      if (p.grad().defined()) sq += p.grad().to(at::kDouble).pow(2).sum().item<double>();
    }
    report.gradNorm = std::sqrt(sq);
    finite = std::isfinite(report.gradNorm);
    report.backwardMs = msSince(t0);
  }
  ++step_;
  if (!finite) {
    optimizer_->zero_grad();
    report.skipped = true;
    ++skipped_;
    if (++nonFiniteRun_ >= config_.maxConsecutiveNonFinite) {
      throw TrainingError("training stopped: " + std::to_string(nonFiniteRun_) +
                          " consecutive steps with a non-finite loss or gradient (last at step " +
                          std::to_string(report.step) + "); lower the learning rate or check the data");
    }
    return report;
  }
  nonFiniteRun_ = 0;
  if (config_.gradClipNorm) {  // clip_grad_norm_ over the decayed groups, as the reference
    at::NoGradGuard noGrad;
    const auto& groups = optimizer_->param_groups();
    double sq = 0;
    for (std::size_t g : {std::size_t{0}, std::size_t{2}}) {
      for (const at::Tensor& p : groups[g].params()) {
        if (p.grad().defined()) sq += p.grad().to(at::kDouble).pow(2).sum().item<double>();
      }
    }
    const double coef = *config_.gradClipNorm / (std::sqrt(sq) + 1e-6);
    if (coef < 1.0) {
      for (std::size_t g : {std::size_t{0}, std::size_t{2}}) {
        for (const at::Tensor& p : groups[g].params()) {
          if (p.grad().defined()) p.grad().mul_(coef);
        }
      }
    }
  }
  t0 = Clock::now();
  if (config_.useTeacher) emaUpdate(*teacher_, *student_, report.hyper.momentum);  // the student before this step's update
  report.emaMs = msSince(t0);
  t0 = Clock::now();
  auto& groups = optimizer_->param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) {
    auto& o = static_cast<torch::optim::AdamWOptions&>(groups[i].options());
    o.lr(i < 2 ? report.hyper.lrBackbone : report.hyper.lrHead);
    o.weight_decay(i % 2 == 0 ? report.hyper.weightDecay : 0.0);
  }
  optimizer_->step();
  report.optimizerMs = msSince(t0);
  return report;
}

}  // namespace neco::train

#include "train/Trainer.h"

#include "checkpoint/BackboneLoader.h"
#include "formats/Sha256.h"
#include "neco/core/Error.h"
#include "train/BatchLoader.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <map>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace neco::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string jsonNumber(double v) { return std::isfinite(v) ? number(v) : "null"; }

/// Copies the pretrained backbone into student and teacher (both start from the same weights, as in
/// the reference). Every parameter and buffer must match by name and shape.
void loadPretrained(NecoStep& step, const fs::path& path, const nn::ViTConfig& backbone) {
  CheckpointOptions options;
  options.numRegisters = backbone.numRegisters;  // 0 with a register checkpoint = the reference's XR
  checkpoint::LoadedBackbone loaded = checkpoint::loadBackbone(path, options);
  std::map<std::string, at::Tensor> source;
  for (const auto& p : loaded.model->named_parameters()) source[p.key()] = p.value();
  for (const auto& b : loaded.model->named_buffers()) source[b.key()] = b.value();
  at::NoGradGuard noGrad;
  for (NecoNetworkImpl* net : {&*step.student(), &*step.teacher()}) {
    std::size_t copied = 0;
    for (auto& p : net->backbone->named_parameters()) {
      const auto it = source.find(p.key());
      if (it == source.end() || !it->second.sizes().equals(p.value().sizes())) {
        throw FormatError(path, "backbone tensor `" + p.key() + "` is missing or has another shape than the " +
                                    backbone.summary() + " being trained");
      }
      p.value().copy_(it->second);
      ++copied;
    }
    if (copied == 0) throw FormatError(path, "no backbone tensor matched");
  }
  spdlog::info("pretrained backbone: {} ({})", path.string(), backbone.summary());
}

}  // namespace

std::string configFingerprint(const TrainerConfig& c, std::int64_t datasetSize) {
  std::ostringstream s;
  const StepConfig& st = c.step;
  s << "v1|" << c.backbone.summary() << "|reg" << c.backbone.numRegisters << "|patch" << c.backbone.patchSize
    << "|head" << st.head.hidden << "," << st.head.out << "|crops" << c.crops.globalCrops << "," << c.crops.localCrops
    << "," << c.crops.globalSize << "," << c.crops.localSize << "|batch" << c.batchSize << "|epochs" << c.epochs
    << "|seed" << c.seed << "|queue" << st.useQueue << "," << st.queueLength << "," << st.exactQueueFill
    << "|teacher" << st.useTeacher << "|blocks";
  if (st.trainableBlocks) {
    for (int b : *st.trainableBlocks) s << b << ",";
  } else {
    s << "all";
  }
  s << "|data" << c.data.dataset << "," << datasetSize;
  const std::string text = s.str();
  return formats::sha256Hex(text.data(), text.size());
}

Trainer::Trainer(TrainerConfig config, std::shared_ptr<const SampleSource> source, fs::path runDir,
                 TrainerCallbacks callbacks)
    : config_(std::move(config)), source_(std::move(source)), runDir_(std::move(runDir)),
      callbacks_(std::move(callbacks)), store_(runDir_ / "checkpoints") {
  if (!source_) throw InvalidArgumentError("trainer: no sample source");
  if (config_.batchSize < 1) throw InvalidArgumentError("trainer: batch_size must be >= 1");
  if (config_.epochs < 1) throw InvalidArgumentError("trainer: max_epochs must be >= 1");
  if (config_.crops.globalCrops != config_.step.globalCrops) {
    throw InvalidArgumentError("trainer: the crops have " + std::to_string(config_.crops.globalCrops) +
                               " global crops but the loss expects " + std::to_string(config_.step.globalCrops));
  }
  perEpoch_ = source_->size() / config_.batchSize;
  if (perEpoch_ < 1) {
    throw InvalidArgumentError("trainer: the dataset has " + std::to_string(source_->size()) +
                               " images, fewer than one batch of " + std::to_string(config_.batchSize));
  }
  config_.step.schedule.totalSteps = perEpoch_ * config_.epochs;
  config_.step.seed = config_.seed;
  totalSteps_ = config_.maxSteps > 0 ? std::min(config_.maxSteps, config_.step.schedule.totalSteps)
                                     : config_.step.schedule.totalSteps;
  fingerprint_ = configFingerprint(config_, source_->size());
  step_ = std::make_unique<NecoStep>(config_.backbone, config_.step);
  if (config_.pretrained) loadPretrained(*step_, *config_.pretrained, config_.backbone);
}

Trainer::~Trainer() = default;

void Trainer::setMonitor(const SampleSource& heldOut) {
  monitor_ = std::make_unique<TrainingMonitor>(heldOut, config_.crops, config_.seed);
}

MonitorValues Trainer::runMonitor() {
  const MonitorValues v = monitor_->measure(*step_);
  std::ofstream(runDir_ / "monitor.jsonl", std::ios::app)
      << "{\"step\":" << v.step << ",\"held_out_loss\":" << jsonNumber(v.heldOutLoss)
      << ",\"agreement\":" << jsonNumber(v.agreement) << "}\n";
  spdlog::info("monitor at step {}: held-out loss {:.5f}, student/teacher ordering agreement {:.4f}", v.step,
               v.heldOutLoss, v.agreement);
  return v;
}

void Trainer::setEvaluator(std::int64_t every, Evaluator evaluate) {
  evaluateEvery_ = every;
  evaluator_ = std::move(evaluate);
}

void Trainer::runEvaluation() {
  try {
    const auto current = snapshot();
    if (!current || current->step != step_->stepIndex()) publishSnapshot();  // the weights after this step
    TrainerEvaluation e = evaluator_(*snapshot());
    e.step = step_->stepIndex();
    std::ofstream(runDir_ / "eval.jsonl", std::ios::app)
        << "{\"step\":" << e.step << ",\"protocol\":\"" << e.protocol << "\",\"part\":\"" << e.part << "\",\"data\":"
        << nlohmann::json(e.data).dump() << ",\"k\":" << e.k
        << ",\"miou\":" << jsonNumber(e.miou) << ",\"miou_present\":" << jsonNumber(e.miouPresent)
        << ",\"pixel_accuracy\":" << jsonNumber(e.pixelAccuracy) << ",\"seconds\":" << jsonNumber(e.seconds) << "}\n";
    spdlog::info("evaluation at step {}: {} of the {} on {}: mIoU {:.2f} (present classes {:.2f}), {:.1f} s", e.step,
                 e.protocol, e.part, e.data, 100 * e.miou, 100 * e.miouPresent, e.seconds);
    if (callbacks_.onEvaluation) callbacks_.onEvaluation(e);
  } catch (const std::exception& ex) {
    spdlog::warn("evaluation at step {} failed, training goes on: {}", step_->stepIndex(), ex.what());
  }
}

std::optional<std::int64_t> Trainer::resumeFromLatest() {
  std::vector<std::string> notes;
  store_.removeTemporaries(&notes);
  const auto latest = store_.latest(&notes);
  for (const std::string& n : notes) spdlog::warn("checkpoints: {}", n);
  if (!latest) return std::nullopt;
  const RunCounters c = CheckpointStore::load(*latest, *step_, fingerprint_);
  skippedSamples_ = c.skippedSamples;
  trimMetrics(c.step);
  spdlog::info("resumed from {} (step {} of {})", latest->string(), c.step, totalSteps_);
  return c.step;
}

void Trainer::pause() {
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    paused_ = true;
    stepBudget_ = 0;
  }
  controlCv_.notify_all();
}

void Trainer::resume() {
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    paused_ = false;
  }
  controlCv_.notify_all();
}

void Trainer::stepOnce() {
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    paused_ = true;
    ++stepBudget_;
  }
  controlCv_.notify_all();
}

void Trainer::stop() {
  stopRequested_.store(true);
  controlCv_.notify_all();
}

void Trainer::requestInspection(int images) {
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    inspectImages_ = std::max(1, images);
  }
  controlCv_.notify_all();
}

bool Trainer::paused() const {
  std::lock_guard<std::mutex> lock(controlMutex_);
  return paused_;
}

std::shared_ptr<const NetworkSnapshot> Trainer::snapshot() const {
  std::lock_guard<std::mutex> lock(snapshotMutex_);
  return snapshot_;
}

void Trainer::publishSnapshot() {
  auto snap = std::make_shared<NetworkSnapshot>();
  snap->step = step_->stepIndex();
  at::NoGradGuard noGrad;
  // on the CPU: the views' extractors run there, and a CUDA run keeps its device memory for training
  for (const auto& p : step_->student()->backbone->named_parameters()) {
    snap->student.emplace_back(p.key(), p.value().to(at::kCPU, /*non_blocking=*/false, /*copy=*/true));
  }
  for (const auto& p : step_->teacher()->backbone->named_parameters()) {
    snap->teacher.emplace_back(p.key(), p.value().to(at::kCPU, /*non_blocking=*/false, /*copy=*/true));
  }
  std::lock_guard<std::mutex> lock(snapshotMutex_);
  snapshot_ = std::move(snap);
}

bool Trainer::waitWhilePaused(const std::function<void(int images)>& serveInspection) {
  std::unique_lock<std::mutex> lock(controlMutex_);
  bool announced = false;
  while (paused_ && stepBudget_ == 0) {
    if (stopRequested_.load()) return false;
    if (!announced) {
      announced = true;
      lock.unlock();
      publishSnapshot();
      if (callbacks_.onPauseChanged) callbacks_.onPauseChanged(true);
      lock.lock();
      continue;
    }
    if (inspectImages_ > 0) {
      const int images = std::exchange(inspectImages_, 0);
      lock.unlock();
      serveInspection(images);
      lock.lock();
      continue;
    }
    controlCv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (paused_ && stepBudget_ > 0) --stepBudget_;
  if (announced && !paused_ && callbacks_.onPauseChanged) {
    lock.unlock();
    callbacks_.onPauseChanged(false);
  }
  return !stopRequested_.load();
}

fs::path Trainer::saveCheckpoint() {
  RunCounters c;
  c.step = step_->stepIndex();
  c.skippedSteps = step_->skippedSteps();
  c.nonFiniteRun = step_->consecutiveNonFinite();
  c.skippedSamples = skippedSamples_;
  c.configFingerprint = fingerprint_;
  const auto t0 = Clock::now();
  const fs::path dir = store_.save(*step_, c);
  store_.prune(config_.keepCheckpoints);
  spdlog::info("checkpoint {} ({:.1f} s)", dir.string(), std::chrono::duration<double>(Clock::now() - t0).count());
  if (callbacks_.onCheckpoint) callbacks_.onCheckpoint(dir, c.step);
  return dir;
}

void Trainer::trimMetrics(std::int64_t fromStep) {
  // A resumed run rewrites the rows of steps it will run again, so the files read like one run.
  for (const char* name : {"metrics.jsonl", "metrics.csv", "monitor.jsonl", "eval.jsonl"}) {
    const fs::path file = runDir_ / name;
    std::ifstream in(file);
    if (!in) continue;
    const bool csv = file.extension() == ".csv";
    std::string kept, line;
    while (std::getline(in, line)) {
      const auto pos = csv ? std::string::npos : line.find("\"step\":");
      const std::string field = csv ? line.substr(0, line.find(',')) : (pos == std::string::npos ? "" : line.substr(pos + 7));
      if (field.empty() || field[0] < '0' || field[0] > '9') {
        if (csv) kept += line + "\n";  // the header
        continue;
      }
      // metrics rows are numbered by the step run, monitor and eval rows by the steps done before measuring
      const bool afterSteps = file.filename() == "monitor.jsonl" || file.filename() == "eval.jsonl";
      if (std::stoll(field) < fromStep + (afterSteps ? 1 : 0)) kept += line + "\n";
    }
    in.close();
    std::ofstream out(file, std::ios::trunc);
    out << kept;
  }
}

void Trainer::appendMetrics(const TrainerProgress& p) {
  const StepReport& r = p.report;
  const std::vector<std::pair<const char*, std::string>> row = {
      {"step", std::to_string(r.step)},
      {"epoch", std::to_string(p.epoch)},
      {"loss", jsonNumber(r.loss)},
      {"skipped", r.skipped ? "true" : "false"},
      {"grad_norm", jsonNumber(r.gradNorm)},
      {"lr_backbone", number(r.hyper.lrBackbone)},
      {"lr_head", number(r.hyper.lrHead)},
      {"weight_decay", number(r.hyper.weightDecay)},
      {"momentum", number(r.hyper.momentum)},
      {"data_ms", number(p.dataWaitMs)},
      {"forward_ms", number(r.forwardMs)},
      {"loss_ms", number(r.lossMs)},
      {"sort_ms", number(r.sortMs)},
      {"backward_ms", number(r.backwardMs)},
      {"ema_ms", number(r.emaMs)},
      {"optimizer_ms", number(r.optimizerMs)},
      {"step_ms", number(p.stepMs)},
      {"images_per_s", number(p.imagesPerSecond)},
      {"skipped_samples", std::to_string(p.skippedSamples.size())},
  };
  std::string json = "{", csv, header;
  for (const auto& [key, value] : row) {
    json += (json.size() > 1 ? ",\"" : "\"") + std::string(key) + "\":" + value;
    csv += (csv.empty() ? "" : ",") + (value == "null" ? std::string() : value);
    header += (header.empty() ? "" : ",") + std::string(key);
  }
  std::ofstream(runDir_ / "metrics.jsonl", std::ios::app) << json << "}\n";
  const fs::path csvFile = runDir_ / "metrics.csv";
  std::error_code ec;
  const bool fresh = !fs::exists(csvFile, ec) || fs::file_size(csvFile, ec) == 0;
  std::ofstream out(csvFile, std::ios::app);
  if (fresh) out << header << "\n";
  out << csv << "\n";
}

TrainerResult Trainer::run() {
  std::error_code ec;
  fs::create_directories(runDir_, ec);
  if (ec) throw IoError(runDir_, "cannot create the run folder: " + ec.message());
  TrainerResult result;
  const std::int64_t first = step_->stepIndex();
  if (first >= totalSteps_) {
    result.stepsDone = first;
    return result;
  }
  BatchPlan plan{config_.seed, config_.batchSize, config_.crops, config_.photometric};
  BatchLoader loader(*source_, plan, config_.data.loaderThreads, config_.data.prefetchBatches, first);
  const std::int64_t every = config_.checkpointEvery > 0 ? config_.checkpointEvery : perEpoch_;
  double averageMs = 0;
  const bool monitoring = monitor_ != nullptr && config_.monitorEvery > 0;
  if (monitoring && first == 0) runMonitor();
  const bool evaluating = evaluator_ && evaluateEvery_ > 0;
  if (evaluating && first == 0) runEvaluation();  // the curve's starting point
  publishSnapshot();
  std::optional<LoadedBatch> pending;  // fetched early for an X-ray; the next step uses it
  const auto serveInspection = [&](int images) {
    std::shared_ptr<TrainerInspection> x;
    std::string error;
    try {
      if (!pending) pending = loader.next();
      x = std::make_shared<TrainerInspection>();
      x->batch = *pending;
      x->step = step_->inspect(pending->batch);
      const auto n = std::min<std::size_t>(static_cast<std::size_t>(images), pending->indices.size());
      for (std::size_t i = 0; i < n; ++i) {
        x->sources.push_back(source_->image(pending->indices[i]));
        x->names.push_back(source_->describe(pending->indices[i]));
      }
    } catch (const std::exception& e) {
      x.reset();
      error = e.what();
      spdlog::warn("training X-ray failed: {}", error);
    }
    if (callbacks_.onInspection) callbacks_.onInspection(std::move(x), error);
  };
  while (step_->stepIndex() < totalSteps_) {
    if (stopRequested_.load() || !waitWhilePaused(serveInspection)) {
      result.outcome = TrainerOutcome::Stopped;
      break;
    }
    const auto t0 = Clock::now();
    LoadedBatch batch = pending ? std::move(*pending) : loader.next();
    pending.reset();
    TrainerProgress p;
    p.report = step_->step(batch.batch);
    p.stepsDone = step_->stepIndex();
    p.totalSteps = totalSteps_;
    p.epoch = batch.epoch;
    p.dataWaitMs = batch.waitMs;
    p.stepMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    averageMs = averageMs == 0 ? p.stepMs : 0.9 * averageMs + 0.1 * p.stepMs;
    p.imagesPerSecond = config_.batchSize * 1000.0 / averageMs;
    p.etaSeconds = static_cast<double>(totalSteps_ - p.stepsDone) * averageMs / 1000.0;
    p.skippedSamples = std::move(batch.skipped);
    skippedSamples_ += static_cast<std::int64_t>(p.skippedSamples.size());
    for (const std::string& s : p.skippedSamples) spdlog::warn("skipped sample {}", s);
    if (monitoring && (p.stepsDone % config_.monitorEvery == 0 || p.stepsDone == totalSteps_)) p.monitor = runMonitor();
    if (p.report.skipped) spdlog::warn("step {}: non-finite loss or gradient, step skipped", p.report.step);
    appendMetrics(p);
    if (p.stepsDone % snapshotEvery_.load() == 0) publishSnapshot();  // before onStep: views see this step
    if (callbacks_.onStep) callbacks_.onStep(p);
    if (evaluating && (p.stepsDone % evaluateEvery_ == 0 || p.stepsDone == totalSteps_)) runEvaluation();
    if (p.stepsDone % every == 0 && p.stepsDone < totalSteps_) result.lastCheckpoint = saveCheckpoint();
  }
  result.stepsDone = step_->stepIndex();
  result.lastCheckpoint = saveCheckpoint();  // the final state, or where a stop left it
  publishSnapshot();
  return result;
}

}  // namespace neco::train

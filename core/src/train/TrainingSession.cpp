// neco::TrainingSession: the torch-free facade over RunConfig + DatasetSource + Trainer.
#include "neco/core/Training.h"

#include "FeatureExtractorImpl.h"

#include "formats/AtomicFile.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"
#include "neco/core/Weights.h"
#include "train/DatasetSource.h"
#include "train/RunConfig.h"
#include "train/Trainer.h"
#include "train/TrainingXRay.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <optional>

namespace neco {
namespace fs = std::filesystem;

struct TrainingSession::Impl {
  fs::path runDir;
  train::RunConfig config;
  train::TrainerConfig trainerConfig;
  std::vector<std::string> notes;
  std::unique_ptr<train::Trainer> trainer;
  std::int64_t startStep = 0;
  std::string dataName;
  std::shared_ptr<const EvaluationData> evalData, evalMemory;  // neco.eval_*: opened once
  int lockFd = -1;  // flock on <run>/.lock: one trainer per run folder
  ~Impl() {
    if (lockFd >= 0) ::close(lockFd);
  }
};

namespace {

/// Holds an exclusive lock on the run folder for the session's lifetime (released by the OS on any
/// exit, kill -9 included). Throws InvalidArgumentError when another process trains in it.
int lockRunFolder(const fs::path& dir) {
  const fs::path file = dir / ".lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(file, std::string("cannot create the run lock: ") + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw InvalidArgumentError("another process is training in " + dir.string() + " (it holds " + file.string() + ")");
  }
  return fd;
}

bool holdsRun(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "config.yml", ec) || fs::exists(dir / "checkpoints", ec);
}

bool emptyOrMissing(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename() != ".lock") return false;  // a lock left by a run that failed to start
  }
  return true;
}

/// The run's configuration from the request: a new run's file (or the demo), or a resumed run's own.
train::RunConfig resolveConfig(const TrainingRequest& r, fs::path& runDir) {
  train::RunConfig c;
  if (!r.resumeDir.empty()) {
    if (!r.config.empty() || r.demo) {
      throw InvalidArgumentError("--resume continues a run with its own config.yml; drop --config / --demo");
    }
    if (!r.outDir.empty() && fs::weakly_canonical(r.outDir) != fs::weakly_canonical(r.resumeDir)) {
      throw InvalidArgumentError("--out " + r.outDir.string() + " differs from --resume " + r.resumeDir.string());
    }
    runDir = r.resumeDir;
    if (!fs::exists(runDir / "config.yml")) {
      throw InvalidArgumentError(runDir.string() + " is not a run folder (no config.yml); start a run with --out");
    }
    c = train::loadRunConfig(runDir / "config.yml");
  } else {
    if (r.outDir.empty()) throw InvalidArgumentError("a new run needs --out DIR (the run folder)");
    if (r.config.empty() == !r.demo) throw InvalidArgumentError("give either --config FILE or --demo");
    runDir = r.outDir;
    if (holdsRun(runDir)) {
      throw InvalidArgumentError(runDir.string() + " already holds a run; continue it with --resume " + runDir.string() +
                                 " or choose another --out");
    }
    if (!emptyOrMissing(runDir)) {
      throw InvalidArgumentError(runDir.string() + " is not empty; a new run needs an empty or new folder");
    }
    c = r.demo ? train::demoRunConfig() : train::loadRunConfig(r.config);
  }
  for (const std::string& o : r.overrides) train::applyOverride(c, o);
  return c;
}

/// Official weights named by the config, fetched into the cache on first use.
void resolvePretrained(const train::RunConfig& c, train::TrainerConfig& t, std::vector<std::string>& notes) {
  if (t.pretrained) return;
  const std::string name = train::officialWeightsName(c);
  if (!name.empty()) {
    const FetchResult f = fetchWeights(name);
    t.pretrained = f.file;
    notes.push_back("pretrained: " + name + " (" + f.file.string() + ")");
  } else if (c.train.pretrained_weights && !c.train.pretrained_weights->empty()) {
    throw InvalidArgumentError("train.pretrained_weights '" + *c.train.pretrained_weights +
                               "' has no official download for this architecture; set neco.pretrained_path to the file");
  }
}

/// A feature extractor on a copy of one network of `snapshot` (eval mode, no stochastic depth).
std::shared_ptr<const FeatureExtractor> extractorFrom(const train::NetworkSnapshot& snapshot, nn::ViTConfig config,
                                                     bool teacher, const fs::path& runDir) {
  config.dropPathRate = 0.0;
  auto impl = std::make_unique<FeatureExtractorAccess::Impl>();
  impl->model = nn::VisionTransformer(config);
  {
    at::NoGradGuard noGrad;
    auto params = impl->model->named_parameters();
    for (const auto& [name, value] : teacher ? snapshot.teacher : snapshot.student) {
      if (at::Tensor* target = params.find(name)) target->copy_(value);
    }
  }
  impl->model->eval();
  impl->weights = std::string(teacher ? "teacher" : "student") + " of " + runDir.string() + " at step " + std::to_string(snapshot.step);
  return FeatureExtractorAccess::make(std::move(impl));
}

/// Opens the evaluation data of neco.eval_* (throws what opening a dataset throws, naming it).
void openEvaluation(const train::InTrainingEvaluation& e, std::shared_ptr<const EvaluationData>& data,
                    std::shared_ptr<const EvaluationData>& memory) {
  if (e.dataset == "demo") {
    data = demoEvaluationData({}, e.split);  // names a split that is neither train nor val
    if (e.protocol == "nn-retrieval") memory = demoEvaluationData({}, "train");
  } else {
    // the limit bounds the memory images too: training waits while an evaluation runs
    data = openEvaluationData(e.dataset, e.root, e.split, e.limit);
    if (e.protocol == "nn-retrieval") memory = openEvaluationData(e.dataset, e.root, e.memorySplit, e.limit);
  }
}

train::TrainerEvaluation evaluateSnapshot(const train::InTrainingEvaluation& e, const EvaluationData& data,
                                          const EvaluationData* memory, const train::NetworkSnapshot& snapshot,
                                          const nn::ViTConfig& backbone, const fs::path& runDir) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto model = extractorFrom(snapshot, backbone, e.part == "teacher", runDir);
  train::TrainerEvaluation out;
  out.protocol = e.protocol;
  out.part = e.part;
  out.data = data.describe();
  if (e.protocol == "nn-retrieval") {
    RetrievalOptions o;
    o.inputSize = e.inputSize;
    o.seeds.clear();
    for (int i = 0; i < e.seeds; ++i) o.seeds.push_back(42 + static_cast<std::uint64_t>(i));
    const RetrievalResult r = evaluateRetrieval(*model, *memory, data, o);
    out.miou = r.miou;
    for (const RetrievalRun& run : r.runs) {
      out.miouPresent += run.miouPresent / static_cast<double>(r.runs.size());
      out.pixelAccuracy += run.pixelAccuracy / static_cast<double>(r.runs.size());
    }
  } else {
    OverclusterOptions o;
    o.inputSize = e.inputSize;
    o.seeds = e.seeds;
    if (e.k > 0) o.ks = {e.k};
    const OverclusterResult r = evaluateOvercluster(*model, data, o);
    const OverclusterRun& run = r.runs.front();
    out.k = run.k;
    out.miou = run.miou;
    out.miouPresent = run.miouPresent;
    out.pixelAccuracy = run.pixelAccuracy;
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace

TrainingSession::TrainingSession(const TrainingRequest& request,
                                 const std::function<void(std::size_t, std::size_t)>& scanProgress)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.config = resolveConfig(request, s.runDir);
  for (const std::string& w : s.config.warnings) s.notes.push_back("config: " + w);
  if (!s.config.ignored.empty()) {
    std::string list;
    for (const std::string& k : s.config.ignored) list += (list.empty() ? "" : ", ") + k;
    s.notes.push_back("config: accepted, not used: " + list);
  }
  s.trainerConfig = train::toTrainerConfig(s.config);
  if (request.maxSteps > 0) s.trainerConfig.maxSteps = request.maxSteps;
  if (request.loaderThreads >= 0) s.trainerConfig.data.loaderThreads = request.loaderThreads;
  resolvePretrained(s.config, s.trainerConfig, s.notes);
  train::OpenedSource opened = train::openSampleSource(s.trainerConfig.data, scanProgress);
  s.notes.insert(s.notes.end(), opened.notes.begin(), opened.notes.end());
  s.dataName = s.trainerConfig.data.dataset + " (" + std::to_string(opened.source->size()) + " images)";

  std::error_code ec;
  fs::create_directories(s.runDir, ec);
  if (ec) throw IoError(s.runDir, "cannot create the run folder: " + ec.message());
  s.lockFd = lockRunFolder(s.runDir);
  s.trainer = std::make_unique<train::Trainer>(s.trainerConfig, opened.source, s.runDir);
  if (s.trainerConfig.monitorEvery > 0 && opened.heldOut) {
    try {
      s.trainer->setMonitor(*opened.heldOut);
    } catch (const Error& e) {
      s.notes.push_back(std::string("monitor off: ") + e.what());
    }
  }
  if (s.trainerConfig.evaluation.every > 0) {
    const train::InTrainingEvaluation& e = s.trainerConfig.evaluation;
    openEvaluation(e, s.evalData, s.evalMemory);
    s.notes.push_back("evaluation: " + e.protocol + " of the " + e.part + " on " + s.evalData->describe() + " at " +
                      std::to_string(e.inputSize) + " px every " + std::to_string(e.every) + " steps (eval.jsonl)");
    s.trainer->setEvaluator(e.every, [&s](const train::NetworkSnapshot& snapshot) {
      return evaluateSnapshot(s.trainerConfig.evaluation, *s.evalData, s.evalMemory.get(), snapshot, s.trainerConfig.backbone,
                              s.runDir);
    });
  }
  if (!request.resumeDir.empty()) {
    const auto resumed = s.trainer->resumeFromLatest();
    s.startStep = resumed.value_or(0);
    s.notes.push_back(resumed ? "resuming at step " + std::to_string(*resumed)
                              : "no committed checkpoint in " + s.runDir.string() + "; starting at step 0");
  } else {
    const std::string yaml = train::toYaml(s.config);
    formats::writeFileAtomically(s.runDir / "config.yml", yaml.data(), yaml.size());
  }
}

TrainingSession::~TrainingSession() = default;

std::vector<TrainingProgress> readTrainingHistory(const fs::path& runDir) {
  const auto number = [](const nlohmann::json& row, const char* key) {
    const auto it = row.find(key);
    return it != row.end() && it->is_number() ? it->get<double>() : std::nan("");  // null: NaN / inf
  };
  const auto rows = [](const fs::path& file, const std::function<void(const nlohmann::json&)>& take) {
    std::ifstream in(file);
    std::string line;
    std::size_t bad = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!row.is_object() || !row.contains("step") || !row["step"].is_number_integer()) {
        ++bad;
        continue;
      }
      take(row);
    }
    if (bad > 0) spdlog::warn("{}: {} unreadable line(s) skipped", file.string(), bad);
  };
  std::map<std::int64_t, TrainingProgress> byStepsDone;
  rows(runDir / "metrics.jsonl", [&](const nlohmann::json& r) {
    TrainingProgress p;
    p.step = r["step"].get<std::int64_t>();
    p.stepsDone = p.step + 1;
    p.epoch = r.value("epoch", std::int64_t{0});
    p.loss = number(r, "loss");
    p.skipped = r.value("skipped", false);
    p.gradNorm = number(r, "grad_norm");
    p.lrBackbone = number(r, "lr_backbone");
    p.lrHead = number(r, "lr_head");
    p.weightDecay = number(r, "weight_decay");
    p.momentum = number(r, "momentum");
    p.dataMs = number(r, "data_ms");
    p.forwardMs = number(r, "forward_ms");
    p.lossMs = number(r, "loss_ms");
    p.sortMs = number(r, "sort_ms");
    p.backwardMs = number(r, "backward_ms");
    p.optimizerMs = number(r, "optimizer_ms");
    p.emaMs = number(r, "ema_ms");
    p.stepMs = number(r, "step_ms");
    byStepsDone[p.stepsDone] = p;  // a later row of the same step (a resume) wins
  });
  rows(runDir / "monitor.jsonl", [&](const nlohmann::json& r) {
    const auto it = byStepsDone.find(r["step"].get<std::int64_t>());  // measured after that many steps
    if (it == byStepsDone.end()) return;
    it->second.monitored = true;
    it->second.heldOutLoss = number(r, "held_out_loss");
    it->second.agreement = number(r, "agreement");
  });
  std::vector<TrainingProgress> out;
  out.reserve(byStepsDone.size());
  for (auto& [done, p] : byStepsDone) out.push_back(std::move(p));
  return out;
}

std::vector<TrainingEvaluation> readEvaluationHistory(const fs::path& runDir) {
  std::map<std::int64_t, TrainingEvaluation> byStep;
  std::ifstream in(runDir / "eval.jsonl");
  std::string line;
  std::size_t bad = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json r = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object() || !r.contains("step") || !r["step"].is_number_integer() || !r.contains("miou") || !r["miou"].is_number()) {
      ++bad;
      continue;
    }
    TrainingEvaluation e;
    e.step = r["step"].get<std::int64_t>();
    e.protocol = r.value("protocol", std::string());
    e.part = r.value("part", std::string());
    e.data = r.value("data", std::string());
    e.k = r.value("k", 0);
    e.miou = r["miou"].get<double>();
    e.miouPresent = r.value("miou_present", 0.0);
    e.pixelAccuracy = r.value("pixel_accuracy", 0.0);
    e.seconds = r.value("seconds", 0.0);
    byStep[e.step] = e;  // a resumed run's later row wins
  }
  if (bad > 0) spdlog::warn("{}: {} unreadable line(s) skipped", (runDir / "eval.jsonl").string(), bad);
  std::vector<TrainingEvaluation> out;
  for (auto& [step, e] : byStep) out.push_back(std::move(e));
  return out;
}

TrainingSummary TrainingSession::run(const std::function<void(const TrainingProgress&)>& onProgress) {
  TrainingCallbacks callbacks;
  callbacks.onProgress = onProgress;
  return run(callbacks);
}

TrainingSummary TrainingSession::run(const TrainingCallbacks& callbacks) {
  Impl& s = *impl_;
  const auto& onProgress = callbacks.onProgress;
  std::function<void(const train::TrainerProgress&)> forward = [&onProgress](const train::TrainerProgress& p) {
    if (!onProgress) return;
    TrainingProgress out;
    const train::StepReport& r = p.report;
    out.step = r.step;
    out.stepsDone = p.stepsDone;
    out.totalSteps = p.totalSteps;
    out.epoch = p.epoch;
    out.loss = r.loss;
    out.skipped = r.skipped;
    out.lrBackbone = r.hyper.lrBackbone;
    out.lrHead = r.hyper.lrHead;
    out.weightDecay = r.hyper.weightDecay;
    out.momentum = r.hyper.momentum;
    out.gradNorm = r.gradNorm;
    out.dataMs = p.dataWaitMs;
    out.forwardMs = r.forwardMs;
    out.lossMs = r.lossMs;
    out.sortMs = r.sortMs;
    out.backwardMs = r.backwardMs;
    out.optimizerMs = r.optimizerMs;
    out.emaMs = r.emaMs;
    out.stepMs = p.stepMs;
    out.imagesPerSecond = p.imagesPerSecond;
    out.etaSeconds = p.etaSeconds;
    out.skippedSamples = p.skippedSamples;
    if (p.monitor) {
      out.monitored = true;
      out.heldOutLoss = p.monitor->heldOutLoss;
      out.agreement = p.monitor->agreement;
    }
    onProgress(out);
  };
  train::TrainerCallbacks inner;
  inner.onStep = std::move(forward);
  inner.onCheckpoint = callbacks.onCheckpoint;
  inner.onPauseChanged = callbacks.onPauseChanged;
  if (callbacks.onEvaluation) {
    inner.onEvaluation = [onEvaluation = callbacks.onEvaluation](const train::TrainerEvaluation& e) {
      TrainingEvaluation out;
      out.step = e.step;
      out.protocol = e.protocol;
      out.part = e.part;
      out.data = e.data;
      out.k = e.k;
      out.miou = e.miou;
      out.miouPresent = e.miouPresent;
      out.pixelAccuracy = e.pixelAccuracy;
      out.seconds = e.seconds;
      onEvaluation(out);
    };
  }
  if (callbacks.onXRay) {
    inner.onInspection = [&s, onXRay = callbacks.onXRay](std::shared_ptr<const train::TrainerInspection> x,
                                                         const std::string& error) {
      if (!x) {
        onXRay(nullptr, error);
        return;
      }
      try {
        onXRay(std::make_shared<const TrainingXRay>(train::toXRay(*x, s.trainer->step().config())), std::string());
      } catch (const std::exception& e) {
        onXRay(nullptr, e.what());
      }
    };
  }
  s.trainer->setCallbacks(std::move(inner));
  const train::TrainerResult result = s.trainer->run();
  TrainingSummary summary;
  summary.stopped = result.outcome == train::TrainerOutcome::Stopped;
  summary.stepsDone = result.stepsDone;
  summary.totalSteps = s.trainer->totalSteps();
  if (result.lastCheckpoint) summary.lastCheckpoint = *result.lastCheckpoint;
  return summary;
}

void TrainingSession::pause() { impl_->trainer->pause(); }
void TrainingSession::resume() { impl_->trainer->resume(); }
void TrainingSession::stepOnce() { impl_->trainer->stepOnce(); }
void TrainingSession::stop() { impl_->trainer->stop(); }
void TrainingSession::requestXRay(int images) { impl_->trainer->requestInspection(images); }
void TrainingSession::requestStopFromSignal() noexcept { impl_->trainer->requestStopFromSignal(); }
const std::vector<std::string>& TrainingSession::notes() const noexcept { return impl_->notes; }
std::int64_t TrainingSession::startStep() const noexcept { return impl_->startStep; }
std::int64_t TrainingSession::totalSteps() const noexcept { return impl_->trainer->totalSteps(); }
const fs::path& TrainingSession::runDir() const noexcept { return impl_->runDir; }

void TrainingSession::setLiveEvery(std::int64_t steps) { impl_->trainer->setSnapshotEvery(steps); }

std::shared_ptr<const FeatureExtractor> TrainingSession::liveExtractor(bool teacher) const {
  const auto snapshot = impl_->trainer->snapshot();
  if (!snapshot) return nullptr;
  return extractorFrom(*snapshot, impl_->trainerConfig.backbone, teacher, impl_->runDir);
}

std::string TrainingSession::describe() const {
  const Impl& s = *impl_;
  const train::TrainerConfig& t = s.trainerConfig;
  return t.backbone.summary() + (t.pretrained ? " from " + t.pretrained->filename().string() : " from a random init") +
         "; data " + s.dataName + "; batch " + std::to_string(t.batchSize) + ", crops " +
         std::to_string(t.crops.globalCrops) + "x" + std::to_string(t.crops.globalSize) + " + " +
         std::to_string(t.crops.localCrops) + "x" + std::to_string(t.crops.localSize) + "; " +
         std::to_string(s.trainer->totalSteps()) + " of " + std::to_string(s.trainer->scheduleSteps()) +
         " scheduled steps (" + std::to_string(s.trainer->iterationsPerEpoch()) + " per epoch); on " + t.step.device +
         (t.step.device != "cpu" && t.step.mixedPrecision ? " (bf16 backbones)" : "");
}

}  // namespace neco

// neco_bench_train_step [--rounds R] [--steps K] [--warmup W] [--threads T] [--python]: the time of one
// NeCo training step (NecoStep) in the demo run's configuration (configs/demo.yml: tiny ViT, head
// 256 / 64, crops 112 / 56 px, 2 + 4 crops, batch 8, queue 2048, bitonic sorts at steepness 100,
// student drop-path 0.1), split into data / forward / loss (of which the sorts) / backward / EMA /
// optimizer. Development tool, not a test: machine-readable output, no timed assertion.
//
// With --python the Python reference step of the same configuration (tests/reference/time_neco_step.py:
// the reference's operations with the published dense diffsort formulation, Debian's torch) runs as a
// second process in the same session, interleaved round by round -- K C++ steps, then K Python steps,
// then K C++ steps, ... -- so both see the same machine state; `speedup` = python_ms / cpp_ms of the
// median step times (the step without the data: the Python side times the step on a ready batch).
//
// Output: one JSON object per line: a header, every timed step ({"impl": "cpp" | "python", ...}), and
// a final {"summary": true, ...} with the medians.
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "neco/gpu/Status.h"
#include "train/BatchBuilder.h"
#include "train/NecoStep.h"
#include "train/RunConfig.h"
#include "train/Schedules.h"
#include "train/TrainerConfig.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NECO_SOURCE_DIR
#define NECO_SOURCE_DIR "."
#endif

using namespace neco::train;

namespace {

struct Options {
  int rounds = 5, steps = 2, warmup = 1, threads = 0;
  bool python = false;
  std::string pythonExe = "/usr/bin/python3";
  std::string config;      // a run YAML (e.g. the reference's neco_224x224.yml) instead of configs/demo.yml
  std::string device;      // overrides neco.device (default: the config's, i.e. auto)
  int mixedPrecision = -1;  // -1: the config's neco.mixed_precision
  int batch = 0;           // overrides train.batch_size
};

const char* const kPhases[] = {"data_ms",     "forward_ms", "loss_ms",      "sort_ms",
                               "backward_ms", "ema_ms",     "optimizer_ms", "step_ms"};

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// The number after `"key":` in a flat JSON line (the Python side's step lines); NaN when absent.
double jsonNumber(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const auto at = line.find(needle);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(line.c_str() + at + needle.size(), nullptr);
}

/// The Python reference step as a child process answering "run N" on stdin with N JSON lines.
class PythonPeer {
 public:
  PythonPeer(const std::string& exe, const std::vector<std::string>& args) {
    int toChild[2], fromChild[2];
    if (pipe(toChild) != 0 || pipe(fromChild) != 0) throw neco::IoError("", "pipe() failed");
    pid_ = fork();
    if (pid_ < 0) throw neco::IoError("", "fork() failed");
    if (pid_ == 0) {
      dup2(toChild[0], 0);
      dup2(fromChild[1], 1);
      close(toChild[1]);
      close(fromChild[0]);
      std::vector<char*> argv{const_cast<char*>(exe.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(exe.c_str(), argv.data());
      std::perror("neco_bench_train_step: exec python");
      _exit(127);
    }
    close(toChild[0]);
    close(fromChild[1]);
    in_ = fdopen(toChild[1], "w");
    out_ = fdopen(fromChild[0], "r");
  }
  ~PythonPeer() {
    if (in_ != nullptr) {
      std::fputs("quit\n", in_);
      std::fclose(in_);
    }
    if (out_ != nullptr) std::fclose(out_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  PythonPeer(const PythonPeer&) = delete;
  PythonPeer& operator=(const PythonPeer&) = delete;

  void send(const std::string& line) {
    std::fputs((line + "\n").c_str(), in_);
    std::fflush(in_);
  }
  /// The next line from the child; throws when it has exited.
  std::string receive() {
    std::string line;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, out_) != nullptr) {
      line += buf;
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        return line;
      }
    }
    throw neco::IoError("", "the Python reference step exited early (see its messages above)");
  }

 private:
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

NecoBatch demoBatch(const TrainerConfig& tc, int first, std::uint64_t epoch) {
  const neco::DemoDatasetOptions demo;
  std::vector<SampleCrops> samples;
  for (int i = 0; i < tc.batchSize; ++i) {
    const int index = (first + i) % demo.trainCount;
    const at::Tensor image = imageTensor(neco::renderDemoScene(demo.seed, index, demo).image);
    CropRng rng = CropRng::forSample(tc.seed, epoch, static_cast<std::uint64_t>(index));
    samples.push_back(makeSampleCrops(image, tc.crops, tc.photometric, rng));
  }
  return collate(samples);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string medians(const std::map<std::string, std::vector<double>>& samples) {
  std::string s;
  for (const char* k : kPhases) {
    const auto it = samples.find(k);
    if (it == samples.end()) continue;
    s += (s.empty() ? "" : ",") + std::string("\"") + k + "\":" + fmt("%.1f", median(it->second));
  }
  return "{" + s + "}";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const bool hasValue = i + 1 < argc;
    if (k == "--python")
      o.python = true;
    else if (k == "--rounds" && hasValue)
      o.rounds = std::atoi(argv[++i]);
    else if (k == "--steps" && hasValue)
      o.steps = std::atoi(argv[++i]);
    else if (k == "--warmup" && hasValue)
      o.warmup = std::atoi(argv[++i]);
    else if (k == "--threads" && hasValue)
      o.threads = std::atoi(argv[++i]);
    else if (k == "--python-exe" && hasValue)
      o.pythonExe = argv[++i];
    else if (k == "--config" && hasValue)
      o.config = argv[++i];
    else if (k == "--device" && hasValue)
      o.device = argv[++i];
    else if (k == "--mixed-precision" && hasValue)
      o.mixedPrecision = std::atoi(argv[++i]) != 0 ? 1 : 0;
    else if (k == "--batch" && hasValue)
      o.batch = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: neco_bench_train_step [--rounds R] [--steps K] [--warmup W] [--threads T] [--python] "
                   "[--python-exe PATH] [--config RUN.yml] [--device cpu|cuda] [--mixed-precision 0|1] "
                   "[--batch B]\n");
      return 2;
    }
  }
  try {
    if (o.threads <= 0) o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(o.threads);
    RunConfig rc = o.config.empty() ? demoRunConfig() : loadRunConfig(o.config);
    if (!o.device.empty()) applyOverride(rc, "neco.device=" + o.device);
    if (o.mixedPrecision >= 0) applyOverride(rc, std::string("neco.mixed_precision=") + (o.mixedPrecision ? "true" : "false"));
    if (o.batch > 0) applyOverride(rc, "train.batch_size=" + std::to_string(o.batch));
    TrainerConfig tc = toTrainerConfig(rc);
    tc.pretrained.reset();  // timing only: a random init of the same architecture (no download)
    const neco::DemoDatasetOptions demo;
    tc.step.schedule.totalSteps = iterationsPerEpoch(demo.trainCount, tc.batchSize) * tc.epochs;
    tc.step.schedule.totalSteps = std::max<std::int64_t>(tc.step.schedule.totalSteps, 100);
    const StepConfig& s = tc.step;
    const int locals = tc.crops.localCrops, globals = s.globalCrops;
    std::printf(
        "{\"bench\":\"train_step\",\"config\":\"%s\",\"device\":\"%s\",\"mixed_precision\":%s,"
        "\"model\":\"%s\",\"embed_dim\":%d,"
        "\"depth\":%d,\"head\":[%d,%d],\"batch\":%d,\"crops\":[%d,%d],\"n_crops\":[%d,%d],\"queue\":%lld,"
        "\"steepness\":%g,\"drop_path\":%g,\"threads\":%d,\"rounds\":%d,\"steps_per_round\":%d}\n",
        o.config.empty() ? "configs/demo.yml" : o.config.c_str(), tc.step.device.c_str(),
        tc.step.mixedPrecision && tc.step.device != "cpu" ? "true" : "false", tc.backbone.name.c_str(), tc.backbone.embedDim, tc.backbone.depth, s.head.hidden, s.head.out, tc.batchSize,
        tc.crops.globalSize, tc.crops.localSize, globals, locals,
        static_cast<long long>(s.useQueue ? s.queueLength : 0), s.loss.student.steepness, s.studentDropPath,
        at::get_num_threads(), o.rounds, o.steps);
    std::fflush(stdout);

    std::unique_ptr<PythonPeer> python;
    if (o.python) {
      const auto arg = [](double v) { return fmt("%g", v); };
      python = std::make_unique<PythonPeer>(
          o.pythonExe, std::vector<std::string>{NECO_SOURCE_DIR "/tests/reference/time_neco_step.py",
                                                "--serve",
                                                "--warmup",
                                                std::to_string(o.warmup),
                                                "--threads",
                                                std::to_string(o.threads),
                                                "--batch",
                                                std::to_string(tc.batchSize),
                                                "--global-size",
                                                std::to_string(tc.crops.globalSize),
                                                "--local-size",
                                                std::to_string(tc.crops.localSize),
                                                "--globals",
                                                std::to_string(globals),
                                                "--locals",
                                                std::to_string(locals),
                                                "--queue",
                                                std::to_string(s.useQueue ? s.queueLength : 0),
                                                "--head-hidden",
                                                std::to_string(s.head.hidden),
                                                "--head-out",
                                                std::to_string(s.head.out),
                                                "--embed-dim",
                                                std::to_string(tc.backbone.embedDim),
                                                "--depth",
                                                std::to_string(tc.backbone.depth),
                                                "--heads",
                                                std::to_string(tc.backbone.numHeads),
                                                "--pos-grid",
                                                std::to_string(tc.backbone.posEmbedGrid),
                                                "--patch",
                                                std::to_string(tc.backbone.patchSize),
                                                "--steepness",
                                                arg(s.loss.student.steepness),
                                                "--drop-path",
                                                arg(s.studentDropPath),
                                                "--total-steps",
                                                std::to_string(s.schedule.totalSteps),
                                                "--seed",
                                                std::to_string(tc.seed)});
      std::printf("%s\n", python->receive().c_str());  // {"ready": true, ...} after its warm-up
      std::fflush(stdout);
    }

    NecoStep trainer(tc.backbone, tc.step);
    const int perEpoch = std::max(1, demo.trainCount / tc.batchSize);
    const bool cuda = tc.step.device != "cpu";
    // On a GPU the CPU-built batches would dominate the run: two are built once and reused.
    std::vector<NecoBatch> cached;
    if (cuda) {
      for (int b = 0; b < 2; ++b) cached.push_back(demoBatch(tc, b * tc.batchSize, 0));
    }
    std::size_t peakBytes = 0;
    int step = 0;
    std::map<std::string, std::vector<double>> cpp, py;
    auto runCpp = [&](bool record) {
      const auto t0 = std::chrono::steady_clock::now();
      const NecoBatch batch = cuda ? cached[static_cast<std::size_t>(step) % cached.size()]
                                   : demoBatch(tc, (step % perEpoch) * tc.batchSize, static_cast<std::uint64_t>(step / perEpoch));
      const auto t1 = std::chrono::steady_clock::now();
      const StepReport r = trainer.step(batch);
      if (cuda) {
        torch::cuda::synchronize();
        peakBytes = std::max(peakBytes, neco::gpu::deviceMemoryInUse(trainer.device().has_index() ? trainer.device().index() : 0));
      }
      const auto t2 = std::chrono::steady_clock::now();
      ++step;
      if (!record) return;
      const std::map<std::string, double> v{{"data_ms", std::chrono::duration<double, std::milli>(t1 - t0).count()},
                                            {"forward_ms", r.forwardMs},
                                            {"loss_ms", r.lossMs},
                                            {"sort_ms", r.sortMs},
                                            {"backward_ms", r.backwardMs},
                                            {"ema_ms", r.emaMs},
                                            {"optimizer_ms", r.optimizerMs},
                                            {"step_ms", std::chrono::duration<double, std::milli>(t2 - t1).count()}};
      std::string line = "{\"impl\":\"cpp\",\"step\":" + std::to_string(r.step) + ",\"loss\":" + fmt("%.6f", r.loss);
      for (const char* k : kPhases) {
        cpp[k].push_back(v.at(k));
        line += std::string(",\"") + k + "\":" + fmt("%.1f", v.at(k));
      }
      std::printf("%s}\n", line.c_str());
      std::fflush(stdout);
    };
    for (int i = 0; i < o.warmup; ++i) runCpp(false);
    for (int round = 0; round < o.rounds; ++round) {
      for (int i = 0; i < o.steps; ++i) runCpp(true);
      if (!python) continue;
      python->send("run " + std::to_string(o.steps));
      for (int i = 0; i < o.steps; ++i) {
        const std::string line = python->receive();
        for (const char* k : kPhases) {
          const double x = jsonNumber(line, k);
          if (!std::isnan(x)) py[k].push_back(x);
        }
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
      }
    }
    python.reset();
    const double cppMs = median(cpp["step_ms"]);
    std::string summary = "{\"summary\":true,\"steps\":" + std::to_string(cpp["step_ms"].size()) +
                          ",\"device\":\"" + tc.step.device + "\",\"cpp_median_step_ms\":" + fmt("%.1f", cppMs) +
                          ",\"images_per_second\":" + fmt("%.2f", cppMs > 0 ? tc.batchSize * 1000.0 / cppMs : 0.0) +
                          ",\"cpp\":" + medians(cpp);
    if (cuda) summary += ",\"device_memory_in_use_peak_gib\":" + fmt("%.2f", static_cast<double>(peakBytes) / (1 << 30));
    if (!py.empty()) {
      const double pyMs = median(py["step_ms"]);
      summary += ",\"python_median_step_ms\":" + fmt("%.1f", pyMs) + ",\"python\":" + medians(py) +
                 ",\"speedup\":" + fmt("%.2f", pyMs / cppMs);
    }
    std::printf("%s}\n", summary.c_str());
  } catch (const neco::Error& e) {
    std::fprintf(stderr, "neco_bench_train_step: %s\n", e.what());
    return 1;
  }
  return 0;
}

// `neco train --config F [--set key=value ...] [--steps N] --out DIR`, `neco train --demo --out DIR`,
// `neco train --resume DIR [--steps N]`: NeCo post-training with a progress bar (or one line per
// --log-every steps when stderr is not a terminal), metrics in DIR/metrics.{jsonl,csv}, checkpoints
// in DIR/checkpoints. SIGINT / SIGTERM: checkpoint at the next safe point, exit status 130; a second
// signal ends the process at once.
#include "CliApp.h"
#include "ExitCodes.h"
#include "neco/core/Training.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <unistd.h>

namespace neco::cli {
namespace {

std::atomic<TrainingSession*> gSession{nullptr};
std::atomic<bool> gSignalled{false};

extern "C" void onStopSignal(int) {
  gSignalled.store(true);
  if (TrainingSession* s = gSession.load()) s->requestStopFromSignal();
}

/// Installs the stop handlers for the lifetime of a training run (one-shot: a second signal kills).
class SignalGuard {
 public:
  explicit SignalGuard(TrainingSession& session) {
    gSession.store(&session);
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &oldInt_);
    sigaction(SIGTERM, &sa, &oldTerm_);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &oldInt_, nullptr);
    sigaction(SIGTERM, &oldTerm_, nullptr);
    gSession.store(nullptr);
  }

 private:
  struct sigaction oldInt_ {}, oldTerm_ {};
};

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  }
  return buf;
}

struct TrainArgs {
  TrainingRequest request;
  std::string config, out, resume;
  int logEvery = 10;
  bool noProgress = false;
};

int runTraining(const TrainArgs& a) {
  TrainingRequest request = a.request;
  request.config = a.config;
  request.outDir = a.out;
  request.resumeDir = a.resume;
  const bool tty = ::isatty(STDERR_FILENO) != 0 && !a.noProgress;
  TrainingSession session(request, [tty](std::size_t done, std::size_t total) {
    if (tty) std::fprintf(stderr, "\rscanning the dataset: %zu / %zu", done, total);
    if (tty && done == total) std::fprintf(stderr, "\n");
  });
  for (const std::string& n : session.notes()) spdlog::info("{}", n);
  spdlog::info("run {}: {}", session.runDir().string(), session.describe());
  SignalGuard signals(session);
  const TrainingSummary summary = session.run([&](const TrainingProgress& p) {
    if (tty) {
      const int width = 30;
      const double f = p.totalSteps > 0 ? static_cast<double>(p.stepsDone) / static_cast<double>(p.totalSteps) : 1.0;
      const int fill = static_cast<int>(f * width);
      std::fprintf(stderr, "\r[%s%s] %lld/%lld loss %.4f  %.1f img/s  lr %.2g/%.2g  eta %s ",
                   std::string(static_cast<std::size_t>(fill), '#').c_str(),
                   std::string(static_cast<std::size_t>(width - fill), '.').c_str(),
                   static_cast<long long>(p.stepsDone), static_cast<long long>(p.totalSteps), p.loss,
                   p.imagesPerSecond, p.lrBackbone, p.lrHead, duration(p.etaSeconds).c_str());
      if (p.stepsDone == p.totalSteps) std::fprintf(stderr, "\n");
    } else if (a.logEvery > 0 && (p.stepsDone % a.logEvery == 0 || p.stepsDone == p.totalSteps)) {
      spdlog::info("step {}/{} epoch {} loss {:.5f} {:.1f} img/s (data {:.0f} ms of {:.0f} ms) eta {}", p.stepsDone,
                   p.totalSteps, p.epoch, p.loss, p.imagesPerSecond, p.dataMs, p.stepMs, duration(p.etaSeconds));
    }
    if (p.skipped) spdlog::warn("step {} skipped: non-finite loss or gradient", p.step);
  });
  if (tty) std::fprintf(stderr, "\n");
  spdlog::info("{} after {} of {} steps; checkpoint {}", summary.stopped ? "stopped" : "finished", summary.stepsDone,
               summary.totalSteps, summary.lastCheckpoint.string());
  if (summary.stopped && gSignalled.load()) {
    spdlog::warn("interrupted: continue with `neco train --resume {}`", session.runDir().string());
    return kExitInterrupted;
  }
  return kExitOk;
}

}  // namespace

void addTrainCommand(CLI::App& app, CommandSlot& slot) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Run NeCo post-training (YAML config with the reference's keys, or --demo)");
  auto* config = cmd->add_option("--config", args->config, "YAML config (the reference's data.* / train.* keys, plus neco.*)")
                     ->check(CLI::ExistingFile);
  auto* demo = cmd->add_flag("--demo", args->request.demo, "The built-in tiny configuration on the demo scenes");
  auto* resume = cmd->add_option("--resume", args->resume, "Continue the run in this folder (its own config.yml)");
  cmd->add_option("--set", args->request.overrides, "Override a config key: --set train.lr_heads=2e-4 (repeatable)")
      ->take_all();
  cmd->add_option("--steps", args->request.maxSteps, "Stop once this many steps are done in all (default: the schedule)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", args->out, "Run folder of a new run (created; must be new or empty)");
  cmd->add_option("--loader-threads", args->request.loaderThreads, "Image loading threads (default: num_workers)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--log-every", args->logEvery, "Steps between progress lines when stderr is not a terminal")
      ->check(CLI::Range(0, 1000000));
  cmd->add_flag("--no-progress", args->noProgress, "Progress lines instead of the bar, even on a terminal");
  config->excludes(demo);
  resume->excludes(config);
  resume->excludes(demo);
  cmd->callback([&slot, args] { slot.action = [args] { return runTraining(*args); }; });
}

}  // namespace neco::cli

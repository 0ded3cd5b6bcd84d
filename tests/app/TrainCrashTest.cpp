// End-to-end crash tests of `neco train` (RELIABILITY.md promises 1, 2, 6): real processes killed
// with SIGKILL at random moments and at every step of a checkpoint save, resumed, and compared
// with an uninterrupted run. The `neco` binary comes from NECO_BIN.
#include "NecoTest.h"
#include "train/TrainingCheckpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using neco::train::CheckpointStore;

namespace {

/// A tiny, fast run of the demo configuration (crops 56 / 28, batch 4, small head and queue).
std::vector<std::string> tinyRun(const fs::path& out, int steps, int every) {
  return {"--no-log-file", "train", "--demo", "--out", out.string(), "--steps", std::to_string(steps),
          "--no-progress", "--log-every", "1",
          "--set", "data.size_crops=[56, 28]", "--set", "data.nmb_samples=[2, 2]", "--set", "train.batch_size=4",
          "--set", "train.projection_hidden_dim=64", "--set", "train.projection_feat_dim=32",
          "--set", "train.queue_length=256", "--set", "neco.checkpoint_every=" + std::to_string(every)};
}

std::vector<std::string> resumeRun(const fs::path& dir, int steps) {
  return {"--no-log-file", "train", "--resume", dir.string(), "--steps", std::to_string(steps), "--no-progress"};
}

/// A fresh folder under the working directory (the build's tests folder); left in place afterwards so a
/// failure can be inspected, replaced by the next run.
fs::path workDir(const std::string& name) {
  const fs::path dir = fs::absolute("train-crash-work") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log, const std::string& fault = {}) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!fault.empty()) ::setenv("NECO_FAULT", fault.c_str(), 1);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    static std::string bin = NECO_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

/// Exit status, or 128 + signal when killed.
int waitFor(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const std::vector<std::string>& args, const fs::path& log, const std::string& fault = {}) {
  return waitFor(spawn(args, log, fault));
}

std::string tail(const fs::path& log) {
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  const std::string all = s.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

/// "loss" of every metrics.jsonl row, as written (exact decimal of the double), by step.
std::vector<std::string> losses(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find("\"loss\":") + 7;
    out.push_back(line.substr(a, line.find(',', a) - a));
  }
  return out;
}

std::string fileBytes(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::int64_t latestStep(const fs::path& run) {
  if (!fs::exists(run / "checkpoints")) return -1;
  const auto latest = CheckpointStore(run / "checkpoints").latest();
  return latest ? std::stoll(latest->filename().string().substr(5)) : -1;
}

}  // namespace

NECO_TEST(TrainCrash, killNineAndResumeIsBitIdentical) {
  const fs::path w = workDir("resume");
  NECO_REQUIRE(run(tinyRun(w / "straight", 8, 4), w / "straight.log") == 0);
  // the same run, killed with SIGKILL once its step-4 checkpoint is committed, then resumed
  const pid_t pid = spawn(tinyRun(w / "split", 8, 4), w / "split.log");
  for (int i = 0; i < 1200 && latestStep(w / "split") < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(pid, SIGKILL);
  NECO_CHECK_EQ(waitFor(pid), 128 + SIGKILL);
  NECO_REQUIRE(latestStep(w / "split") >= 4);
  const int rc = run(resumeRun(w / "split", 8), w / "resume.log");
  if (rc != 0) std::fprintf(stderr, "%s\n", tail(w / "resume.log").c_str());
  NECO_REQUIRE(rc == 0);
  const auto a = losses(w / "straight"), b = losses(w / "split");
  NECO_REQUIRE(a.size() == 8);
  NECO_CHECK(a == b);
  // the final states are byte-identical: weights, optimizer moments, queue, RNGs, counters
  const std::string last = neco::train::checkpointName(8);
  NECO_CHECK(fileBytes(w / "straight/checkpoints" / last / "state.safetensors") ==
             fileBytes(w / "split/checkpoints" / last / "state.safetensors"));
}

NECO_TEST(TrainCrash, aCrashAtEveryPointOfASaveKeepsTheCommittedCheckpoints) {
  const fs::path w = workDir("points");
  // Saves at steps 1 and 2; the crash hits the save of step 2 at each point in turn.
  const char* points[] = {"checkpoint.state", "checkpoint.manifest", "checkpoint.rename", "checkpoint.latest"};
  for (const char* point : points) {
    const fs::path runDir = w / point;
    NECO_REQUIRE(run(tinyRun(runDir, 1, 1), w / "log") == 0);
    NECO_CHECK_EQ(latestStep(runDir), 1);
    const int rc = run(resumeRun(runDir, 2), w / "log", point);
    NECO_CHECK_EQ(rc, 128 + SIGKILL);
    const bool committed = std::string(point) == "checkpoint.rename" || std::string(point) == "checkpoint.latest";
    NECO_CHECK_EQ(latestStep(runDir), committed ? 2 : 1);  // never lost, and never a half-written one
    const auto found = CheckpointStore(runDir / "checkpoints").latest();
    NECO_REQUIRE(found.has_value());
    CheckpointStore::verify(*found);
    NECO_CHECK_EQ(run(resumeRun(runDir, 3), w / "log"), 0);  // and the run goes on from there
    NECO_CHECK_EQ(latestStep(runDir), 3);
    for (const auto& e : fs::directory_iterator(runDir / "checkpoints")) {
      NECO_CHECK(e.path().filename().string().rfind(".tmp-", 0) != 0);  // the resume cleaned up
    }
  }
}

NECO_TEST(TrainCrash, randomKillsDuringFrequentSavesNeverLoseProgress) {
  const fs::path w = workDir("random");
  const fs::path runDir = w / "run";
  std::mt19937 rng(1234);
  std::int64_t committed = -1;
  int kills = 0;
  for (int round = 0; round < 8; ++round) {
    const auto args = committed < 0 ? tinyRun(runDir, 1000, 1) : resumeRun(runDir, 1000);
    const pid_t pid = spawn(args, w / "log");
    // wait for progress past the last commit, then kill at a random moment (saves happen every step)
    for (int i = 0; i < 1200 && latestStep(runDir) <= committed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    ::kill(pid, SIGKILL);
    if (waitFor(pid) == 128 + SIGKILL) ++kills;
    const std::int64_t now = latestStep(runDir);
    NECO_CHECK(now >= committed);  // a committed checkpoint is never lost
    NECO_CHECK(now > committed);   // and the run made progress
    CheckpointStore::verify(CheckpointStore(runDir / "checkpoints").latest().value());
    committed = now;
  }
  NECO_CHECK(kills >= 6);
  NECO_CHECK_EQ(run(resumeRun(runDir, static_cast<int>(committed) + 1), w / "log"), 0);
  NECO_CHECK_EQ(latestStep(runDir), committed + 1);
}

NECO_TEST(TrainCrash, sigintSavesAndExitsWithStatus130) {
  const fs::path w = workDir("sigint");
  const pid_t pid = spawn(tinyRun(w / "run", 1000, 1000), w / "log");
  for (int i = 0; i < 1200 && losses(w / "run").size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(pid, SIGINT);
  NECO_CHECK_EQ(waitFor(pid), 130);
  const std::int64_t saved = latestStep(w / "run");
  NECO_CHECK(saved >= 2);
  NECO_CHECK_EQ(static_cast<std::int64_t>(losses(w / "run").size()), saved);
  NECO_CHECK(tail(w / "log").find("--resume") != std::string::npos);
  NECO_CHECK_EQ(run(resumeRun(w / "run", static_cast<int>(saved) + 1), w / "log"), 0);
  // a new run in a folder that holds one is refused (exit 2), nothing there is touched
  const std::string before = fileBytes(w / "run/metrics.jsonl");
  NECO_CHECK_EQ(run(tinyRun(w / "run", 5, 5), w / "log2"), 2);
  NECO_CHECK(tail(w / "log2").find("already holds a run") != std::string::npos);
  NECO_CHECK(fileBytes(w / "run/metrics.jsonl") == before);
}

#pragma once
// Crash-safe checkpoints of a training run with everything an exact resume needs (RELIABILITY.md,
// promises 1 and 2): student, teacher, AdamW's moments and step counts, the step counter, the queue
// and its fill counters, the step's own RNGs (every draw of a step comes from them), and the run's counters.
//
// Layout of a checkpoint folder (one per saved step):
//   <dir>/step-000000001200/state.safetensors   all tensors; counters in its metadata
//   <dir>/step-000000001200/manifest.json       written last: size and SHA-256 of state.safetensors
//   <dir>/latest                                the name of the newest committed checkpoint
// Commit protocol: write into <dir>/.tmp-step-<N>-<pid>/, fsync every file, write the manifest,
// fsync, rename the folder to step-<N>, fsync <dir>, replace `latest` atomically. A crash at any
// point leaves every earlier committed checkpoint intact; readers trust only folders whose
// manifest verifies, clean up temporaries, and fall back to a folder scan when `latest` is missing,
// corrupt or points at something that does not verify.

#include "train/NecoStep.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace neco::train {

struct RunCounters {
  std::int64_t step = 0;            ///< steps completed = the next step to run
  std::int64_t skippedSteps = 0;    ///< non-finite steps skipped so far
  int nonFiniteRun = 0;             ///< consecutive skipped steps at the end
  std::int64_t skippedSamples = 0;  ///< images the loader replaced so far
  std::string configFingerprint;    ///< of the settings a resume must not change
};

/// Checkpoint folder name for `step`: "step-000000001200".
std::string checkpointName(std::int64_t step);

class CheckpointStore {
 public:
  /// Creates `dir` (and parents) when missing. Throws IoError.
  explicit CheckpointStore(std::filesystem::path dir);

  /// Saves `step`'s complete state with the commit protocol and points `latest` at it. Saving a step
  /// that already has a committed checkpoint keeps the existing one. Returns the checkpoint folder.
  /// Throws IoError (nothing committed; the temporary is removed).
  std::filesystem::path save(NecoStep& step, const RunCounters& counters);

  /// The newest committed checkpoint whose manifest verifies, or nullopt. Read-only (safe while a
  /// trainer writes). `notes` receives what was skipped and why (corrupt `latest`, unverifiable folders).
  std::optional<std::filesystem::path> latest(std::vector<std::string>* notes = nullptr) const;

  /// Removes the temporaries crashed saves left behind. Only the run's owner calls it, before training.
  void removeTemporaries(std::vector<std::string>* notes = nullptr) const;

  /// Removes committed checkpoints beyond the newest `keep` (never the one `latest` names).
  void prune(int keep) const;

  /// Every committed checkpoint folder, oldest first (not verified).
  std::vector<std::filesystem::path> list() const;

  const std::filesystem::path& dir() const noexcept { return dir_; }

  /// Throws FormatError naming the file when the manifest is missing or malformed or a file's size or
  /// SHA-256 differs.
  static void verify(const std::filesystem::path& checkpoint);

  /// Verifies `checkpoint` and restores it into `step`, which must have been built with the same
  /// architecture and settings. Returns the run counters. Throws FormatError (verification, missing
  /// or unexpected tensors, shape or dtype mismatch), IoError, and InvalidArgumentError -- before
  /// anything is modified -- when `expectedFingerprint` is non-empty and differs from the saved one.
  static RunCounters load(const std::filesystem::path& checkpoint, NecoStep& step,
                          const std::string& expectedFingerprint = {});

 private:
  std::filesystem::path dir_;
};

/// Test hook at the OS boundary: when the environment variable NECO_FAULT equals `point`, the process
/// kills itself with SIGKILL right there (a crash between two writes). Points in a save, in order:
/// "checkpoint.state", "checkpoint.manifest", "checkpoint.rename", "checkpoint.latest".
void faultPoint(const char* point);

}  // namespace neco::train

#pragma once
// Builds the `neco` command tree and runs it. Each subcommand lives in its own file and registers
// itself through a `add*Command` function; this file owns only global options and error mapping.

#include "neco/core/Checkpoint.h"
#include "neco/core/FeatureExtractor.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

namespace neco::cli {

/// What a subcommand runs after parsing; returns an exit status from ExitCodes.h.
using CommandAction = std::function<int()>;

/// The selected subcommand's action (set from its callback, run after logging is configured).
struct CommandSlot {
  CommandAction action;
};

void addInfoCommand(CLI::App& app, CommandSlot& slot);
void addDemoDataCommand(CLI::App& app, CommandSlot& slot);
void addCheckpointCommands(CLI::App& app, CommandSlot& slot);
void addFetchWeightsCommand(CLI::App& app, CommandSlot& slot);
void addBenchCommand(CLI::App& app, CommandSlot& slot);
void addTrainCommand(CLI::App& app, CommandSlot& slot);
void addEvalCommand(CLI::App& app, CommandSlot& slot);

/// The checkpoint options every model-loading command shares (--part, --arch, --registers, ...).
void addCheckpointOptions(CLI::App* cmd, CheckpointOptions& options, bool& nonStrict);
/// The checkpoint's backbone, or the built-in demo model for an empty path; an unreadable (refused)
/// checkpoint becomes a plain Error (exit 1).
std::unique_ptr<FeatureExtractor> loadExtractor(const std::string& checkpoint, CheckpointOptions options, bool nonStrict);

/// Parses argv and runs the chosen command. Never throws: every error becomes a message on stderr
/// and an exit status.
int runCli(int argc, char** argv);

}  // namespace neco::cli

#pragma once
// Builds the `neco` command tree and runs it. Each subcommand lives in its own file and registers
// itself through a `add*Command` function; this file owns only global options and error mapping.

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
void addPlannedCommands(CLI::App& app, CommandSlot& slot);

/// Parses argv and runs the chosen command. Never throws: every error becomes a message on stderr
/// and an exit status.
int runCli(int argc, char** argv);

}  // namespace neco::cli

// Subcommands whose engines land with later work. They are part of the command tree now so that
// scripts and `neco --help` already show the final shape; running one says plainly that this
// version does not have it yet and exits with kExitUnavailable (3), never pretending to succeed.
#include "CliApp.h"
#include "ExitCodes.h"
#include "neco/core/BuildInfo.h"

#include <spdlog/spdlog.h>

#include <string>

namespace neco::cli {
namespace {

struct Planned {
  const char* name;
  const char* description;
  const char* capability;
};

constexpr Planned kPlanned[] = {
    {"eval", "Dense evaluation: overclustering, linear probe, nearest-neighbour retrieval", "dense evaluation"},
};

}  // namespace

void addPlannedCommands(CLI::App& app, CommandSlot& slot) {
  for (const Planned& p : kPlanned) {
    auto* cmd = app.add_subcommand(p.name, std::string(p.description) + " [not in this version yet]");
    cmd->allow_extras();
    cmd->callback([&slot, p] {
      slot.action = [p] {
        spdlog::error("neco {}: {} is not part of neco {} yet", p.name, p.capability, buildInfo().version);
        return kExitUnavailable;
      };
    });
  }
}

}  // namespace neco::cli

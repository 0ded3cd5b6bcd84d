#include "CliApp.h"

#include "ExitCodes.h"
#include "neco/core/BuildInfo.h"
#include "neco/core/Error.h"
#include "neco/core/Log.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

namespace neco::cli {
namespace {

constexpr const char* kFooter = R"(Exit status: 0 success, 1 the command failed, 2 bad command line,
3 not available in this build/version, 130 interrupted (state saved).
Logs: console (stderr) and a rotating file in $XDG_STATE_HOME/neco-studio/logs.)";

struct GlobalOptions {
  std::string logLevel = "info";
  bool noLogFile = false;
  int threads = 0;
};

}  // namespace

int runCli(int argc, char** argv) {
  CLI::App app{"neco — NeCo post-training of vision transformers: train, evaluate, inspect."};
  app.name("neco");
  app.footer(kFooter);
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("neco ") + buildInfo().version);

  GlobalOptions global;
  app.add_option("--log-level", global.logLevel, "Log level: trace, debug, info, warn, error, critical, off")
      ->check([](const std::string& level) -> std::string {
        try {
          parseLogLevel(level);
          return {};
        } catch (const InvalidArgumentError& e) {
          return e.what();
        }
      });
  app.add_flag("--no-log-file", global.noLogFile, "Do not write the rotating log file");
  app.add_option("--threads", global.threads, "Compute threads (0 = all cores)")->check(CLI::NonNegativeNumber);

  CommandSlot slot;
  addInfoCommand(app, slot);
  addDemoDataCommand(app, slot);
  addCheckpointCommands(app, slot);
  addFetchWeightsCommand(app, slot);
  addBenchCommand(app, slot);
  addTrainCommand(app, slot);
  addEvalCommand(app, slot);
  // After the subcommands exist (they would inherit it): unknown words are collected and reported
  // below with the offending word named.
  app.allow_extras();

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and the usage hint
    return kExitUsage;
  }
  if (!app.remaining().empty()) {
    const std::string word = app.remaining().front();
    std::fprintf(stderr, "neco: unknown %s '%s' (see neco --help)\n", word.rfind('-', 0) == 0 ? "option" : "command",
                 word.c_str());
    return kExitUsage;
  }
  if (app.get_subcommands().empty()) {
    std::fprintf(stderr, "neco: a command is required (see neco --help)\n");
    return kExitUsage;
  }

  try {
    LogOptions logOptions;
    logOptions.level = global.logLevel;
    logOptions.file = !global.noLogFile;
    configureLogging(logOptions);
    setComputeThreads(global.threads);
    if (!slot.action) return kExitUsage;
    return slot.action();
  } catch (const InvalidArgumentError& e) {
    spdlog::error("{}", e.what());
    return kExitUsage;
  } catch (const UnsupportedError& e) {
    spdlog::error("{}", e.what());
    return kExitUnavailable;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  } catch (...) {
    std::fputs("neco: unknown error\n", stderr);
    return kExitFailure;
  }
}

}  // namespace neco::cli

#pragma once
// The one place that configures logging. Every component logs through spdlog's default logger;
// configureLogging() installs a console sink and a rotating file in the XDG state directory, and
// front ends may add their own sinks (the studio's log panel is one).

#include <spdlog/common.h>
#include <spdlog/sinks/sink.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace neco {

struct LogOptions {
  std::string level = "info";              ///< trace, debug, info, warn, error, critical, off
  bool console = true;                     ///< colour console sink on stderr
  bool file = true;                        ///< rotating file (5 MiB x 3) in logDirectory()
  std::filesystem::path directory;         ///< empty: logDirectory()
  std::string fileName = "neco.log";
};

/// Parses a level name (case-insensitive). Throws InvalidArgumentError listing the valid names.
spdlog::level::level_enum parseLogLevel(std::string_view name);

/// The valid level names, most verbose first.
const std::vector<std::string>& logLevelNames();

/// Installs the default logger "neco" with the requested sinks, replacing any earlier configuration.
/// A file sink that cannot be created (read-only home, ...) is reported on the console and skipped:
/// logging must never stop the program. Throws InvalidArgumentError for an unknown level.
void configureLogging(const LogOptions& options);

/// Changes the level of the default logger and of every sink (CLI flag, studio menu).
void setLogLevel(spdlog::level::level_enum level);

/// Adds a sink to the default logger (e.g. the studio's log panel). Thread-safe sinks only.
void addLogSink(std::shared_ptr<spdlog::sinks::sink> sink);

/// Removes a sink added with addLogSink (no-op if absent).
void removeLogSink(const std::shared_ptr<spdlog::sinks::sink>& sink);

/// The file the rotating sink writes to (empty when file logging is off or failed).
std::filesystem::path logFilePath();

}  // namespace neco

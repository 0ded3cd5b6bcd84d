#include "neco/core/Log.h"

#include "neco/core/Error.h"
#include "neco/core/Paths.h"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace neco {
namespace {

std::mutex& stateMutex() {
  static std::mutex m;
  return m;
}

// All sinks hang off one dist_sink, whose add/remove are thread-safe: front ends may attach a sink
// while worker threads are logging.
std::shared_ptr<spdlog::sinks::dist_sink_mt>& rootSink() {
  static auto sink = std::make_shared<spdlog::sinks::dist_sink_mt>();
  return sink;
}

std::filesystem::path& currentLogFile() {
  static std::filesystem::path p;
  return p;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

const std::vector<std::string>& logLevelNames() {
  static const std::vector<std::string> names{"trace", "debug", "info", "warn", "error", "critical", "off"};
  return names;
}

spdlog::level::level_enum parseLogLevel(std::string_view name) {
  const std::string lower = lowercase(name);
  const auto& names = logLevelNames();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == lower) return static_cast<spdlog::level::level_enum>(i);
  }
  if (lower == "warning") return spdlog::level::warn;
  std::string valid;
  for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
  throw InvalidArgumentError("unknown log level '" + std::string(name) + "' (valid: " + valid + ")");
}

void configureLogging(const LogOptions& options) {
  const spdlog::level::level_enum level = parseLogLevel(options.level);
  std::lock_guard<std::mutex> lock(stateMutex());
  std::vector<spdlog::sink_ptr> sinks;
  if (options.console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());

  std::string fileProblem;
  currentLogFile().clear();
  if (options.file) {
    const std::filesystem::path dir = options.directory.empty() ? stateDirectory() / "logs" : options.directory;
    const std::filesystem::path file = dir / options.fileName;
    try {
      std::filesystem::create_directories(dir);
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(file.string(), 5 * 1024 * 1024, 3));
      currentLogFile() = file;
    } catch (const std::exception& e) {
      fileProblem = "cannot log to " + file.string() + ": " + e.what();
    }
  }

  rootSink()->set_sinks(sinks);
  auto logger = std::make_shared<spdlog::logger>("neco", rootSink());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] [%t] %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  if (!fileProblem.empty()) spdlog::warn("{}", fileProblem);
}

void setLogLevel(spdlog::level::level_enum level) { spdlog::default_logger()->set_level(level); }

void addLogSink(std::shared_ptr<spdlog::sinks::sink> sink) {
  std::lock_guard<std::mutex> lock(stateMutex());
  rootSink()->remove_sink(sink);  // adding twice would duplicate every message
  rootSink()->add_sink(std::move(sink));
}

void removeLogSink(const std::shared_ptr<spdlog::sinks::sink>& sink) {
  std::lock_guard<std::mutex> lock(stateMutex());
  rootSink()->remove_sink(sink);
}

std::filesystem::path logFilePath() {
  std::lock_guard<std::mutex> lock(stateMutex());
  return currentLogFile();
}

}  // namespace neco

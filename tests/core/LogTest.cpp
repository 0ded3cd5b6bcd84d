#include "NecoTest.h"
#include "neco/core/Error.h"
#include "neco/core/Log.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

NECO_TEST(Log, parsesEveryLevelAndRejectsUnknown) {
  NECO_CHECK(neco::parseLogLevel("trace") == spdlog::level::trace);
  NECO_CHECK(neco::parseLogLevel("WARN") == spdlog::level::warn);
  NECO_CHECK(neco::parseLogLevel("warning") == spdlog::level::warn);
  NECO_CHECK(neco::parseLogLevel("off") == spdlog::level::off);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::parseLogLevel("loud"));
  try {
    neco::parseLogLevel("loud");
  } catch (const neco::InvalidArgumentError& e) {
    const std::string msg = e.what();
    NECO_CHECK(msg.find("loud") != std::string::npos);
    NECO_CHECK(msg.find("debug") != std::string::npos);  // lists the valid names
  }
}

NECO_TEST(Log, writesRotatingFileAndExtraSinksAtTheConfiguredLevel) {
  const fs::path dir = fs::temp_directory_path() / ("neco-log-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  neco::LogOptions options;
  options.level = "info";
  options.console = false;
  options.directory = dir;
  neco::configureLogging(options);
  NECO_CHECK(neco::logFilePath() == dir / "neco.log");

  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  neco::addLogSink(sink);
  neco::addLogSink(sink);  // adding twice must not duplicate lines
  spdlog::debug("hidden-debug-line");
  spdlog::info("visible-info-line");
  neco::setLogLevel(spdlog::level::debug);
  spdlog::debug("now-visible-debug");
  neco::removeLogSink(sink);
  spdlog::info("after-removal");
  spdlog::default_logger()->flush();

  const std::string text = captured.str();
  NECO_CHECK(text.find("hidden-debug-line") == std::string::npos);
  NECO_CHECK(text.find("visible-info-line") != std::string::npos);
  NECO_CHECK(text.find("visible-info-line") == text.rfind("visible-info-line"));
  NECO_CHECK(text.find("now-visible-debug") != std::string::npos);
  NECO_CHECK(text.find("after-removal") == std::string::npos);

  std::ifstream file(dir / "neco.log");
  std::stringstream fileText;
  fileText << file.rdbuf();
  NECO_CHECK(fileText.str().find("visible-info-line") != std::string::npos);
  NECO_CHECK(fileText.str().find("after-removal") != std::string::npos);
  fs::remove_all(dir);
}

NECO_TEST(Log, unwritableDirectoryDoesNotStopLogging) {
  neco::LogOptions options;
  options.console = false;
  options.directory = "/proc/neco-cannot-create-this";
  neco::configureLogging(options);  // must not throw
  NECO_CHECK(neco::logFilePath().empty());
  spdlog::info("still works");
}

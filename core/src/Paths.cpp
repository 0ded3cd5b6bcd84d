#include "neco/core/Paths.h"

#include <cstdlib>
#include <string>

namespace neco {
namespace {

constexpr const char* kAppFolder = "neco-studio";

std::filesystem::path homeDirectory() {
  const char* home = std::getenv("HOME");
  if (home && *home) return home;
  return std::filesystem::temp_directory_path();  // no HOME (daemons, CI): still somewhere writable
}

// The spec says a relative path in an XDG variable is invalid and must be ignored.
std::filesystem::path xdgBase(const char* variable, const std::filesystem::path& fallbackUnderHome) {
  const char* value = std::getenv(variable);
  if (value && *value) {
    std::filesystem::path p(value);
    if (p.is_absolute()) return p;
  }
  return homeDirectory() / fallbackUnderHome;
}

}  // namespace

std::filesystem::path stateDirectory() { return xdgBase("XDG_STATE_HOME", ".local/state") / kAppFolder; }
std::filesystem::path dataDirectory() { return xdgBase("XDG_DATA_HOME", ".local/share") / kAppFolder; }
std::filesystem::path cacheDirectory() { return xdgBase("XDG_CACHE_HOME", ".cache") / kAppFolder; }
std::filesystem::path defaultDemoDatasetDirectory() { return dataDirectory() / "demo-voc"; }

}  // namespace neco

#include "NecoTest.h"
#include "neco/core/Paths.h"

#include <cstdlib>
#include <string>

NECO_TEST(Paths, followsXdgVariablesAndIgnoresRelativeOnes) {
  const std::string savedState = std::getenv("XDG_STATE_HOME") ? std::getenv("XDG_STATE_HOME") : "";
  const std::string savedHome = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("HOME", "/home/tester", 1);
  ::setenv("XDG_STATE_HOME", "/var/xdg-state", 1);
  ::setenv("XDG_DATA_HOME", "relative/data", 1);  // invalid per spec: ignored
  ::unsetenv("XDG_CACHE_HOME");
  NECO_CHECK(neco::stateDirectory() == "/var/xdg-state/neco-studio");
  NECO_CHECK(neco::dataDirectory() == "/home/tester/.local/share/neco-studio");
  NECO_CHECK(neco::cacheDirectory() == "/home/tester/.cache/neco-studio");
  NECO_CHECK(neco::defaultDemoDatasetDirectory() == "/home/tester/.local/share/neco-studio/demo-voc");
  ::setenv("HOME", savedHome.c_str(), 1);
  if (savedState.empty()) ::unsetenv("XDG_STATE_HOME"); else ::setenv("XDG_STATE_HOME", savedState.c_str(), 1);
  ::unsetenv("XDG_DATA_HOME");
}

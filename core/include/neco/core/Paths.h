#pragma once
// Per-user directories following the XDG Base Directory specification, with the application's
// sub-folder appended ("neco-studio"). Nothing here creates directories; callers do when writing.

#include <filesystem>

namespace neco {

/// $XDG_STATE_HOME/neco-studio, default ~/.local/state/neco-studio (logs, session autosave).
std::filesystem::path stateDirectory();

/// $XDG_DATA_HOME/neco-studio, default ~/.local/share/neco-studio (the generated demo dataset).
std::filesystem::path dataDirectory();

/// $XDG_CACHE_HOME/neco-studio, default ~/.cache/neco-studio (downloaded weights, feature caches).
std::filesystem::path cacheDirectory();

/// Where the studio generates the demo dataset on first run: dataDirectory()/demo-voc.
std::filesystem::path defaultDemoDatasetDirectory();

}  // namespace neco

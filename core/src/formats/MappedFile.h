#pragma once
// Read-only memory mapping of a whole file, returned as a ByteView whose owner unmaps on release.
// Checkpoints can be gigabytes (ViT-g is 4.4 GB): tensors point into the mapping instead of a copy.

#include "formats/RawTensor.h"

#include <filesystem>

namespace neco::formats {

/// Maps `path` read-only. Throws IoError (cannot open/stat/map, naming the OS reason) or
/// FormatError for a directory. An empty file gives an empty view.
ByteView mapFile(const std::filesystem::path& path);

}  // namespace neco::formats

#pragma once
// Turns the public CheckpointOptions into MappingOptions (named architecture -> heads, registers,
// interpolation) and checks a requested architecture against what the shapes say.

#include "checkpoint/KeyMapping.h"
#include "neco/core/Checkpoint.h"

#include <filesystem>

namespace neco::checkpoint {

/// Throws InvalidArgumentError for unknown part / architecture / interpolation names.
MappingOptions mappingFromOptions(const CheckpointOptions& options);

/// When options.architecture names one, throws FormatError if the detected width, depth, patch size
/// or MLP differ from it.
void verifyArchitecture(const MappedCheckpoint& mapped, const CheckpointOptions& options, const std::filesystem::path& path);

/// Same text as BackboneLoader's describeKeyProblems, torch-free.
std::string describeKeys(const KeyComparison& keys, std::size_t limit = 8);

}  // namespace neco::checkpoint

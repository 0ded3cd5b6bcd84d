#include "checkpoint/MappingFromOptions.h"

#include "neco/core/Error.h"

namespace neco::checkpoint {

MappingOptions mappingFromOptions(const CheckpointOptions& options) {
  MappingOptions m;
  m.part = options.part;
  m.numRegisters = options.numRegisters;
  m.numHeads = options.numHeads;
  if (!options.architecture.empty()) {
    const nn::ViTConfig named = nn::ViTConfig::named(options.architecture);
    if (m.numHeads == 0) m.numHeads = named.numHeads;
    if (m.numRegisters < 0) m.numRegisters = named.numRegisters;
    m.interpolation = named.interpolation;
    m.architecture = options.architecture;
  }
  if (!options.interpolation.empty()) m.interpolation = nn::parseInterpolation(options.interpolation);
  if (options.numRegisters < -1) throw InvalidArgumentError("registers must be >= 0");
  if (options.numHeads < 0) throw InvalidArgumentError("heads must be > 0");
  return m;
}

void verifyArchitecture(const MappedCheckpoint& mapped, const CheckpointOptions& options,
                        const std::filesystem::path& path) {
  if (options.architecture.empty()) return;
  const nn::ViTConfig want = nn::ViTConfig::named(options.architecture);
  const nn::ViTConfig& got = mapped.config;
  if (want.embedDim != got.embedDim || want.depth != got.depth || want.patchSize != got.patchSize ||
      want.mlp != got.mlp || want.layerScale != got.layerScale) {
    throw FormatError(path, "checkpoint is " + got.summary() + ", not " + options.architecture + " (" +
                                want.summary() + ")");
  }
}

std::string describeKeys(const KeyComparison& keys, std::size_t limit) {
  std::string s;
  auto add = [&](const std::vector<std::string>& names, const char* what) {
    if (names.empty()) return;
    std::string list;
    for (std::size_t i = 0; i < names.size() && i < limit; ++i) list += (i ? ", " : "") + names[i];
    if (names.size() > limit) list += ", ... " + std::to_string(names.size() - limit) + " more";
    s += (s.empty() ? "" : "; ") + std::to_string(names.size()) + " " + what + " (" + list + ")";
  };
  add(keys.missing, "missing");
  add(keys.unexpected, "unexpected");
  add(keys.mismatched, "mismatched");
  return s;
}

}  // namespace neco::checkpoint

#include "neco/core/Checkpoint.h"

#include "checkpoint/CheckpointSource.h"
#include "checkpoint/KeyMapping.h"
#include "checkpoint/MappingFromOptions.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"

#include <spdlog/spdlog.h>

namespace neco {

namespace fs = std::filesystem;

namespace {

std::int64_t parameterCount(const nn::ViTConfig& c) {
  std::int64_t n = 0;
  for (const auto& [name, shape] : checkpoint::expectedParameters(c)) {
    std::int64_t k = 1;
    for (auto s : shape) k *= s;
    n += k;
  }
  return n;
}

CheckpointReport makeReport(const checkpoint::SourceCheckpoint& source, const checkpoint::MappedCheckpoint& mapped,
                            const checkpoint::KeyComparison& keys) {
  CheckpointReport r;
  r.path = source.path;
  r.format = source.format;
  r.layout = mapped.layout;
  r.stateDict = mapped.stateDictPath;
  r.part = mapped.part;
  r.prefix = mapped.prefix;
  const nn::ViTConfig& c = mapped.config;
  r.model = {c.name, c.patchSize, c.embedDim, c.depth, c.numHeads, c.numRegisters, parameterCount(c), source.path.string()};
  r.architecture = c.summary();
  r.interpolation = nn::interpolationName(c.interpolation);
  r.posEmbedGrid = c.posEmbedGrid;
  r.fileTensors = source.fileTensorCount;
  r.backboneTensors = static_cast<std::int64_t>(mapped.backbone.size());
  r.projectionHeadTensors = static_cast<std::int64_t>(mapped.projectionHead.size());
  for (const auto& sd : source.stateDicts) {
    r.stateDicts.push_back((sd.path.empty() ? std::string("(root)") : sd.path) + " (" +
                           std::to_string(sd.tensors.size()) + " tensors)");
  }
  r.missing = keys.missing;
  r.unexpected = keys.unexpected;
  r.mismatched = keys.mismatched;
  r.filled = keys.filled;
  r.ignored = mapped.ignored;
  r.notes = mapped.notes;
  r.opaqueObjects = source.opaqueObjects;
  r.metadata = source.metadata;
  return r;
}

}  // namespace

std::vector<std::string> knownArchitectures() { return nn::ViTConfig::knownNames(); }

CheckpointReport inspectCheckpoint(const fs::path& path, const CheckpointOptions& options) {
  const auto source = checkpoint::openCheckpoint(path);
  const auto mapped = checkpoint::mapCheckpoint(source, checkpoint::mappingFromOptions(options));
  checkpoint::verifyArchitecture(mapped, options, path);
  return makeReport(source, mapped, checkpoint::compareKeys(mapped.backbone, mapped.config));
}

CheckpointReport convertCheckpoint(const fs::path& in, const fs::path& out, const CheckpointOptions& options,
                                   bool keepProjectionHead, bool overwrite) {
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (fs::equivalent(in, out, ec)) throw InvalidArgumentError("convert: output " + out.string() + " is the input file");
    if (!overwrite) throw InvalidArgumentError("convert: " + out.string() + " exists (pass --force to replace it)");
  }
  const auto source = checkpoint::openCheckpoint(in);
  const auto mapped = checkpoint::mapCheckpoint(source, checkpoint::mappingFromOptions(options));
  checkpoint::verifyArchitecture(mapped, options, in);
  const auto keys = checkpoint::compareKeys(mapped.backbone, mapped.config);
  if (!keys.clean() && options.strict) {
    throw FormatError(in, "checkpoint does not match " + mapped.config.summary() + ": " +
                              checkpoint::describeKeys(keys) + " (convert anyway with --non-strict)");
  }
  // Canonical order: the model's parameter order, then the projection head.
  formats::TensorList tensors;
  for (const auto& [name, shape] : checkpoint::expectedParameters(mapped.config)) {
    for (const auto& t : mapped.backbone) {
      if (t.name == name) tensors.push_back(t);
    }
  }
  if (keepProjectionHead) {
    for (const auto& t : mapped.projectionHead) tensors.push_back(t);
  }
  const nn::ViTConfig& c = mapped.config;
  const formats::Metadata metadata = {
      {"format", "neco-backbone"},
      {"architecture", c.name},
      {"family", c.family},
      {"patch_size", std::to_string(c.patchSize)},
      {"embed_dim", std::to_string(c.embedDim)},
      {"depth", std::to_string(c.depth)},
      {"num_heads", std::to_string(c.numHeads)},
      {"num_registers", std::to_string(c.numRegisters)},
      {"layer_scale", c.layerScale ? "1" : "0"},
      {"mlp", c.mlp == nn::MlpKind::SwiGlu ? "swiglu" : "gelu"},
      {"pos_grid", std::to_string(c.posEmbedGrid)},
      {"interpolation", nn::interpolationName(c.interpolation)},
      {"source", in.filename().string()},
      {"source_layout", mapped.layout},
      {"source_part", mapped.part}};
  formats::writeSafetensors(out, tensors, metadata);
  spdlog::info("converted {} ({}) -> {}: {} tensors", in.string(), mapped.layout, out.string(), tensors.size());
  auto report = makeReport(source, mapped, keys);
  return report;
}

}  // namespace neco

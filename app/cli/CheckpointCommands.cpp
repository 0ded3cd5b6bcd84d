// `neco inspect CKPT`, `neco convert IN OUT.safetensors`, `neco features --checkpoint C --image I`:
// the checkpoint side of the CLI. Every checkpoint option is shared so the three commands agree on
// which network, architecture and interpolation a file means.
#include "CliApp.h"
#include "ExitCodes.h"
#include "neco/core/Checkpoint.h"
#include "neco/core/Error.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/ImageIo.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

namespace neco::cli {

void addCheckpointOptions(CLI::App* cmd, CheckpointOptions& o, bool& nonStrict) {
  cmd->add_option("--part", o.part, "Which network of a two-network checkpoint: auto, student, teacher")
      ->check(CLI::IsMember({"auto", "student", "teacher"}));
  cmd->add_option("--arch", o.architecture, "Expected architecture (e.g. dinov2_vits14_reg); default: from shapes")
      ->check(CLI::IsMember(knownArchitectures()));
  cmd->add_option("--registers", o.numRegisters, "Register tokens the model uses (0 = XR: ignore stored registers)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--heads", o.numHeads, "Attention heads (default: metadata or the released widths)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--interpolation", o.interpolation,
                  "Position-embedding interpolation: offset (NeCo/DINO), antialias (DINOv2-reg/HF/timm), size (HF Dinov2Model)")
      ->check(CLI::IsMember({"offset", "antialias", "size"}));
  cmd->add_flag("--non-strict", nonStrict, "Load even when keys are missing, unexpected or mismatched (reported)");
}

std::unique_ptr<FeatureExtractor> loadExtractor(const std::string& checkpoint, CheckpointOptions options, bool nonStrict) {
  if (checkpoint.empty()) return FeatureExtractor::createDemo();
  options.strict = !nonStrict;
  // A checkpoint we refuse to read (an unsafe pickle object, an unsupported dtype) is a failed
  // command (exit 1) like any other bad file, not a missing feature of this build (exit 3).
  try {
    return FeatureExtractor::fromCheckpoint(checkpoint, options);
  } catch (const UnsupportedError& e) {
    throw Error(e.what());
  }
}

namespace {

template <typename F>
auto readingCheckpoint(F&& f) {
  try {
    return f();
  } catch (const UnsupportedError& e) {
    throw Error(e.what());
  }
}

std::string listOrNone(const std::vector<std::string>& v, std::size_t limit = 12) {
  if (v.empty()) return "none";
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < limit; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > limit) s += ", ... (" + std::to_string(v.size() - limit) + " more)";
  return s;
}

nlohmann::json toJson(const CheckpointReport& r) {
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : r.metadata) meta[k] = v;
  return {{"path", r.path.string()},
          {"format", r.format},
          {"layout", r.layout},
          {"state_dict", r.stateDict},
          {"part", r.part},
          {"prefix", r.prefix},
          {"architecture", r.model.name},
          {"summary", r.architecture},
          {"patch_size", r.model.patchSize},
          {"embed_dim", r.model.embedDim},
          {"depth", r.model.depth},
          {"num_heads", r.model.numHeads},
          {"num_registers", r.model.numRegisters},
          {"pos_grid", r.posEmbedGrid},
          {"interpolation", r.interpolation},
          {"parameters", r.model.parameterCount},
          {"file_tensors", r.fileTensors},
          {"backbone_tensors", r.backboneTensors},
          {"projection_head_tensors", r.projectionHeadTensors},
          {"state_dicts", r.stateDicts},
          {"matches", r.matches()},
          {"missing", r.missing},
          {"unexpected", r.unexpected},
          {"mismatched", r.mismatched},
          {"filled", r.filled},
          {"ignored", r.ignored},
          {"notes", r.notes},
          {"opaque_objects", r.opaqueObjects},
          {"metadata", meta}};
}

void printReport(const CheckpointReport& r) {
  std::printf("%s\n", r.path.c_str());
  std::printf("  format          %s\n", r.format.c_str());
  std::printf("  layout          %s%s%s\n", r.layout.c_str(), r.part.empty() ? "" : ", part ", r.part.c_str());
  std::printf("  state dict      %s (prefix '%s'); all: %s\n", r.stateDict.empty() ? "(root)" : r.stateDict.c_str(),
              r.prefix.c_str(), listOrNone(r.stateDicts).c_str());
  std::printf("  architecture    %s: %s\n", r.model.name.c_str(), r.architecture.c_str());
  std::printf("  positions       %dx%d grid, %s interpolation\n", r.posEmbedGrid, r.posEmbedGrid, r.interpolation.c_str());
  std::printf("  parameters      %lld backbone (%lld tensors; %lld projection-head tensors; %lld tensors in the file)\n",
              static_cast<long long>(r.model.parameterCount), static_cast<long long>(r.backboneTensors),
              static_cast<long long>(r.projectionHeadTensors), static_cast<long long>(r.fileTensors));
  std::printf("  keys            %s\n", r.matches() ? "match the architecture" : "DO NOT match (see below)");
  std::printf("    missing       %s\n", listOrNone(r.missing).c_str());
  std::printf("    unexpected    %s\n", listOrNone(r.unexpected).c_str());
  std::printf("    mismatched    %s\n", listOrNone(r.mismatched).c_str());
  std::printf("    filled        %s\n", listOrNone(r.filled).c_str());
  std::printf("    ignored       %s\n", listOrNone(r.ignored, 6).c_str());
  for (const auto& n : r.notes) std::printf("  note            %s\n", n.c_str());
  if (!r.opaqueObjects.empty()) {
    std::printf("  skipped objects %s (not executed)\n", listOrNone(r.opaqueObjects).c_str());
  }
}

void addInspect(CLI::App& app, CommandSlot& slot) {
  struct Args {
    std::string path;
    CheckpointOptions options;
    bool nonStrict = false;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("inspect", "Describe a checkpoint: format, layout, architecture, parameters, keys");
  cmd->add_option("checkpoint", args->path, "Checkpoint file or Hugging Face folder")->required();
  addCheckpointOptions(cmd, args->options, args->nonStrict);
  cmd->add_flag("--json", args->json, "Machine-readable output");
  cmd->callback([&slot, args] {
    slot.action = [args] {
      const CheckpointReport r = readingCheckpoint([&] { return inspectCheckpoint(args->path, args->options); });
      if (args->json) std::printf("%s\n", toJson(r).dump(2).c_str());
      else printReport(r);
      return r.matches() ? kExitOk : kExitFailure;
    };
  });
}

void addConvert(CLI::App& app, CommandSlot& slot) {
  struct Args {
    std::string in, out;
    CheckpointOptions options;
    bool nonStrict = false;
    bool dropHead = false;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("convert", "Convert a checkpoint to safetensors under the canonical DINOv2 names");
  cmd->add_option("input", args->in, "Checkpoint file or Hugging Face folder")->required();
  cmd->add_option("output", args->out, "Output .safetensors file")->required();
  addCheckpointOptions(cmd, args->options, args->nonStrict);
  cmd->add_option("--family", args->options.architecture, "Same as --arch")->check(CLI::IsMember(knownArchitectures()));
  cmd->add_flag("--drop-head", args->dropHead, "Do not copy the NeCo projection head");
  cmd->add_flag("--force", args->force, "Replace an existing output file");
  cmd->callback([&slot, args] {
    slot.action = [args] {
      args->options.strict = !args->nonStrict;
      const CheckpointReport r = readingCheckpoint(
          [&] { return convertCheckpoint(args->in, args->out, args->options, !args->dropHead, args->force); });
      std::printf("%s -> %s: %s, %lld tensors%s\n", args->in.c_str(), args->out.c_str(), r.architecture.c_str(),
                  static_cast<long long>(r.backboneTensors + (args->dropHead ? 0 : r.projectionHeadTensors)),
                  r.matches() ? "" : " (keys did not match; converted non-strictly)");
      return kExitOk;
    };
  });
}

void addFeatures(CLI::App& app, CommandSlot& slot) {
  struct Args {
    std::string checkpoint, image, out;
    int size = 448;
    int layer = 0;
    bool normalise = false;
    bool force = false;
    CheckpointOptions options;
    bool nonStrict = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("features", "Extract the patch tokens of one image to safetensors");
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint (default: the built-in demo model)");
  cmd->add_option("--image", args->image, "Input image (PNG or JPEG)")->required();
  cmd->add_option("--size", args->size, "Square input side in pixels (floored to whole patches)")
      ->check(CLI::Range(8, 4096));
  cmd->add_option("--out", args->out, "Output .safetensors (patch_tokens (gh, gw, D), cls, registers)")->required();
  cmd->add_option("--layer", args->layer,
                  "Block whose output to save, 1-based, through the final norm (default: the last)")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--normalise", args->normalise, "L2-normalise every patch token");
  cmd->add_flag("--force", args->force, "Replace an existing output file");
  addCheckpointOptions(cmd, args->options, args->nonStrict);
  cmd->callback([&slot, args] {
    slot.action = [args] {
      args->options.strict = !args->nonStrict;
      const RgbImage image = readImage(args->image);
      const std::shared_ptr<const FeatureExtractor> model =
          args->checkpoint.empty()
              ? FeatureExtractor::createDemo()
              : readingCheckpoint([&] { return FeatureExtractor::fromCheckpoint(args->checkpoint, args->options); });
      const auto extractor = model->atLayer(args->layer);  // InvalidArgumentError names a missing block
      const PatchFeatures f = extractor->extract(image, args->size, args->normalise);
      const ModelDescription m = extractor->describe();
      saveFeatures(args->out, f,
                   {{"checkpoint", args->checkpoint.empty() ? std::string("demo") : args->checkpoint},
                    {"architecture", m.name},
                    {"layer", std::to_string(f.layer)},
                    {"image", args->image}},
                   args->force);
      std::printf("%s: %dx%d patch tokens of dim %d from block %d of %d (input %dx%d) -> %s\n", args->image.c_str(),
                  f.gridH, f.gridW, f.dim, f.layer, m.depth, f.inputWidth, f.inputHeight, args->out.c_str());
      return kExitOk;
    };
  });
}

}  // namespace

void addCheckpointCommands(CLI::App& app, CommandSlot& slot) {
  addInspect(app, slot);
  addConvert(app, slot);
  addFeatures(app, slot);
}

}  // namespace neco::cli

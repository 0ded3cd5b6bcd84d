#pragma once
// Checkpoints users bring: inspect them, convert them to safetensors, choose how they load.
// Torch-free facade over core/src/checkpoint (formats: safetensors, Hugging Face folders, torch.save
// .pth/.pt/.bin/.ckpt through a restricted unpickler; layouts: official DINOv2 / DINO v1, Hugging
// Face, timm, NeCo Lightning and released files, DINO v1 training checkpoints, DDP).

#include "neco/core/FeatureExtractor.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace neco {

struct CheckpointOptions {
  std::string part = "auto";    ///< "auto", "student" or "teacher" for two-network checkpoints
  std::string architecture;     ///< "" detects from shapes; a known name (dinov2_vits14_reg...) must match
  int numRegisters = -1;        ///< -1 from the file; 0 runs a register checkpoint without them (XR)
  int numHeads = 0;             ///< 0 from metadata / the released widths
  std::string interpolation;    ///< "" = the checkpoint family's default, "offset", "antialias" or "size"
  bool strict = true;           ///< refuse missing / unexpected / mismatched keys
};

struct CheckpointReport {
  std::filesystem::path path;
  std::string format;           ///< container: "safetensors", "torch zip (archive 'archive')", ...
  std::string layout;           ///< key layout: "dinov2-official", "huggingface", "timm", "neco-lightning", ...
  std::string stateDict;        ///< which dict inside the file was used ("" = the root)
  std::string part;             ///< "student", "teacher" or "" (single network)
  std::string prefix;           ///< key prefix stripped ("model.", "module.backbone.")
  ModelDescription model;       ///< detected architecture, parameter count of the backbone
  std::string architecture;     ///< human summary ("DINOv2 ViT-S/14, 4 registers, ...")
  std::string interpolation;    ///< "offset", "antialias" or "size"
  int posEmbedGrid = 0;
  std::int64_t fileTensors = 0;
  std::int64_t backboneTensors = 0;
  std::int64_t projectionHeadTensors = 0;
  std::vector<std::string> stateDicts;   ///< every state dict found: "teacher (177 tensors)"
  std::vector<std::string> missing, unexpected, mismatched, filled, ignored, notes, opaqueObjects;
  std::vector<std::pair<std::string, std::string>> metadata;
  bool matches() const noexcept { return missing.empty() && unexpected.empty() && mismatched.empty(); }
};

/// Reads and maps a checkpoint without building the model. Never throws for key mismatches (they
/// are in the report); throws IoError, FormatError (malformed file, no backbone), UnsupportedError
/// (refused pickle content), InvalidArgumentError (bad options).
CheckpointReport inspectCheckpoint(const std::filesystem::path& path, const CheckpointOptions& options = {});

/// Writes the backbone (and the projection head when kept) under the canonical DINOv2 names to a
/// safetensors file with the architecture in its metadata, so it reloads without options. Keeps the
/// stored dtypes. Refuses to overwrite an existing file unless `overwrite` (never the input). Strict
/// key checking as in loading. Throws as inspectCheckpoint, plus IoError and FormatError (keys).
CheckpointReport convertCheckpoint(const std::filesystem::path& in, const std::filesystem::path& out,
                                   const CheckpointOptions& options = {}, bool keepProjectionHead = true,
                                   bool overwrite = false);

/// Names accepted by CheckpointOptions::architecture.
std::vector<std::string> knownArchitectures();

}  // namespace neco

namespace neco {

/// Saves patch features to safetensors: "patch_tokens" (gridH, gridW, dim), "cls" (dim),
/// "registers" (R, dim) when present, float32, with the grid, patch size, input size and
/// `metadata` in the header. Refuses to overwrite unless `overwrite`. Throws IoError,
/// InvalidArgumentError.
void saveFeatures(const std::filesystem::path& out, const PatchFeatures& features,
                  const std::vector<std::pair<std::string, std::string>>& metadata, bool overwrite = false);

}  // namespace neco

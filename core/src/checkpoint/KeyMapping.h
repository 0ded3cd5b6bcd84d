#pragma once
// Maps the state dict of any supported checkpoint layout onto the canonical (official DINOv2 /
// DINO v1) key names that nn::VisionTransformer uses, and detects the architecture from shapes.
//
// Layouts: official DINOv2 / DINO v1 release, Hugging Face Dinov2Model / Dinov2WithRegistersModel
// (split query/key/value, layer_scale*.lambda1), timm (reg_token, CLS position folded into the CLS
// token, 1369 patch positions), NeCo Lightning (`model.` student / `teacher.` teacher, projection
// head), released NeCo files (flat, maybe with projection_head.*), DINO v1 training checkpoints
// (`teacher` / `student` dicts, `backbone.` / `module.backbone.`), DDP `module.`. Torch-free.

#include "checkpoint/CheckpointSource.h"
#include "nn/ViTConfig.h"

#include <optional>
#include <string>
#include <vector>

namespace neco::checkpoint {

struct MappingOptions {
  std::string part = "auto";        ///< "auto", "student" or "teacher" (two-network checkpoints)
  int numRegisters = -1;            ///< -1: from the checkpoint; 0 with a register checkpoint = "XR"
  int numHeads = 0;                 ///< 0: from metadata or the known widths
  std::optional<nn::PosEmbedInterpolation> interpolation;  ///< unset: the layout's default
  std::string architecture;         ///< a ViTConfig::named name the shapes must match ("" = any)
};

struct MappedCheckpoint {
  std::string layout;               ///< "dinov2-official", "huggingface", "timm", "neco-lightning", ...
  std::string stateDictPath;        ///< which dict inside the file ("state_dict", "teacher", "")
  std::string part;                 ///< "student", "teacher" or "" (single network)
  std::string prefix;               ///< the key prefix that was stripped ("model.", "module.backbone.")
  formats::TensorList backbone;     ///< canonical names, layout conversions applied
  formats::TensorList projectionHead;  ///< "projection_head.{0,2,4}.{weight,bias}" when present
  std::vector<std::string> ignored; ///< "key: reason" for keys deliberately not loaded
  std::vector<std::string> notes;   ///< decisions worth telling the user (XR, defaults, folding)
  nn::ViTConfig config;             ///< detected architecture
};

/// Throws FormatError (no backbone found, contradictory shapes, heads not inferable — naming the
/// file) or InvalidArgumentError (bad options, e.g. part "teacher" in a one-network file).
MappedCheckpoint mapCheckpoint(const SourceCheckpoint& source, const MappingOptions& options = {});

/// The parameters nn::VisionTransformer(config) has, in registration order, with shapes.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> expectedParameters(const nn::ViTConfig& config);

struct KeyComparison {
  std::vector<std::string> missing;     ///< in the model, not in the checkpoint
  std::vector<std::string> unexpected;  ///< in the checkpoint, not in the model
  std::vector<std::string> mismatched;  ///< "name: checkpoint (..) F16 vs model (..)"
  std::vector<std::string> filled;      ///< optional parameters the checkpoint lacks (mask_token): zero
  bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
};

/// Compares canonical tensors against what `config` needs: names, shapes and floating dtypes.
KeyComparison compareKeys(const formats::TensorList& backbone, const nn::ViTConfig& config);

}  // namespace neco::checkpoint

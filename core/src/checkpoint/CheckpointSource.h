#pragma once
// Opens any checkpoint a user brings and lists the state dicts inside it, without interpreting key
// names: a safetensors file, a Hugging Face folder (model.safetensors, a sharded index, or
// pytorch_model.bin, plus config.json), a torch.save file (.pth/.pt/.bin/.ckpt, zip or legacy).
// Torch-free: tensors stay RawTensor views into the mapped files.

#include "formats/RawTensor.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace neco::checkpoint {

struct SourceStateDict {
  std::string path;                 ///< where it sits in the file: "" (root), "state_dict", "teacher", ...
  formats::TensorList tensors;
};

struct SourceCheckpoint {
  std::filesystem::path path;
  std::string format;               ///< "safetensors", "Hugging Face folder (safetensors)", "torch zip", ...
  std::vector<SourceStateDict> stateDicts;
  /// Hints found next to the tensors: safetensors __metadata__, HF config.json fields (as strings).
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<std::string> opaqueObjects;  ///< non-tensor pickle objects skipped (Lightning, argparse, ...)
  std::int64_t fileTensorCount = 0;       ///< tensors in the file, state dicts or not (optimizer moments too)

  const std::string* metadataValue(const std::string& key) const;
};

/// Reads `path`. Throws IoError (cannot read), FormatError (malformed: names the file and reason),
/// UnsupportedError (a format we refuse, such as an unsafe pickle object).
SourceCheckpoint openCheckpoint(const std::filesystem::path& path);

}  // namespace neco::checkpoint

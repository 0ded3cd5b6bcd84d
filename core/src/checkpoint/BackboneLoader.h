#pragma once
// Builds an nn::VisionTransformer from any supported checkpoint: open -> map keys -> compare against
// the detected architecture -> copy (converting f16/bf16/f64 to f32). Strict by default: a missing,
// unexpected or mismatched key is an error that lists them all (LibTorch's own loader would
// silently reshape). The explicit opt-out loads what matches and reports the rest.

#include "checkpoint/KeyMapping.h"
#include "neco/core/Checkpoint.h"
#include "nn/VisionTransformer.h"

#include <ATen/core/Tensor.h>

#include <filesystem>

namespace neco::checkpoint {

struct LoadedBackbone {
  nn::VisionTransformer model{nullptr};
  SourceCheckpoint source;
  MappedCheckpoint mapped;
  KeyComparison keys;
};

/// A float32 copy of `tensor` (owning its memory). Throws FormatError for non-numeric dtypes.
at::Tensor toTensor(const formats::RawTensor& tensor);
/// An owned copy of `tensor` in its stored dtype (training state: RNG bytes, counters, moments).
/// Throws FormatError when the view is out of bounds.
at::Tensor toTensorAsStored(const formats::RawTensor& tensor);
/// A RawTensor view of a contiguous CPU tensor; `keepAlive` holds the tensor's storage.
formats::RawTensor fromTensor(const at::Tensor& tensor);

/// Throws what openCheckpoint / mapCheckpoint throw, and FormatError when strict and the keys do
/// not match (the message lists missing, unexpected and mismatched keys).
LoadedBackbone loadBackbone(const std::filesystem::path& path, const CheckpointOptions& options = {});

/// Copies canonical tensors into `model` (names must be the model's). Returns the names loaded.
std::vector<std::string> copyIntoModel(nn::VisionTransformer& model, const formats::TensorList& backbone);

}  // namespace neco::checkpoint

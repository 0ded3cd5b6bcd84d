#pragma once
// Torch-free facade over a ViT backbone: image in, L2-normalised patch tokens out. The studio and
// the CLI see only this; the model behind it (the random-weight demo ViT today, real checkpoints
// later) can change without touching the views.

#include "neco/core/Image.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace neco {

/// Patch tokens of one image on a gridH x gridW patch grid, each row L2-normalised.
struct PatchFeatures {
  int gridH = 0;
  int gridW = 0;
  int dim = 0;
  int patchSize = 0;
  int inputWidth = 0;           ///< pixels the model saw (after resizing)
  int inputHeight = 0;
  bool normalised = true;       ///< rows L2-normalised (the similarity views) or raw final-norm tokens
  std::vector<float> tokens;    ///< row-major (gridH * gridW, dim)
  std::vector<float> cls;       ///< (dim) CLS token after the final norm (never normalised)
  std::vector<float> registers; ///< (numRegisters, dim) after the final norm
  int layer = 0;                ///< 1-based block whose output (after the final norm) these are

  bool empty() const noexcept { return tokens.empty(); }
  int patchCount() const noexcept { return gridH * gridW; }
  const float* row(int patch) const noexcept { return tokens.data() + static_cast<std::size_t>(patch) * dim; }
};

struct ModelDescription {
  std::string name;
  int patchSize = 0;
  int embedDim = 0;
  int depth = 0;
  int numHeads = 0;
  int numRegisters = 0;
  std::int64_t parameterCount = 0;
  std::string weights;          ///< where the weights came from ("random, seed 0", a checkpoint path)
  int layer = 0;                ///< 1-based block extract() reads (== depth unless atLayer chose another)
};

struct CheckpointOptions;
class TrainingSession;

class FeatureExtractor {
 public:
  /// The built-in demo model: a tiny ViT with the real DINOv2 architecture and deterministic
  /// random weights (the backbone issue replaces them with trained ones).
  static std::unique_ptr<FeatureExtractor> createDemo(std::uint64_t seed = 0);
  /// A backbone from any supported checkpoint (see Checkpoint.h). Throws IoError, FormatError (bad
  /// file or keys that do not match, listed), UnsupportedError (refused content),
  /// InvalidArgumentError (bad options).
  static std::unique_ptr<FeatureExtractor> fromCheckpoint(const std::string& path, const CheckpointOptions& options);

  ~FeatureExtractor();
  FeatureExtractor(const FeatureExtractor&) = delete;
  FeatureExtractor& operator=(const FeatureExtractor&) = delete;

  ModelDescription describe() const;

  /// The same weights (shared, not copied) read at another block: extract() then returns the output
  /// of block `layer` (1-based) after the final norm, as DINOv2's get_intermediate_layers(norm=True)
  /// does, and runs no block past it. `layer` 0 or == depth reads the last block. The result is as
  /// thread-safe as this extractor and may outlive it. Throws InvalidArgumentError for a layer
  /// outside 0..depth.
  std::shared_ptr<const FeatureExtractor> atLayer(int layer) const;

  /// Resizes `image` to inputSide x inputSide (bilinear, antialiased; the reference protocols use
  /// square inputs), normalises with ImageNet statistics and returns the patch tokens.
  /// inputSide is rounded down to whole patches. Thread-safe (inference only, no grad).
  /// Throws InvalidArgumentError for an empty image or inputSide smaller than one patch.
  /// `normalise` false returns the raw final-norm patch tokens (what `neco features` saves).
  PatchFeatures extract(const RgbImage& image, int inputSide, bool normalise = true) const;

 private:
  friend struct FeatureExtractorAccess;  // core's evaluation protocols and live training extractors
  struct Impl;
  explicit FeatureExtractor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neco

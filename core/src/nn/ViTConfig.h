#pragma once
// Architecture of a ViT backbone (METHOD.md §2.3, §7): the DINOv2 family (ViT-S/B/L/g with patch 14,
// LayerScale, optional register tokens, SwiGLU MLP for g), the DINO v1 family (ViT-S/B with patch 16
// or 8, no LayerScale, no mask token) and a tiny configuration for tests and the demo. Torch-free so
// the checkpoint code can detect and describe architectures without LibTorch headers.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neco::nn {

/// How the positional embedding is resized to a grid other than the one it was trained for.
enum class PosEmbedInterpolation {
  /// NeCo, DINO v1 and the DINOv2 non-register hub models: bicubic with scale factor (g + 0.1) / G,
  /// no antialias; the scale factor itself drives the coordinate mapping.
  OffsetScaleFactor,
  /// DINOv2 register hub models, Hugging Face Dinov2WithRegisters and timm: bicubic to the explicit
  /// size, antialias.
  ExplicitSizeAntialias,
  /// Hugging Face Dinov2Model (recent transformers): bicubic to the explicit size, no antialias.
  ExplicitSize,
};

const char* interpolationName(PosEmbedInterpolation mode) noexcept;  ///< "offset" / "antialias" / "size"
/// Accepts "offset", "antialias" and "size"; throws InvalidArgumentError otherwise.
PosEmbedInterpolation parseInterpolation(std::string_view name);

enum class MlpKind {
  Gelu,    ///< fc1 -> exact GELU -> fc2 (every model except ViT-g)
  SwiGlu,  ///< DINOv2 ViT-g: w12 -> SiLU(x1) * x2 -> w3
};

struct ViTConfig {
  std::string name = "custom";
  std::string family = "dinov2";  ///< "dinov2" or "dino" (v1); decides defaults, not the maths
  int patchSize = 14;
  int embedDim = 384;
  int depth = 12;
  int numHeads = 6;
  double mlpRatio = 4.0;
  MlpKind mlp = MlpKind::Gelu;
  int numRegisters = 0;
  bool layerScale = true;        ///< DINOv2 has LayerScale; DINO v1 does not
  double layerScaleInit = 1.0;
  bool maskToken = true;         ///< DINOv2 carries an (unused) mask_token; DINO v1 does not
  int posEmbedGrid = 37;         ///< side of the trained position grid (518 / 14 = 37)
  double layerNormEps = 1e-6;
  double dropPathRate = 0.0;     ///< stochastic depth for training the student (0 for teacher/eval)
  PosEmbedInterpolation interpolation = PosEmbedInterpolation::OffsetScaleFactor;

  /// The demo model: the real DINOv2 architecture, small enough to run and train on a laptop CPU.
  static ViTConfig tiny();
  /// DINOv2 ViT-S/14 (22 M parameters), optionally with 4 registers.
  static ViTConfig dinov2Small(int registers = 0);
  /// A released architecture by name: dinov2_vit{s,b,l,g}14[_reg], dino_vit{s,b}{16,8}, tiny.
  /// Throws InvalidArgumentError listing the known names.
  static ViTConfig named(std::string_view name);
  static std::vector<std::string> knownNames();

  /// Hidden width of the MLP (for SwiGLU the DINOv2 rule: 2/3 of 4D rounded up to a multiple of 8).
  int mlpHidden() const;
  /// Throws InvalidArgumentError when sizes are inconsistent (dim not divisible by heads, ...).
  void validate() const;
  /// "DINOv2 ViT-S/14, 4 registers, 384-d, 12 blocks, 6 heads"
  std::string summary() const;
};

}  // namespace neco::nn

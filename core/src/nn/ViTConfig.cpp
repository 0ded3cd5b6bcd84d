#include "nn/ViTConfig.h"

#include "neco/core/Error.h"

#include <cmath>

namespace neco::nn {

namespace {

struct Width {
  char letter;
  int dim, depth, heads;
};
// METHOD.md §2.3 and the official hub definitions: head dimension 64 everywhere.
constexpr Width kWidths[] = {{'s', 384, 12, 6}, {'b', 768, 12, 12}, {'l', 1024, 24, 16}, {'g', 1536, 40, 24}};

ViTConfig dinov2(const Width& w, bool registers) {
  ViTConfig c;
  c.family = "dinov2";
  c.name = std::string("dinov2_vit") + w.letter + "14" + (registers ? "_reg" : "");
  c.embedDim = w.dim;
  c.depth = w.depth;
  c.numHeads = w.heads;
  c.mlp = w.letter == 'g' ? MlpKind::SwiGlu : MlpKind::Gelu;
  c.numRegisters = registers ? 4 : 0;
  // The hub register models were trained and released with explicit-size antialiased interpolation.
  c.interpolation = registers ? PosEmbedInterpolation::ExplicitSizeAntialias : PosEmbedInterpolation::OffsetScaleFactor;
  return c;
}

ViTConfig dinoV1(const Width& w, int patch) {
  ViTConfig c;
  c.family = "dino";
  c.name = std::string("dino_vit") + w.letter + std::to_string(patch);
  c.patchSize = patch;
  c.embedDim = w.dim;
  c.depth = w.depth;
  c.numHeads = w.heads;
  c.layerScale = false;
  c.maskToken = false;
  c.posEmbedGrid = 224 / patch;
  c.interpolation = PosEmbedInterpolation::OffsetScaleFactor;
  return c;
}

}  // namespace

const char* interpolationName(PosEmbedInterpolation mode) noexcept {
  switch (mode) {
    case PosEmbedInterpolation::OffsetScaleFactor: return "offset";
    case PosEmbedInterpolation::ExplicitSizeAntialias: return "antialias";
    case PosEmbedInterpolation::ExplicitSize: return "size";
  }
  return "?";
}

PosEmbedInterpolation parseInterpolation(std::string_view name) {
  if (name == "offset") return PosEmbedInterpolation::OffsetScaleFactor;
  if (name == "antialias") return PosEmbedInterpolation::ExplicitSizeAntialias;
  if (name == "size") return PosEmbedInterpolation::ExplicitSize;
  throw InvalidArgumentError("unknown position-embedding interpolation '" + std::string(name) +
                             "' (expected 'offset', 'antialias' or 'size')");
}

ViTConfig ViTConfig::tiny() {
  ViTConfig c;
  c.name = "tiny";
  c.family = "dinov2";
  c.patchSize = 14;
  c.embedDim = 192;
  c.depth = 4;
  c.numHeads = 3;
  c.posEmbedGrid = 16;  // trained size 224
  return c;
}

ViTConfig ViTConfig::dinov2Small(int registers) {
  ViTConfig c = dinov2(kWidths[0], registers > 0);
  c.numRegisters = registers;
  return c;
}

std::vector<std::string> ViTConfig::knownNames() {
  std::vector<std::string> names;
  for (const Width& w : kWidths) {
    names.push_back(dinov2(w, false).name);
    names.push_back(dinov2(w, true).name);
  }
  for (const Width& w : kWidths) {
    if (w.letter != 's' && w.letter != 'b') continue;
    for (int patch : {16, 8}) names.push_back(dinoV1(w, patch).name);
  }
  names.push_back("tiny");
  return names;
}

ViTConfig ViTConfig::named(std::string_view name) {
  if (name == "tiny") return tiny();
  for (const Width& w : kWidths) {
    for (bool reg : {false, true}) {
      if (name == dinov2(w, reg).name) return dinov2(w, reg);
    }
    if (w.letter == 's' || w.letter == 'b') {
      for (int patch : {16, 8}) {
        if (name == dinoV1(w, patch).name) return dinoV1(w, patch);
      }
    }
  }
  std::string known;
  for (const auto& n : knownNames()) known += (known.empty() ? "" : ", ") + n;
  throw InvalidArgumentError("unknown architecture '" + std::string(name) + "' (known: " + known + ")");
}

int ViTConfig::mlpHidden() const {
  const int hidden = static_cast<int>(std::lround(embedDim * mlpRatio));
  if (mlp == MlpKind::Gelu) return hidden;
  // dinov2/layers/swiglu_ffn.py SwiGLUFFNFused: int(hidden * 2 / 3) rounded up to a multiple of 8.
  const int twoThirds = static_cast<int>(hidden * 2 / 3);
  return (twoThirds + 7) / 8 * 8;
}

void ViTConfig::validate() const {
  auto fail = [this](const std::string& why) { throw InvalidArgumentError("ViT config '" + name + "': " + why); };
  if (patchSize <= 0 || embedDim <= 0 || depth <= 0 || numHeads <= 0 || posEmbedGrid <= 0) {
    fail("sizes must be positive");
  }
  if (embedDim % numHeads != 0) fail("embedDim " + std::to_string(embedDim) + " not divisible by numHeads");
  if (numRegisters < 0) fail("numRegisters must be >= 0");
  if (mlpRatio <= 0) fail("mlpRatio must be positive");
  if (dropPathRate < 0 || dropPathRate >= 1) fail("dropPathRate must be in [0, 1)");
}

std::string ViTConfig::summary() const {
  std::string s = family == "dino" ? "DINO v1 " : "DINOv2 ";
  const char* size = embedDim == 384 ? "S" : embedDim == 768 ? "B" : embedDim == 1024 ? "L" : embedDim == 1536 ? "g" : nullptr;
  s += size ? std::string("ViT-") + size + "/" + std::to_string(patchSize) : "ViT/" + std::to_string(patchSize);
  s += ", " + std::to_string(numRegisters) + " registers, " + std::to_string(embedDim) + "-d, " + std::to_string(depth) +
       " blocks, " + std::to_string(numHeads) + " heads";
  if (mlp == MlpKind::SwiGlu) s += ", SwiGLU";
  if (!layerScale) s += ", no LayerScale";
  return s;
}

}  // namespace neco::nn

// Numerical parity of nn::VisionTransformer with the independent Python reference
// (tests/reference/vit_reference.py, python3-torch 1.13) for every family, input size and
// position-embedding interpolation mode: patch tokens, CLS, registers, block outputs and the last
// block's CLS attention within 1e-4 (fp32).
#include "NecoTest.h"
#include "ReferenceFixtures.h"
#include "checkpoint/BackboneLoader.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <map>
#include <regex>

using namespace neco;

namespace {

constexpr double kTolerance = 1e-4;

struct Group {  // expected outputs of one (size, mode)
  int height = 0, width = 0;
  std::string mode;
  std::map<std::string, at::Tensor> parts;  // "cls", "patch", "reg", "block0", "attn"
};

std::map<std::string, Group> loadExpected(const std::filesystem::path& file) {
  const auto st = formats::readSafetensors(file);
  static const std::regex key(R"((\d+)x(\d+)\.(\w+)\.(\w+))");
  std::map<std::string, Group> groups;
  for (const auto& t : st.tensors) {
    std::smatch m;
    if (!std::regex_match(t.name, m, key)) continue;
    Group& g = groups[m[1].str() + "x" + m[2].str() + "." + m[3].str()];
    g.height = std::stoi(m[1].str());
    g.width = std::stoi(m[2].str());
    g.mode = m[3].str();
    g.parts[m[4].str()] = test::asTensor(t.tensor);
  }
  return groups;
}

// Returns the worst error over every output of every group, reporting each failure.
double checkFamily(const std::string& family, const std::filesystem::path& weights, const std::filesystem::path& expected,
                   const CheckpointOptions& options) {
  auto loaded = checkpoint::loadBackbone(weights, options);
  auto& model = loaded.model;
  torch::NoGradGuard noGrad;
  double worst = 0.0;
  for (const auto& [name, g] : loadExpected(expected)) {
    if (g.mode != "native") model->setInterpolation(nn::parseInterpolation(g.mode));
    const int batch = static_cast<int>(g.parts.at("cls").size(0));
    nn::ViTForwardOptions fo;
    fo.keepBlockOutputs = true;
    fo.lastBlockClsAttention = true;
    const auto out = model->forward(test::referenceInput(batch, g.height, g.width), fo);
    for (const auto& [part, want] : g.parts) {
      at::Tensor got;
      if (part == "cls") got = out.cls;
      else if (part == "patch") got = out.patchTokens;
      else if (part == "reg") got = out.registers;
      else if (part == "attn") got = out.clsAttention;
      else if (part.rfind("block", 0) == 0) got = out.blockOutputs.at(std::stoul(part.substr(5)));
      const double err = test::maxAbsDiff(got, want);
      worst = std::max(worst, err);
      if (!(err <= kTolerance)) {
        test::reportFailure(__FILE__, __LINE__, family + " " + name + "." + part + ": max abs error " + std::to_string(err));
      }
    }
  }
  std::printf("    parity %-14s max abs error %.3g over %zu size/mode groups\n", family.c_str(), worst,
              loadExpected(expected).size());
  return worst;
}

void parity(const std::string& family) {
  const auto dir = test::dataDir() / "vit";
  checkFamily(family, dir / (family + ".safetensors"), dir / (family + "_expected.safetensors"), {});
}

}  // namespace

NECO_TEST(ViTParity, dinov2) { parity("dinov2"); }
NECO_TEST(ViTParity, dinov2WithRegisters) { parity("dinov2_reg4"); }
NECO_TEST(ViTParity, dinov2SwiGlu) { parity("dinov2_swiglu"); }
NECO_TEST(ViTParity, dinoV1Patch16) { parity("dino_v1_p16"); }
NECO_TEST(ViTParity, dinoV1Patch8) { parity("dino_v1_p8"); }

NECO_TEST(ViTParity, xrCheckpointRunsWithoutRegisters) {
  // NeCo's "XR" release: register weights in the file, a model with none.
  CheckpointOptions options;
  options.numHeads = 2;
  const auto loaded = checkpoint::loadBackbone(test::dataDir() / "checkpoints" / "neco_dinov2r_xr_model.ckpt", options);
  NECO_CHECK_EQ(loaded.mapped.config.numRegisters, 0);
  checkFamily("dinov2_xr", test::dataDir() / "checkpoints" / "neco_dinov2r_xr_model.ckpt",
              test::dataDir() / "vit" / "dinov2_xr_expected.safetensors", options);
}

NECO_TEST(ViTParity, intermediateLayersAreTheNormedBlockOutputs) {
  // The studio's layer choice: stopping after block k gives the reference's block k output through
  // the final LayerNorm (DINOv2's get_intermediate_layers(norm=True)), for every k.
  auto loaded = checkpoint::loadBackbone(test::dataDir() / "vit" / "dinov2_reg4.safetensors");
  const auto groups = loadExpected(test::dataDir() / "vit" / "dinov2_reg4_expected.safetensors");
  const Group& g = groups.at("224x224.offset");
  auto& model = loaded.model;
  const int depth = static_cast<int>(model->blocks->size());
  const int R = model->config().numRegisters;
  NECO_REQUIRE(depth >= 2 && R > 0);
  torch::NoGradGuard noGrad;
  model->setInterpolation(nn::PosEmbedInterpolation::OffsetScaleFactor);
  const auto input = test::referenceInput(static_cast<int>(g.parts.at("cls").size(0)), g.height, g.width);
  for (int k = 1; k <= depth; ++k) {
    nn::ViTForwardOptions fo;
    fo.blocks = k;
    const auto out = model->forward(input, fo);
    const at::Tensor block = g.parts.at("block" + std::to_string(k - 1));
    const at::Tensor want = at::layer_norm(block, {block.size(-1)}, model->norm->weight, model->norm->bias,
                                           model->config().layerNormEps);
    NECO_CHECK(test::maxAbsDiff(out.patchTokens, want.slice(1, 1 + R)) <= kTolerance);
    NECO_CHECK(test::maxAbsDiff(out.cls, want.select(1, 0)) <= kTolerance);
    if (k < depth) NECO_CHECK(test::maxAbsDiff(out.patchTokens, g.parts.at("patch")) > 1e-2);
  }
  nn::ViTForwardOptions tooDeep;
  tooDeep.blocks = depth + 1;
  NECO_CHECK_THROWS(InvalidArgumentError, model->forward(input, tooDeep));
}

NECO_TEST(ViTParity, interpolationModesAreDistinguishable) {
  // Guards the parity tests against passing vacuously: the wrong mode misses by far more than 1e-4.
  auto loaded = checkpoint::loadBackbone(test::dataDir() / "vit" / "dinov2.safetensors");
  const auto groups = loadExpected(test::dataDir() / "vit" / "dinov2_expected.safetensors");
  torch::NoGradGuard noGrad;
  loaded.model->setInterpolation(nn::PosEmbedInterpolation::OffsetScaleFactor);
  const auto out = loaded.model->forward(test::referenceInput(2, 224, 224));
  NECO_CHECK(test::maxAbsDiff(out.patchTokens, groups.at("224x224.offset").parts.at("patch")) <= kTolerance);
  NECO_CHECK(test::maxAbsDiff(out.patchTokens, groups.at("224x224.antialias").parts.at("patch")) > 1e-2);
  loaded.model->setInterpolation(nn::PosEmbedInterpolation::ExplicitSize);
  NECO_CHECK(test::maxAbsDiff(loaded.model->forward(test::referenceInput(2, 224, 224)).patchTokens,
                              groups.at("224x224.offset").parts.at("patch")) > 1e-2);
}

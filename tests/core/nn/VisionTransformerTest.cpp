#include "NecoTest.h"
#include "checkpoint/KeyMapping.h"
#include "neco/core/Error.h"
#include "nn/VisionTransformer.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/upsampling.h>

#include <map>
#include <set>
#include <string>

using neco::nn::PosEmbedInterpolation;
using neco::nn::VisionTransformer;
using neco::nn::ViTConfig;

namespace {

std::set<std::string> parameterNames(VisionTransformer& model) {
  std::set<std::string> names;
  for (const auto& item : model->named_parameters()) names.insert(item.key());
  return names;
}

}  // namespace

NECO_TEST(VisionTransformer, parameterNamesAndCountMatchTheDinov2Release) {
  // METHOD.md §7.1: ViT-S/14 has 175 tensors (176 with registers), about 22.06 M parameters.
  VisionTransformer plain(ViTConfig::dinov2Small(0));
  VisionTransformer reg(ViTConfig::dinov2Small(4));
  const auto names = parameterNames(plain);
  NECO_CHECK_EQ(names.size(), 175u);
  NECO_CHECK_EQ(parameterNames(reg).size(), 176u);
  for (const char* key : {"cls_token", "pos_embed", "mask_token", "patch_embed.proj.weight", "patch_embed.proj.bias",
                          "blocks.0.norm1.weight", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias",
                          "blocks.0.attn.proj.weight", "blocks.0.ls1.gamma", "blocks.0.ls2.gamma",
                          "blocks.11.mlp.fc1.weight", "blocks.11.mlp.fc2.bias", "norm.weight", "norm.bias"}) {
    if (!names.count(key)) ::neco::test::reportFailure(__FILE__, __LINE__, std::string("missing key ") + key);
  }
  NECO_CHECK(parameterNames(reg).count("register_tokens") == 1);
  // Exact count: embeddings + 12 blocks + final norm.
  const int64_t D = 384, H = 1536, G = 37;
  const int64_t block = 2 * D + (3 * D * D + 3 * D) + (D * D + D) + 2 * D + (H * D + H) + (D * H + D) + 2 * D;
  const int64_t expected = (D * 3 * 14 * 14 + D) + D + (1 + G * G) * D + D + 12 * block + 2 * D;
  NECO_CHECK_EQ(plain->parameterCount(), expected);
  NECO_CHECK(plain->parameterCount() > 22000000 && plain->parameterCount() < 22100000);
  NECO_CHECK_EQ(reg->parameterCount(), expected + 4 * D);
}

NECO_TEST(VisionTransformer, tokenGridFollowsTheInputSize) {
  VisionTransformer model(ViTConfig::tiny());
  model->initialiseRandom(1);
  torch::NoGradGuard noGrad;
  struct Case { int h, w, gh, gw; };
  for (const Case c : {Case{224, 224, 16, 16}, Case{98, 98, 7, 7}, Case{112, 168, 8, 12}, Case{100, 60, 7, 4}}) {
    const auto out = model->forward(at::randn({2, 3, c.h, c.w}));
    NECO_CHECK_EQ(out.gridH, c.gh);
    NECO_CHECK_EQ(out.gridW, c.gw);
    NECO_CHECK_EQ(out.patchTokens.size(1), c.gh * c.gw);
    NECO_CHECK_EQ(out.patchTokens.size(2), 192);
    NECO_CHECK_EQ(out.cls.size(0), 2);
    NECO_CHECK_EQ(out.registers.size(1), 0);
    NECO_CHECK(at::isfinite(out.patchTokens).all().item<bool>());
  }
  NECO_CHECK_THROWS(neco::InvalidArgumentError, model->forward(at::randn({1, 1, 64, 64})));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, model->forward(at::randn({1, 3, 10, 64})));
}

NECO_TEST(VisionTransformer, registersAreSeparatedFromPatches) {
  ViTConfig config = ViTConfig::tiny();
  config.numRegisters = 4;
  VisionTransformer model(config);
  model->initialiseRandom(2);
  torch::NoGradGuard noGrad;
  const auto out = model->forward(at::randn({1, 3, 224, 224}));
  NECO_CHECK_EQ(out.registers.size(1), 4);
  NECO_CHECK_EQ(out.patchTokens.size(1), 256);
}

NECO_TEST(VisionTransformer, positionEmbeddingInterpolationModes) {
  ViTConfig config = ViTConfig::tiny();  // trained grid 16
  VisionTransformer model(config);
  model->initialiseRandom(3);
  torch::NoGradGuard noGrad;
  // At the trained grid the embedding is returned unchanged.
  NECO_CHECK(model->interpolatedPosEmbed(16, 16).equal(model->posEmbed));
  // Offset mode equals bicubic with scale factor (g + 0.1) / G and no recompute (METHOD.md §2.3).
  namespace F = torch::nn::functional;
  const auto D = model->posEmbed.size(2);
  const auto grid = model->posEmbed.slice(1, 1).reshape({1, 16, 16, D}).permute({0, 3, 1, 2});
  const auto expected = F::interpolate(grid, F::InterpolateFuncOptions()
                                                 .mode(torch::kBicubic)
                                                 .align_corners(false)
                                                 .scale_factor(std::vector<double>{7.1 / 16, 7.1 / 16})
                                                 .recompute_scale_factor(false));
  const auto got = model->interpolatedPosEmbed(7, 7);
  NECO_CHECK_EQ(got.size(1), 1 + 49);
  NECO_CHECK(got.slice(1, 1).reshape({1, 7, 7, D}).permute({0, 3, 1, 2}).allclose(expected, 0, 1e-6));
  NECO_CHECK(got.slice(1, 0, 1).equal(model->posEmbed.slice(1, 0, 1)));  // CLS position kept as is
  // The explicit-size antialiased mode differs from the offset mode when downsampling.
  config.interpolation = PosEmbedInterpolation::ExplicitSizeAntialias;
  VisionTransformer hub(config);
  hub->initialiseRandom(3);
  const auto hubPos = hub->interpolatedPosEmbed(7, 7);
  NECO_CHECK_EQ(hubPos.size(1), 50);
  NECO_CHECK(!hubPos.allclose(got, 0, 1e-4));
  // Both modes keep a constant field constant.
  hub->posEmbed.fill_(0.25);
  NECO_CHECK(hub->interpolatedPosEmbed(11, 5).allclose(at::full({1, 56, D}, 0.25), 0, 1e-5));
}

NECO_TEST(VisionTransformer, attentionMatchesAPerHeadReference) {
  neco::nn::Attention attn(64, 4);
  torch::NoGradGuard noGrad;
  const auto x = at::randn({2, 5, 64});
  const auto got = attn->forward(x);
  const auto qkv = attn->qkv->forward(x);  // (2, 5, 192)
  std::vector<at::Tensor> heads;
  for (int h = 0; h < 4; ++h) {
    const auto q = qkv.slice(2, h * 16, h * 16 + 16);
    const auto k = qkv.slice(2, 64 + h * 16, 64 + h * 16 + 16);
    const auto v = qkv.slice(2, 128 + h * 16, 128 + h * 16 + 16);
    heads.push_back(at::softmax(at::matmul(q, k.transpose(1, 2)) / 4.0, -1).matmul(v));
  }
  const auto expected = attn->proj->forward(at::cat(heads, 2));
  NECO_CHECK(got.allclose(expected, 1e-5, 1e-5));
}

NECO_TEST(VisionTransformer, initialisationIsDeterministicPerSeed) {
  VisionTransformer a(ViTConfig::tiny()), b(ViTConfig::tiny()), c(ViTConfig::tiny());
  a->initialiseRandom(5);
  b->initialiseRandom(5);
  c->initialiseRandom(6);
  bool allEqual = true, anyDifferent = false;
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    allEqual = allEqual && pa[i].equal(pb[i]);
    anyDifferent = anyDifferent || !pa[i].equal(pc[i]);
  }
  NECO_CHECK(allEqual);
  NECO_CHECK(anyDifferent);
  for (const auto& item : a->named_parameters()) {
    if (item.key().find("ls1.gamma") != std::string::npos) NECO_CHECK(item.value().eq(1.0).all().item<bool>());
  }
}

NECO_TEST(VisionTransformer, rejectsInconsistentConfigs) {
  ViTConfig c = ViTConfig::tiny();
  c.numHeads = 5;  // 192 % 5 != 0
  NECO_CHECK_THROWS(neco::InvalidArgumentError, c.validate());
  c = ViTConfig::tiny();
  c.depth = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, VisionTransformer(c));
}

// ---- families, stochastic depth, extra outputs (issue 3) ---------------------------------------------

NECO_TEST(VisionTransformer, everyNamedArchitectureMatchesItsExpectedParameters) {
  // The torch-free parameter table (used for key checking) must equal the module's parameters.
  for (const char* name : {"tiny", "dinov2_vits14", "dinov2_vits14_reg", "dino_vits16", "dino_vits8"}) {
    VisionTransformer model(ViTConfig::named(name));
    std::map<std::string, std::vector<int64_t>> actual;
    for (const auto& item : model->named_parameters()) actual[item.key()] = item.value().sizes().vec();
    const auto expected = neco::checkpoint::expectedParameters(model->config());
    NECO_CHECK_EQ(actual.size(), expected.size());
    for (const auto& [key, shape] : expected) {
      if (!actual.count(key) || actual[key] != shape) {
        ::neco::test::reportFailure(__FILE__, __LINE__, std::string(name) + ": " + key + " differs");
      }
    }
  }
  // SwiGLU: the DINOv2 ViT-g rule gives 4096 hidden units for width 1536.
  ViTConfig g = ViTConfig::named("dinov2_vitg14");
  NECO_CHECK(g.mlp == neco::nn::MlpKind::SwiGlu);
  NECO_CHECK_EQ(g.mlpHidden(), 4096);
  int64_t count = 0;
  for (const auto& [key, shape] : neco::checkpoint::expectedParameters(g)) {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    count += n;
  }
  NECO_CHECK(count > 1130000000 && count < 1140000000);  // "1.1 B parameters"
  ViTConfig small = ViTConfig::tiny();
  small.mlp = neco::nn::MlpKind::SwiGlu;
  VisionTransformer swiglu(small);
  NECO_CHECK(swiglu->named_parameters().find("blocks.0.mlp.w12.weight") != nullptr);
  NECO_CHECK(swiglu->named_parameters().find("blocks.0.mlp.fc1.weight") == nullptr);
  NECO_CHECK(!ViTConfig::named("dino_vitb8").layerScale);
  NECO_CHECK_EQ(ViTConfig::named("dino_vitb8").posEmbedGrid, 28);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, ViTConfig::named("vit_huge"));
}

NECO_TEST(VisionTransformer, dropPathFollowsDinov2) {
  const auto rates = neco::nn::dropPathSchedule(0.1, 12);
  NECO_CHECK_EQ(rates.front(), 0.0);
  NECO_CHECK(rates.back() > 0.1);  // float32 0.1: the last block takes the batch-subset path
  NECO_CHECK(rates[10] < 0.1);
  ViTConfig config = ViTConfig::tiny();
  config.dropPathRate = 0.3;
  VisionTransformer model(config);
  model->initialiseRandom(3);
  const auto x = at::randn({8, 3, 56, 56});
  torch::NoGradGuard noGrad;
  model->eval();
  const auto a = model->forward(x).patchTokens;
  NECO_CHECK(at::equal(a, model->forward(x).patchTokens));  // eval: deterministic, no drop
  model->train();
  const auto b = model->forward(x).patchTokens;
  NECO_CHECK_EQ(b.sizes(), a.sizes());
  NECO_CHECK(!at::allclose(a, b));
  NECO_CHECK(at::isfinite(b).all().item<bool>());
}

NECO_TEST(VisionTransformer, blockOutputsAndClsAttention) {
  ViTConfig config = ViTConfig::tiny();
  config.numRegisters = 2;
  VisionTransformer model(config);
  model->initialiseRandom(4);
  torch::NoGradGuard noGrad;
  neco::nn::ViTForwardOptions options;
  options.keepBlockOutputs = true;
  options.lastBlockClsAttention = true;
  const auto out = model->forward(at::randn({2, 3, 112, 84}), options);
  NECO_CHECK_EQ(out.blockOutputs.size(), 4u);
  NECO_CHECK_EQ(out.blockOutputs[0].size(1), 1 + 2 + 8 * 6);
  NECO_CHECK_EQ(out.clsAttention.size(1), 3);
  NECO_CHECK_EQ(out.clsAttention.size(2), 48);
  // Softmax over all keys: the patch columns sum to less than one, everything positive.
  const auto sums = out.clsAttention.sum(-1);
  NECO_CHECK(sums.lt(1.0).all().item<bool>());
  NECO_CHECK(out.clsAttention.gt(0).all().item<bool>());
  // The final norm of the last block output is what the tokens are.
  NECO_CHECK(at::allclose(model->norm->forward(out.blockOutputs.back()).slice(1, 3), out.patchTokens, 1e-5, 1e-6));
}

NECO_TEST(VisionTransformer, trainedGridIsInterpolatedForNonSquarePixels) {
  // DINOv2's shortcut compares pixel sizes: 224x227 has the trained 16x16 grid but is interpolated.
  VisionTransformer model(ViTConfig::tiny());
  model->initialiseRandom(5);
  NECO_CHECK(at::equal(model->interpolatedPosEmbed(16, 16, true), model->posEmbed));
  NECO_CHECK(!at::equal(model->interpolatedPosEmbed(16, 16, false), model->posEmbed));
}

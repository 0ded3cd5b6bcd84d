#include "NecoTest.h"
#include "neco/core/Error.h"
#include "train/NecoModel.h"

#include <ATen/ATen.h>

using namespace neco::train;

namespace {
NecoNetwork tinyNetwork(std::uint64_t seed) {
  NecoNetwork net(neco::nn::ViTConfig::tiny(), HeadConfig{64, 32});
  net->backbone->initialiseRandom(seed);
  net->initialiseHead(seed + 1);
  return net;
}
}  // namespace

NECO_TEST(NecoModel, forwardGivesUnitEmbeddingsOnThePatchGrid) {
  NecoNetwork net = tinyNetwork(1);
  const int patch = neco::nn::ViTConfig::tiny().patchSize;
  const at::Tensor maps = net->forward(at::randn({2, 3, 4 * patch, 3 * patch}));
  NECO_CHECK_EQ(maps.size(0), 2);
  NECO_CHECK_EQ(maps.size(1), 32);
  NECO_CHECK_EQ(maps.size(2), 4);
  NECO_CHECK_EQ(maps.size(3), 3);
  NECO_CHECK((maps.norm(2, {1}) - 1).abs().max().item<float>() < 1e-5);
  // parameter names follow the reference (`projection_head.{0,2,4}`)
  bool head4 = false;
  for (const auto& p : net->named_parameters()) head4 = head4 || p.key() == "projection_head.4.weight";
  NECO_CHECK(head4);
}

NECO_TEST(NecoModel, fourParameterGroupsAndTrainableBlocks) {
  NecoNetwork net = tinyNetwork(2);
  const ParameterGroups g = parameterGroups(*net);
  std::size_t total = 0;
  for (int i = 0; i < 4; ++i) total += g.groups[i].size();
  NECO_CHECK_EQ(total, net->parameters().size());
  for (int i = 0; i < 4; ++i) {
    for (std::size_t k = 0; k < g.names[i].size(); ++k) {
      const bool head = g.names[i][k].rfind("projection_head.", 0) == 0;
      const bool oneD = g.groups[i][k].dim() == 1;
      NECO_REQUIRE(head == (i >= 2));
      if (oneD) NECO_REQUIRE(i % 2 == 1);
    }
  }
  // cls_token (1, 1, D) and pos_embed are decayed, as in the reference
  auto inGroup = [&](int i, const std::string& name) {
    for (const auto& n : g.names[i]) {
      if (n == name) return true;
    }
    return false;
  };
  NECO_CHECK(inGroup(0, "backbone.cls_token"));
  NECO_CHECK(inGroup(1, "backbone.blocks.0.norm1.weight"));
  NECO_CHECK(inGroup(3, "projection_head.0.bias"));
  const ParameterGroups only = parameterGroups(*net, std::vector<int>{1});
  for (const auto& n : only.names[0]) NECO_REQUIRE(n.rfind("backbone.blocks.1.", 0) == 0);
  for (const auto& p : net->named_parameters()) {
    if (p.key().rfind("backbone.blocks.0.", 0) == 0) NECO_REQUIRE(!p.value().requires_grad());
  }
  NECO_CHECK_THROWS(neco::InvalidArgumentError, parameterGroups(*net, std::vector<int>{99}));
}

NECO_TEST(NecoModel, emaMovesTheTeacherTowardsTheStudent) {
  NecoNetwork student = tinyNetwork(3), teacher = tinyNetwork(4);
  const at::Tensor s = student->named_parameters()["projection_head.0.weight"].detach().clone();
  const at::Tensor t = teacher->named_parameters()["projection_head.0.weight"].detach().clone();
  emaUpdate(*teacher, *student, 0.9);
  NECO_CHECK(teacher->named_parameters()["projection_head.0.weight"].allclose(0.9 * t + 0.1 * s, 1e-6, 1e-7));
  emaUpdate(*teacher, *student, 1.0);  // momentum 1: frozen
  NECO_CHECK(teacher->named_parameters()["projection_head.0.weight"].allclose(0.9 * t + 0.1 * s, 1e-6, 1e-7));
  copyWeights(*teacher, *student);
  NECO_CHECK(teacher->named_parameters()["projection_head.0.weight"].equal(s));
  NecoNetwork other(neco::nn::ViTConfig::tiny(), HeadConfig{64, 16});
  NECO_CHECK_THROWS(neco::InvalidArgumentError, emaUpdate(*other, *student, 0.5));
}

#include "NecoTest.h"
#include "../checkpoint/ReferenceFixtures.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"
#include "train/LossMasks.h"

#include <ATen/ATen.h>

#include <map>
#include <string>

using namespace neco::train;

namespace {

std::map<std::string, at::Tensor> loadGolden(std::map<std::string, std::string>& meta) {
  const auto st = neco::formats::readSafetensors(neco::test::dataDir() / "train" / "loss_mask_golden.safetensors");
  std::map<std::string, at::Tensor> t;
  for (const auto& e : st.tensors) {
    const auto bytes = e.tensor.contiguousBytes();
    t[e.name] = at::from_blob(const_cast<std::uint8_t*>(bytes.data()), e.tensor.shape, at::kDouble).clone();
  }
  for (const auto& [k, v] : st.metadata) meta[k] = v;
  return t;
}

at::Tensor grid(std::initializer_list<std::initializer_list<float>> rows) {
  std::vector<float> v;
  std::int64_t h = 0, w = 0;
  for (const auto& r : rows) {
    w = static_cast<std::int64_t>(r.size());
    ++h;
    v.insert(v.end(), r.begin(), r.end());
  }
  return at::tensor(v).reshape({1, 1, h, w});
}

}  // namespace

NECO_TEST(LossMasks, blurAndMassThresholdMatchTorchvision) {
  std::map<std::string, std::string> meta;
  const auto t = loadGolden(meta);
  const int gh = std::stoi(meta["grid_h"]), gw = std::stoi(meta["grid_w"]);
  const at::Tensor attention = t.at("attention");
  const at::Tensor smooth = attention.mean(1).reshape({attention.size(0), 1, gh, gw});
  const double blurError = (gaussianBlur7(smooth, 0.6) - t.at("blurred")).abs().max().item<double>();
  NECO_CHECK(blurError < 1e-15);  // separable 1-D passes vs torchvision's 2-D kernel: rounding only
  ForegroundMaskOptions noRemoval;
  noRemoval.minComponent = 1;
  const at::Tensor kept = foregroundMask(attention, gh, gw, noRemoval);
  NECO_CHECK(at::equal(kept, t.at("kept")));
  // the kept patches hold at least 60 % of the blurred mass, and dropping the weakest kept one would not
  const at::Tensor blurred = t.at("blurred");
  for (std::int64_t b = 0; b < blurred.size(0); ++b) {
    const double total = blurred[b].sum().item<double>(), inside = (blurred[b] * kept[b]).sum().item<double>();
    NECO_CHECK(inside >= 0.6 * total - 1e-12);
    const double weakest = (blurred[b] + (1 - kept[b]) * 1e9).min().item<double>();
    NECO_CHECK(inside - weakest < 0.6 * total + 1e-12);
  }
  // float32 attention gives the same mask
  NECO_CHECK(at::equal(foregroundMask(attention.to(at::kFloat), gh, gw, noRemoval), kept.to(at::kFloat)));
}

NECO_TEST(LossMasks, componentsSmallerThanThreePatchesAreRemoved) {
  const at::Tensor in = grid({{1, 0, 0, 0, 0, 1},   // an isolated patch (top left)
                              {0, 0, 0, 0, 1, 0},   // a diagonal pair (top right): 8-connected, 2 patches
                              {0, 0, 0, 0, 0, 0},
                              {1, 0, 0, 1, 1, 0},   // a diagonal chain of 3 (left) and an L of 3 (right)
                              {0, 1, 0, 0, 1, 0},
                              {0, 0, 1, 0, 0, 0}});
  const at::Tensor expected = grid({{0, 0, 0, 0, 0, 0},
                                    {0, 0, 0, 0, 0, 0},
                                    {0, 0, 0, 0, 0, 0},
                                    {1, 0, 0, 1, 1, 0},
                                    {0, 1, 0, 0, 1, 0},
                                    {0, 0, 1, 0, 0, 0}});
  NECO_CHECK(at::equal(removeSmallComponents(in, 3), expected));
  NECO_CHECK(at::equal(removeSmallComponents(in, 1), in));
  // batches are independent
  const at::Tensor two = at::cat({in, 1 - in}, 0);
  const at::Tensor out = removeSmallComponents(two, 3);
  NECO_CHECK(at::equal(out[0], expected[0]));
}

NECO_TEST(LossMasks, badShapesAreRejected) {
  NECO_CHECK_THROWS(neco::InvalidArgumentError, foregroundMask(at::rand({2, 3, 16}), 4, 5));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, foregroundMask(at::rand({2, 3, 9}), 3, 3));  // too small to blur
  NECO_CHECK_THROWS(neco::InvalidArgumentError, gaussianBlur7(at::rand({1, 2, 5, 5}), 0.6));
  ForegroundMaskOptions bad;
  bad.keepMass = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, foregroundMask(at::rand({1, 2, 16}), 4, 4, bad));
}

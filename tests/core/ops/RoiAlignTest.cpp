#include "NecoTest.h"
#include "../checkpoint/ReferenceFixtures.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"
#include "ops/RoiAlign.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using neco::ops::roiAlign;
using neco::ops::RoiAlignOptions;

namespace {

at::Tensor loadF64(const neco::formats::RawTensor& t) {
  const auto bytes = t.contiguousBytes();
  NECO_REQUIRE(t.dtype == neco::formats::DType::F64);
  return at::from_blob(const_cast<std::uint8_t*>(bytes.data()), t.shape, at::kDouble).clone();
}

double maxAbs(const at::Tensor& t) { return t.numel() ? t.abs().max().item<double>() : 0.0; }

struct Aligned {
  at::Tensor out, gradInput;
};

Aligned alignAndDifferentiate(const at::Tensor& input, const at::Tensor& boxes, const at::Tensor& gOut,
                              const RoiAlignOptions& o) {
  const at::Tensor x = input.detach().requires_grad_(true);
  const at::Tensor out = roiAlign(x, boxes, o);
  torch::autograd::backward({out}, {gOut});
  return {out.detach(), x.grad()};
}

}  // namespace

NECO_TEST(RoiAlign, matchesTorchvisionValuesAndGradients) {
  const auto st = neco::formats::readSafetensors(neco::test::dataDir() / "ops" / "roi_align_golden.safetensors");
  std::map<std::string, at::Tensor> t;
  for (const auto& e : st.tensors) t[e.name] = loadF64(e.tensor);
  std::string caseList;
  for (const auto& [key, value] : st.metadata) {
    if (key == "cases") caseList = value;
  }
  std::stringstream cases(caseList);
  int checked = 0;
  for (std::string entry; std::getline(cases, entry, ',');) {
    std::vector<std::string> f;
    std::stringstream parts(entry);
    for (std::string p; std::getline(parts, p, ':');) f.push_back(p);
    NECO_REQUIRE(f.size() == 5);
    const std::string& name = f[0];
    RoiAlignOptions o;
    o.outputSize = std::stoi(f[1]);
    o.spatialScale = std::stod(f[2]);
    o.samplingRatio = std::stoi(f[3]);
    o.aligned = f[4] == "1";
    const at::Tensor input = t.at(name + ".input"), boxes = t.at(name + ".boxes"), gOut = t.at(name + ".g_out");
    const at::Tensor out = t.at(name + ".out"), grad = t.at(name + ".grad_input");

    const Aligned d = alignAndDifferentiate(input, boxes, gOut, o);
    const double e64 = std::max(maxAbs(d.out - out), maxAbs(d.gradInput - grad));
    if (!(e64 <= 1e-12)) ::neco::test::reportFailure(__FILE__, __LINE__, name + " float64: " + std::to_string(e64));

    // float32 (NeCo's case): geometry in float as torchvision computes it, within 1e-5.
    const Aligned s = alignAndDifferentiate(input.to(at::kFloat), boxes.to(at::kFloat), gOut.to(at::kFloat), o);
    const double e32 = std::max(maxAbs(s.out.to(at::kDouble) - out), maxAbs(s.gradInput.to(at::kDouble) - grad));
    if (!(e32 <= 1e-5)) ::neco::test::reportFailure(__FILE__, __LINE__, name + " float32: " + std::to_string(e32));
    ++checked;
  }
  NECO_CHECK_EQ(checked, 6);
}

NECO_TEST(RoiAlign, wholeMapBoxOfAConstantMapIsThatConstant) {
  // Aligned, a box covering the whole map samples only inside it: every bin is the constant.
  const at::Tensor input = at::full({1, 2, 37, 37}, 0.25, at::kDouble);
  const at::Tensor boxes = at::tensor({0.0, 0.0, 0.0, 37.0, 37.0}, at::kDouble).view({1, 5});
  const at::Tensor out = roiAlign(input, boxes);
  NECO_CHECK_EQ(out.size(2), 7);
  NECO_CHECK(maxAbs(out - 0.25) < 1e-15);
}

NECO_TEST(RoiAlign, rejectsBadInputWithReasons) {
  const at::Tensor input = at::zeros({2, 3, 5, 5});
  const at::Tensor good = at::tensor({1.f, 0.f, 0.f, 2.f, 2.f}).view({1, 5});
  NECO_CHECK_THROWS(neco::InvalidArgumentError, roiAlign(at::zeros({3, 5, 5}), good));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, roiAlign(input, at::zeros({1, 4})));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, roiAlign(input, good.to(at::kDouble)));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, roiAlign(input, at::tensor({2.f, 0.f, 0.f, 1.f, 1.f}).view({1, 5})));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, roiAlign(input, at::tensor({0.5f, 0.f, 0.f, 1.f, 1.f}).view({1, 5})));
  NECO_CHECK_THROWS(neco::InvalidArgumentError,
                    roiAlign(input, at::tensor({0.f, 0.f, NAN, 1.f, 1.f}).view({1, 5})));
  RoiAlignOptions zero;
  zero.outputSize = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, roiAlign(input, good, zero));
  NECO_CHECK_EQ(roiAlign(input, at::zeros({0, 5})).size(0), 0);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, roiAlign(at::zeros({2, 3, 0, 5}), good));  // boxes on an empty map
}

NECO_TEST(RoiAlign, samplesOutsideTheMapAddNothingNotEvenNaN) {
  // torchvision skips samples beyond [-1, H] x [-1, W]; a NaN or inf in the map must not leak into
  // a bin through a zero weight.
  at::Tensor input = at::ones({1, 1, 4, 4});
  input[0][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  const at::Tensor outside = at::tensor({0.f, 10.f, 10.f, 12.f, 12.f}).view({1, 5});
  const at::Tensor out = roiAlign(input, outside);
  NECO_CHECK(at::isfinite(out).all().item<bool>());
  NECO_CHECK_EQ(out.abs().max().item<float>(), 0.f);
}

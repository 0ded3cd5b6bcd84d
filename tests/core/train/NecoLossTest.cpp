#include "NecoTest.h"
#include "../checkpoint/ReferenceFixtures.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"
#include "train/NecoLoss.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace neco::train;

namespace {

at::Tensor loadF64(const neco::formats::RawTensor& t) {
  const auto bytes = t.contiguousBytes();
  NECO_REQUIRE(t.dtype == neco::formats::DType::F64);
  return at::from_blob(const_cast<std::uint8_t*>(bytes.data()), t.shape, at::kDouble).clone();
}

double maxAbs(const at::Tensor& t) { return t.abs().max().item<double>(); }

struct Golden {
  std::map<std::string, at::Tensor> tensors;
  std::vector<std::vector<std::string>> cases;
};

Golden loadGolden() {
  const auto st = neco::formats::readSafetensors(neco::test::dataDir() / "train" / "neco_loss_golden.safetensors");
  Golden g;
  for (const auto& e : st.tensors) g.tensors[e.name] = loadF64(e.tensor);
  for (const auto& [key, value] : st.metadata) {
    if (key != "cases") continue;
    std::stringstream list(value);
    for (std::string entry; std::getline(list, entry, ',');) {
      std::vector<std::string> f;
      std::stringstream parts(entry);
      for (std::string p; std::getline(parts, p, ':');) f.push_back(p);
      g.cases.push_back(f);
    }
  }
  return g;
}

struct Evaluated {
  double loss = 0;
  std::vector<at::Tensor> grads;
};

Evaluated evaluate(const Golden& g, const std::string& name, SimilarityKind kind, double sSteep, double tSteep,
                   at::ScalarType dtype) {
  auto at_ = [&](const std::string& key) { return g.tensors.at(name + "." + key).to(dtype).clone(); };
  NecoLossInputs in;
  for (int v = 0; v < 4; ++v) in.studentMaps.push_back(at_("student" + std::to_string(v)).requires_grad_(true));
  for (int c = 0; c < 2; ++c) in.teacherMaps.push_back(at_("teacher" + std::to_string(c)));
  in.inGlobal = at_("in_global");
  in.inCrop = at_("in_crop");
  const at::Tensor refs = at_("refs");
  NecoLossConfig config;
  config.similarity = kind;
  config.student.steepness = sSteep;
  config.teacher.steepness = tSteep;
  const NecoLossResult r = necoLoss(in, [&](int c, int v, const at::Tensor&) { return refs[c][v]; }, config);
  torch::autograd::backward({r.loss});
  Evaluated e;
  e.loss = r.loss.item<double>();
  for (const at::Tensor& m : in.studentMaps) e.grads.push_back(m.grad().to(at::kDouble));
  return e;
}

}  // namespace

NECO_TEST(NecoLoss, matchesThePythonReferenceLossAndGradients) {
  const Golden g = loadGolden();
  NECO_REQUIRE(g.cases.size() == 2);
  for (const auto& f : g.cases) {
    NECO_REQUIRE(f.size() == 4);
    const SimilarityKind kind = f[1] == "cosine" ? SimilarityKind::Cosine : SimilarityKind::Euclidean;
    const double expected = g.tensors.at(f[0] + ".loss").item<double>();
    for (const at::ScalarType dtype : {at::kDouble, at::kFloat}) {
      const Evaluated e = evaluate(g, f[0], kind, std::stod(f[2]), std::stod(f[3]), dtype);
      // float32: the loss to 1e-5 relative; gradients to 2e-4 of their largest entry (rounding the maps
      // to float32 moves similarities by ~1e-7, and each comparator amplifies that by up to steepness / pi)
      const double lossTolerance = dtype == at::kDouble ? 1e-9 : 1e-5;
      const double gradTolerance = dtype == at::kDouble ? 1e-9 : 2e-4;
      const double lossErr = std::abs(e.loss - expected) / std::max(1.0, std::abs(expected));
      double gradErr = 0;
      for (int v = 0; v < 4; ++v) {
        const at::Tensor want = g.tensors.at(f[0] + ".grad_student" + std::to_string(v));
        gradErr = std::max(gradErr, maxAbs(e.grads[static_cast<std::size_t>(v)] - want) / std::max(1e-3, maxAbs(want)));
      }
      if (!(lossErr <= lossTolerance && gradErr <= gradTolerance)) {
        ::neco::test::reportFailure(__FILE__, __LINE__,
                                    f[0] + (dtype == at::kDouble ? " float64" : " float32") + ": loss error " +
                                        std::to_string(lossErr) + ", gradient error " + std::to_string(gradErr));
      }
      std::printf("  %s %s: loss %.10f (reference %.10f), loss error %.2e, gradient error %.2e\n", f[0].c_str(),
                  dtype == at::kDouble ? "float64" : "float32", e.loss, expected, lossErr, gradErr);
    }
  }
}

NECO_TEST(NecoLoss, identicalStudentAndTeacherGiveTheEntropyFloorAndBatchReferencesPermute) {
  // Student == teacher at the same steepness: the loss is the teacher's own entropy, which any
  // change of the student can only raise (Gibbs); and the in-batch references are a permutation of
  // the teacher's aligned patches.
  at::manual_seed(3);
  const at::Tensor map = at::randn({2, 6, 9, 9});
  NecoLossInputs in;
  in.studentMaps = {map.clone().requires_grad_(true), map.clone().requires_grad_(true)};
  in.teacherMaps = {map.clone(), map.clone()};
  const at::Tensor full = at::tensor({0.0, 0.0, 126.0, 126.0}).view({1, 1, 1, 4}).expand({2, 2, 2, 4}).contiguous();
  in.inGlobal = full;
  in.inCrop = full;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  at::Tensor usedRefs, aligned;
  const ReferenceSource refs = [&](int, int, const at::Tensor& teacherAligned) {
    if (!usedRefs.defined()) {
      aligned = teacherAligned;
      usedRefs = batchReferences(teacherAligned, gen);
    }
    return usedRefs;
  };
  const NecoLossResult same = necoLoss(in, refs, NecoLossConfig{});
  in.studentMaps[1] = (map + 0.3 * at::randn_like(map)).requires_grad_(true);
  const NecoLossResult other = necoLoss(in, refs, NecoLossConfig{});
  NECO_CHECK(other.loss.item<double>() > same.loss.item<double>());
  NECO_CHECK_EQ(usedRefs.size(1), 49);
  // the references are the teacher's aligned rows (B K^2 of them), permuted: same multiset of rows
  const at::Tensor rows = aligned.flatten(2).transpose(1, 2).reshape({-1, 6});
  const at::Tensor got = usedRefs.reshape({-1, 6});
  NECO_CHECK_EQ(got.size(0), 98);
  NECO_CHECK(std::get<0>(got.sum(1).sort()).equal(std::get<0>(rows.sum(1).sort())));
  NECO_CHECK(!got.equal(rows));
  NECO_CHECK(same.sub[0][1] > 0 && same.sub[1][0] > 0 && same.sub[0][0] == 0);
}

NECO_TEST(NecoLoss, rejectsInconsistentInputs) {
  NecoLossInputs in;
  in.studentMaps = {at::zeros({2, 4, 9, 9}), at::zeros({2, 4, 3, 3})};
  in.teacherMaps = {at::zeros({2, 4, 9, 9})};
  in.inGlobal = at::zeros({2, 1, 2, 4});
  in.inCrop = at::zeros({2, 3, 1, 4});  // V = 3 but two student maps
  const ReferenceSource refs = [](int, int, const at::Tensor& t) { return batchReferences(t); };
  NECO_CHECK_THROWS(neco::InvalidArgumentError, necoLoss(in, refs, NecoLossConfig{}));
  in.inCrop = at::zeros({2, 2, 1, 4});
  in.teacherMaps = {at::zeros({2, 5, 9, 9})};  // channel mismatch
  NECO_CHECK_THROWS(neco::InvalidArgumentError, necoLoss(in, refs, NecoLossConfig{}));
}

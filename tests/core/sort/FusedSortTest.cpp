// The fused soft sort against the dense (published) formulation, finite differences in float64, the
// hard-sort limit, the fused cross-entropy and the torch-free facade.
#include "NecoTest.h"
#include "../checkpoint/ReferenceFixtures.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"
#include "neco/core/SoftSort.h"
#include "sort/DenseSort.h"
#include "sort/FusedSort.h"
#include "sort/FusedSortCpu.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace neco::sort;

namespace {

const Relaxation kAll[] = {Relaxation::Cauchy, Relaxation::Logistic, Relaxation::LogisticPhi,
                           Relaxation::Gaussian, Relaxation::Reciprocal, Relaxation::Optimal};

double maxAbs(const at::Tensor& t) { return t.abs().max().item<double>(); }

struct Grads {
  at::Tensor sorted, permutation, input;
};

/// Values, matrix and d(<gS, sorted> + <gX, X>)/dx of one implementation.
template <typename SortFn>
Grads run(SortFn sortFn, const at::Tensor& x0, const at::Tensor& gS, const at::Tensor& gX) {
  at::Tensor x = x0.clone().set_requires_grad(true);
  const SoftSortResult r = sortFn(x);
  const at::Tensor loss = (r.sorted * gS).sum() + (r.permutation * gX).sum();
  const at::Tensor g = torch::autograd::grad({loss}, {x})[0];
  return {r.sorted.detach(), r.permutation.detach(), g};
}

std::string label(NetworkKind kind, int n, Relaxation r, double s) {
  return std::string(networkName(kind)) + " n=" + std::to_string(n) + " " + relaxationName(r) +
         " steepness=" + std::to_string(static_cast<int>(s));
}

}  // namespace

NECO_TEST(FusedSort, matchesTheDenseFormulationValuesMatricesAndGradients) {
  // Two checks per configuration:
  //  - float64: the fused op and the dense formulation are the same function (<= 1e-9);
  //  - float32: within 1e-5 of the float64 truth on values, matrices and gradients (gradients relative
  //    to their largest entry: they scale with the steepness, up to ~s / pi per comparator). The dense
  //    formulation in float32 misses this by up to ~1e-3 at steepness 1000 (its values drift through
  //    the layers and every alpha amplifies the drift); the fused op carries values in float64.
  at::manual_seed(3);
  double worstValue = 0, worstMatrix = 0, worstGrad = 0, worstDenseGrad = 0, worst64 = 0;
  for (NetworkKind kind : {NetworkKind::Bitonic, NetworkKind::OddEven}) {
    for (int n : {2, 3, 7, 16, 49, 64, 100}) {
      const SortingNetwork net = buildNetwork(kind, n);
      // float32-representable inputs, so that the float64 truth sees exactly what the fp32 runs see
      const at::Tensor x32 = at::rand({3, n}) * 2 - 1, gS32 = at::randn({3, n}), gX32 = at::randn({3, n, n});
      const at::Tensor x = x32.to(at::kDouble), gS = gS32.to(at::kDouble), gX = gX32.to(at::kDouble);
      for (Relaxation relaxation : kAll) {
        for (double steepness : {1.0, 10.0, 100.0, 1000.0}) {
          const SortOptions o{relaxation, steepness, 0.25};
          auto dense = [&](const at::Tensor& t) { return denseSoftSort(t, net, o); };
          auto fused = [&](const at::Tensor& t) { return softSort(t, kind, o); };
          const Grads d64 = run(dense, x, gS, gX), f64 = run(fused, x, gS, gX);
          const Grads d32 = run(dense, x32, gS32, gX32), f32 = run(fused, x32, gS32, gX32);
          const double scale = std::max(1.0, maxAbs(d64.input));
          const double e64 = std::max({maxAbs(f64.sorted - d64.sorted), maxAbs(f64.permutation - d64.permutation),
                                       maxAbs(f64.input - d64.input) / scale});
          const double ev = maxAbs(f32.sorted.to(at::kDouble) - d64.sorted);
          const double em = maxAbs(f32.permutation.to(at::kDouble) - d64.permutation);
          const double eg = maxAbs(f32.input.to(at::kDouble) - d64.input) / scale;
          const double egDense = maxAbs(d32.input.to(at::kDouble) - d64.input) / scale;
          worst64 = std::max(worst64, e64);
          worstValue = std::max(worstValue, ev);
          worstMatrix = std::max(worstMatrix, em);
          worstGrad = std::max(worstGrad, eg);
          worstDenseGrad = std::max(worstDenseGrad, egDense);
          if (!(e64 <= 1e-9 && ev <= 1e-5 && em <= 1e-5 && eg <= 1e-5)) {
            ::neco::test::reportFailure(__FILE__, __LINE__, label(kind, n, relaxation, steepness) + ": float64 " +
                                                                std::to_string(e64) + ", fp32 values " + std::to_string(ev) +
                                                                ", matrix " + std::to_string(em) + ", gradient " +
                                                                std::to_string(eg) + " (dense fp32 " +
                                                                std::to_string(egDense) + ")");
          }
        }
      }
    }
  }
  std::printf("  float64 fused vs dense: %.2e; fp32 vs float64 truth: values %.2e, matrix %.2e, gradient %.2e "
              "(dense fp32: %.2e)\n", worst64, worstValue, worstMatrix, worstGrad, worstDenseGrad);
}

NECO_TEST(FusedSort, gradientsMatchFiniteDifferencesInFloat64) {
  at::manual_seed(4);
  for (NetworkKind kind : {NetworkKind::Bitonic, NetworkKind::OddEven}) {
    for (int n : {3, 7, 16}) {
      const at::Tensor x = at::rand({2, n}, at::kDouble) * 2 - 1;
      const at::Tensor gS = at::randn({2, n}, at::kDouble), gX = at::randn({2, n, n}, at::kDouble);
      for (Relaxation relaxation : kAll) {
        for (double steepness : {1.0, 10.0}) {
          const SortOptions o{relaxation, steepness, 0.25};
          auto objective = [&](const at::Tensor& t) {
            const auto r = softSort(t, kind, o);
            return ((r.sorted * gS).sum() + (r.permutation * gX).sum()).item<double>();
          };
          const Grads g = run([&](const at::Tensor& t) { return softSort(t, kind, o); }, x, gS, gX);
          const double h = 1e-6;
          double worst = 0;
          for (int64_t i = 0; i < x.numel(); ++i) {
            at::Tensor up = x.clone(), down = x.clone();
            up.view(-1)[i] += h;
            down.view(-1)[i] -= h;
            const double numeric = (objective(up) - objective(down)) / (2 * h);
            worst = std::max(worst, std::abs(numeric - g.input.view(-1)[i].item<double>()) / std::max(1.0, std::abs(numeric)));
          }
          if (!(worst < 1e-6)) {
            ::neco::test::reportFailure(__FILE__, __LINE__, label(kind, n, relaxation, steepness) +
                                                                ": finite-difference mismatch " + std::to_string(worst));
          }
        }
      }
    }
  }
}

NECO_TEST(FusedSort, hardLimitRowAndColumnSums) {
  at::manual_seed(5);
  for (NetworkKind kind : {NetworkKind::Bitonic, NetworkKind::OddEven}) {
    for (int n : {2, 3, 7, 16, 49, 64}) {
      const at::Tensor x = at::rand({6, n}, at::kDouble) * 2 - 1;
      const auto [values, order] = at::sort(x, 1);
      const at::Tensor hard = at::zeros({6, n, n}, at::kDouble).scatter_(1, order.unsqueeze(1), 1.0);
      const auto exact = softSort(x, kind, SortOptions{Relaxation::Logistic, 1e9, 0.25});
      NECO_CHECK(at::allclose(exact.sorted, values, 0, 1e-12));
      NECO_CHECK(at::allclose(exact.permutation, hard, 0, 1e-12));
      for (Relaxation relaxation : kAll) {
        const auto r = softSort(x.to(at::kFloat), kind, SortOptions{relaxation, 100.0, 0.25});
        NECO_CHECK(maxAbs(r.permutation.sum(1) - 1) < 1e-5);
        NECO_CHECK(maxAbs(r.permutation.sum(2) - 1) < 1e-5);
        NECO_CHECK(r.permutation.ge(0).all().item<bool>());
        NECO_CHECK(at::allclose(at::matmul(x.to(at::kFloat).unsqueeze(1), r.permutation).squeeze(1), r.sorted, 1e-5,
                                1e-5));
      }
    }
  }
}

NECO_TEST(FusedSort, fusedCrossEntropyMatchesTheComposedLoss) {
  at::manual_seed(6);
  for (NetworkKind kind : {NetworkKind::Bitonic, NetworkKind::OddEven}) {
    for (int n : {7, 49}) {
      const at::Tensor s0 = at::rand({5, n}, at::kDouble) * 2 - 1;
      const at::Tensor t = s0 + 0.1 * at::randn({5, n}, at::kDouble);
      const SortOptions so{Relaxation::Cauchy, 30.0, 0.25}, to{Relaxation::Cauchy, 100.0, 0.25};
      at::Tensor s1 = s0.clone().set_requires_grad(true), s2 = s0.clone().set_requires_grad(true);
      const at::Tensor fused = sortCrossEntropy(s1, t, kind, so, to);
      const SortingNetwork net = buildNetwork(kind, n);
      const at::Tensor p = denseSoftSort(s2, net, so).permutation, q = denseSoftSort(t, net, to).permutation;
      const at::Tensor composed = -(q * at::log(at::clamp_min(p, 1e-12))).sum(2).mean(1);
      NECO_CHECK(at::allclose(fused, composed, 1e-9, 1e-10));
      const at::Tensor w = at::rand({5}, at::kDouble);
      const at::Tensor g1 = torch::autograd::grad({(fused * w).sum()}, {s1})[0];
      const at::Tensor g2 = torch::autograd::grad({(composed * w).sum()}, {s2})[0];
      NECO_CHECK(maxAbs(g1 - g2) / std::max(1.0, maxAbs(g2)) < 1e-9);
    }
  }
  // float32: the loss and its gradient stay within 1e-5 of the float64 result.
  const at::Tensor s = at::rand({64, 49}) * 2 - 1, t = at::rand({64, 49}) * 2 - 1;
  const SortOptions o{Relaxation::Cauchy, 100.0, 0.25};
  const at::Tensor l32 = sortCrossEntropy(s, t, NetworkKind::Bitonic, o, o);
  const at::Tensor l64 = sortCrossEntropy(s.to(at::kDouble), t.to(at::kDouble), NetworkKind::Bitonic, o, o);
  NECO_CHECK(maxAbs(l32.to(at::kDouble) - l64) / maxAbs(l64) < 1e-5);
}

NECO_TEST(FusedSort, lowPrecisionInputsSortInFloat32AndBadInputIsRejected) {
  const at::Tensor x = at::rand({4, 49}) * 2 - 1;
  const SortOptions o{Relaxation::Cauchy, 100.0, 0.25};
  const auto ref = softSort(x.to(at::kHalf).to(at::kFloat), NetworkKind::Bitonic, o);
  const auto half = softSort(x.to(at::kHalf), NetworkKind::Bitonic, o);
  NECO_CHECK(half.permutation.scalar_type() == at::kFloat);
  NECO_CHECK(at::equal(half.permutation, ref.permutation));
  NECO_CHECK(softSort(x.to(at::kBFloat16), NetworkKind::Bitonic, o).sorted.scalar_type() == at::kFloat);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, softSort(at::zeros({4}), NetworkKind::Bitonic, o));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, softSort(at::zeros({4, 1}), NetworkKind::Bitonic, o));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, softSort(at::zeros({4, 5}, at::kInt), NetworkKind::Bitonic, o));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, softSort(x, NetworkKind::Bitonic, SortOptions{Relaxation::Cauchy, 0.0, 0.25}));
  NECO_CHECK_THROWS(neco::InvalidArgumentError,
                    sortCrossEntropy(x, x.slice(1, 0, 10), NetworkKind::Bitonic, o, o));
  NECO_CHECK(softSort(at::zeros({0, 5}), NetworkKind::OddEven, o).permutation.size(0) == 0);
}

NECO_TEST(FusedSort, instructionSetsAgree) {
  const KernelSet* avx2 = avx2Kernels();
  if (!avx2) NECO_SKIP("no AVX2 kernels on this architecture");
  const auto net = sharedFlatNetwork(NetworkKind::Bitonic, 49);
  const KernelSet& base = defaultKernels();
  std::vector<float> in(49), s1(49), s2(49), p1(49 * 49), p2(49 * 49), a1(net->comparatorCount()),
      a2(net->comparatorCount()), g1(49), g2(49), gp(49 * 49);
  ScratchBuffer<float> scratch(backwardScratchSize(*net));
  for (int i = 0; i < 49; ++i) in[i] = std::sin(i * 1.7f);
  for (int i = 0; i < 49 * 49; ++i) gp[i] = std::cos(i * 0.37f);
  const RelaxParams relax{Relaxation::Cauchy, 100.0, 0.25};
  base.f32.forward(*net, relax, in.data(), s1.data(), p1.data(), a1.data(), scratch.view());
  avx2->f32.forward(*net, relax, in.data(), s2.data(), p2.data(), a2.data(), scratch.view());
  base.f32.backward(*net, relax, in.data(), a1.data(), s1.data(), gp.data(), g1.data(), scratch.view());
  avx2->f32.backward(*net, relax, in.data(), a2.data(), s1.data(), gp.data(), g2.data(), scratch.view());
  double e = 0;
  for (int i = 0; i < 49 * 49; ++i) e = std::max(e, double(std::abs(p1[i] - p2[i])));
  for (int i = 0; i < 49; ++i) e = std::max(e, double(std::abs(g1[i] - g2[i])) / 100.0);
  NECO_CHECK(e < 1e-5);
  std::printf("  kernels in use: %s\n", cpuSortIsa());
}

NECO_TEST(FusedSort, checkpointedBackwardMatchesTheFullTrajectory) {
  // n = 300 odd-even: 300 layers x 300^2 exceeds the per-thread trajectory budget, so backward
  // recomputes from sqrt(L) checkpoints; compare with float64 finite differences on a few entries.
  const int n = 300;
  NECO_REQUIRE(segmentLength(n, n) < n);
  at::manual_seed(8);
  const at::Tensor x = at::rand({1, n}, at::kDouble) * 2 - 1;
  const at::Tensor gX = at::randn({1, n, n}, at::kDouble);
  const SortOptions o{Relaxation::Cauchy, 5.0, 0.25};
  const Grads g = run([&](const at::Tensor& t) { return softSort(t, NetworkKind::OddEven, o); }, x, at::zeros({1, n}, at::kDouble), gX);
  for (int64_t i : {0, 17, 150, 299}) {
    at::Tensor up = x.clone(), down = x.clone();
    up[0][i] += 1e-6;
    down[0][i] -= 1e-6;
    const double fu = (softSort(up, NetworkKind::OddEven, o).permutation * gX).sum().item<double>();
    const double fd = (softSort(down, NetworkKind::OddEven, o).permutation * gX).sum().item<double>();
    NECO_CHECK_NEAR(g.input[0][i].item<double>(), (fu - fd) / 2e-6, 1e-5 * std::max(1.0, std::abs((fu - fd) / 2e-6)));
  }
}

NECO_TEST(SoftSortFacade, rowsLayoutsAndValidity) {
  using namespace neco;
  const SortNetworkLayout bitonic = sortNetworkLayout(SortNetworkKind::Bitonic, 49);
  NECO_CHECK_EQ(bitonic.layers.size(), 21u);
  NECO_CHECK_EQ(bitonic.comparatorCount(), 483);
  NECO_CHECK(bitonic.valid && bitonic.warning.empty());
  NECO_CHECK_EQ(sortNetworkLayout(SortNetworkKind::OddEven, 49).layers.size(), 49u);
  const SortNetworkLayout broken = sortNetworkLayout(SortNetworkKind::Bitonic, 22);
  NECO_CHECK(!broken.valid);
  NECO_CHECK(broken.warning.find("odd_even") != std::string::npos);
  NECO_CHECK(broken.warning.find("22") != std::string::npos);
  NECO_CHECK(bitonicValidityWarning(64).empty());
  NECO_CHECK_THROWS(InvalidArgumentError, sortNetworkLayout(SortNetworkKind::Bitonic, 1));

  std::vector<float> values(49);
  for (int i = 0; i < 49; ++i) values[i] = std::sin(i * 0.9f);
  SoftSortSettings settings;
  const SoftSortRow row = softSortRow(values, settings);
  const at::Tensor x = at::from_blob(values.data(), {1, 49}, at::kFloat).clone();
  const auto ref = softSort(x, NetworkKind::Bitonic, SortOptions{Relaxation::Cauchy, 100.0, 0.25});
  const at::Tensor perm = at::from_blob(const_cast<float*>(row.permutation.data()), {1, 49, 49}, at::kFloat);
  NECO_CHECK(at::equal(perm, ref.permutation));
  const at::Tensor alphas = swapWeights(x, NetworkKind::Bitonic, SortOptions{Relaxation::Cauchy, 100.0, 0.25});
  NECO_CHECK_EQ(row.swapWeights.size(), 21u);
  NECO_CHECK_NEAR(row.swapWeights[20].back(), alphas[0][482].item<float>(), 0.0);

  SoftSortSettings teacherSettings = settings;
  teacherSettings.steepness = 1000;
  const SoftSortRow teacher = softSortRow(values, teacherSettings);
  const std::vector<float> ce = rankCrossEntropy(teacher, row);
  double mean = 0;
  for (float v : ce) mean += v / 49.0;
  const at::Tensor fused = sortCrossEntropy(x, x, NetworkKind::Bitonic, SortOptions{Relaxation::Cauchy, 100.0, 0.25},
                                            SortOptions{Relaxation::Cauchy, 1000.0, 0.25});
  NECO_CHECK_NEAR(mean, fused[0].item<double>(), 1e-5);
  NECO_CHECK_THROWS(InvalidArgumentError, softSortRow({1.0f}, settings));
  NECO_CHECK_THROWS(InvalidArgumentError, softSortRow({1.0f, NAN}, settings));
  NECO_CHECK(parseSortRelaxation("logistic_phi") == SortRelaxation::LogisticPhi);
  NECO_CHECK_THROWS(InvalidArgumentError, parseSortNetwork("bubble"));
}

NECO_TEST(FusedSortCuda, matchesTheCpuOp) {
  if (!torch::cuda::is_available()) {
    NECO_SKIP(NECO_TORCH_HAS_CUDA ? "no CUDA device available to LibTorch" : "LibTorch in this build has no CUDA");
  }
  at::manual_seed(9);
  for (NetworkKind kind : {NetworkKind::Bitonic, NetworkKind::OddEven}) {
    for (int n : {2, 3, 7, 16, 49, 64, 100, 130}) {  // 130: X^T no longer fits in shared memory
      for (Relaxation relaxation : kAll) {
        for (double steepness : {1.0, 100.0, 1000.0}) {
          const SortOptions o{relaxation, steepness, 0.25};
          const at::Tensor x = at::rand({37, n}) * 2 - 1, gS = at::randn({37, n}), gX = at::randn({37, n, n});
          auto fused = [&](const at::Tensor& t) { return softSort(t, kind, o); };
          const Grads cpu = run(fused, x, gS, gX);
          const Grads gpu = run(fused, x.cuda(), gS.cuda(), gX.cuda());
          const double scale = std::max(1.0, maxAbs(cpu.input));
          const double ev = maxAbs(gpu.sorted.cpu() - cpu.sorted), em = maxAbs(gpu.permutation.cpu() - cpu.permutation);
          const double eg = maxAbs(gpu.input.cpu() - cpu.input) / scale;
          if (!(ev <= 1e-5 && em <= 1e-5 && eg <= 1e-5)) {
            ::neco::test::reportFailure(__FILE__, __LINE__, label(kind, n, relaxation, steepness) + ": CUDA vs CPU values " +
                                                                std::to_string(ev) + ", matrix " + std::to_string(em) +
                                                                ", gradient " + std::to_string(eg));
          }
        }
      }
    }
  }
  const at::Tensor s = at::rand({300, 49}) * 2 - 1, t = at::rand({300, 49}) * 2 - 1;
  const SortOptions o{Relaxation::Cauchy, 100.0, 0.25};
  const at::Tensor cpuLoss = sortCrossEntropy(s, t, NetworkKind::Bitonic, o, o);
  const at::Tensor gpuLoss = sortCrossEntropy(s.cuda(), t.cuda(), NetworkKind::Bitonic, o, o).cpu();
  NECO_CHECK(maxAbs(cpuLoss - gpuLoss) / maxAbs(cpuLoss) < 1e-5);
  const auto half = softSort(s.cuda().to(at::kHalf), NetworkKind::Bitonic, o);
  NECO_CHECK(half.permutation.scalar_type() == at::kFloat);
}

// ---- golden values from an independent Python implementation (tests/reference/make_sort_fixtures.py)

namespace {

at::Tensor loadF64(const neco::formats::RawTensor& t) {
  const auto bytes = t.contiguousBytes();
  NECO_REQUIRE(t.dtype == neco::formats::DType::F64);
  return at::from_blob(const_cast<std::uint8_t*>(bytes.data()), t.shape, at::kDouble).clone();
}

}  // namespace

NECO_TEST(SortGolden, fusedAndDenseMatchThePythonReference) {
  const auto file = neco::test::dataDir() / "sort" / "diffsort_golden.safetensors";
  const auto st = neco::formats::readSafetensors(file);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& t : st.tensors) tensors[t.name] = loadF64(t.tensor);
  std::string caseList;
  for (const auto& [key, value] : st.metadata) {
    if (key == "cases") caseList = value;
  }
  NECO_REQUIRE(!caseList.empty());
  std::stringstream cases(caseList);
  std::string entry;
  int checked = 0;
  while (std::getline(cases, entry, ',')) {
    std::vector<std::string> f;
    std::stringstream parts(entry);
    for (std::string p; std::getline(parts, p, ':');) f.push_back(p);
    NECO_REQUIRE(f.size() == 5);
    const std::string& name = f[0];
    const NetworkKind kind = parseNetwork(f[1]);
    const SortOptions o{parseRelaxation(f[3]), std::stod(f[4]), 0.25};
    const at::Tensor x = tensors.at(name + ".x"), gS = tensors.at(name + ".g_sorted"), gX = tensors.at(name + ".g_X");
    const at::Tensor sorted = tensors.at(name + ".sorted"), X = tensors.at(name + ".X"), grad = tensors.at(name + ".grad_x");
    const double scale = std::max(1.0, maxAbs(grad));
    auto check = [&](const Grads& g, double tolerance, const char* what) {
      const double e = std::max({maxAbs(g.sorted.to(at::kDouble) - sorted), maxAbs(g.permutation.to(at::kDouble) - X),
                                 maxAbs(g.input.to(at::kDouble) - grad) / scale});
      if (!(e <= tolerance)) {
        ::neco::test::reportFailure(__FILE__, __LINE__, name + " (" + what + "): error " + std::to_string(e));
      }
    };
    check(run([&](const at::Tensor& t) { return softSort(t, kind, o); }, x, gS, gX), 1e-9, "fused float64");
    // float32: against the float64 op (just shown equal to the reference) at the same rounded inputs,
    // so that the input rounding itself (amplified by up to steepness / pi) is not counted.
    const at::Tensor x32 = x.to(at::kFloat), gS32 = gS.to(at::kFloat), gX32 = gX.to(at::kFloat);
    const Grads truth = run([&](const at::Tensor& t) { return softSort(t, kind, o); }, x32.to(at::kDouble),
                            gS32.to(at::kDouble), gX32.to(at::kDouble));
    const Grads single = run([&](const at::Tensor& t) { return softSort(t, kind, o); }, x32, gS32, gX32);
    const double e32 = std::max({maxAbs(single.sorted.to(at::kDouble) - truth.sorted),
                                 maxAbs(single.permutation.to(at::kDouble) - truth.permutation),
                                 maxAbs(single.input.to(at::kDouble) - truth.input) / std::max(1.0, maxAbs(truth.input))});
    if (!(e32 <= 1e-5)) ::neco::test::reportFailure(__FILE__, __LINE__, name + " (fused float32): " + std::to_string(e32));
    const SortingNetwork net = buildNetwork(kind, static_cast<int>(x.size(1)));
    check(run([&](const at::Tensor& t) { return denseSoftSort(t, net, o); }, x, gS, gX), 1e-9, "dense float64");
    ++checked;
  }
  NECO_CHECK_EQ(checked, 10);
}

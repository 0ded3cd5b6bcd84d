// The CUDA RoI-Align (gpu/src/RoiAlign.cu through neco::ops::roiAlign) against its CPU twin, values and
// gradients, over random boxes: inside, partly and fully outside the map, tiny, integer-aligned,
// degenerate, with images that no box refers to and with no boxes at all. RoiAlignCuda needs a device
// (gpu label; skipped with the reason without one); RoiAlignDevice runs anywhere (core label) and checks
// how devices other than the CPU are refused and how gpu/ reports a missing build or device.
#include "NecoTest.h"
#include "neco/core/Error.h"
#include "neco/gpu/RoiAlign.h"
#include "neco/gpu/Status.h"
#include "ops/RoiAlign.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using neco::ops::roiAlign;
using neco::ops::RoiAlignOptions;

namespace {

double maxAbs(const at::Tensor& t) {
  return t.numel() ? t.abs().max().item<double>() : 0.0;
}

template <typename Exception, typename Fn>
std::string messageOf(Fn fn) {
  try {
    fn();
  } catch (const Exception& e) {
    return e.what();
  } catch (...) {
    return "<other exception>";
  }
  return "<no exception>";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct MapCase {
  int64_t images, channels, height, width;
  RoiAlignOptions options;
  int64_t boxes;
  const char* name;
};

RoiAlignOptions opts(int k, double scale, int ratio, bool aligned) {
  RoiAlignOptions o;
  o.outputSize = k;
  o.spatialScale = scale;
  o.samplingRatio = ratio;
  o.aligned = aligned;
  return o;
}

/// Images that boxes may refer to: every other one when there are three or more, so the rest must get
/// an exactly zero gradient.
std::vector<int64_t> usedImages(int64_t images) {
  std::vector<int64_t> used;
  for (int64_t i = 0; i < images; i += images >= 3 ? 2 : 1) used.push_back(i);
  return used;
}

/// (R, 5) float64 boxes in input units (map units / scale), cycling through six kinds of box.
at::Tensor randomBoxes(const MapCase& c, std::mt19937& rng) {
  const std::vector<int64_t> used = usedImages(c.images);
  const double H = static_cast<double>(c.height), W = static_cast<double>(c.width), s = c.options.spatialScale;
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  auto integer = [&](int64_t lo, int64_t hi) {
    return static_cast<double>(std::uniform_int_distribution<int64_t>(lo, hi)(rng));
  };
  std::vector<double> v;
  for (int64_t r = 0; r < c.boxes; ++r) {
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    switch (r % 6) {
      case 0:  // inside
        x1 = uniform(0, W);
        y1 = uniform(0, H);
        x2 = x1 + uniform(0.3, W - x1 + 0.3);
        y2 = y1 + uniform(0.3, H - y1 + 0.3);
        break;
      case 1:  // partly outside, on any side
        x1 = uniform(-W / 2, W);
        y1 = uniform(-H / 2, H);
        x2 = x1 + uniform(0.5, W);
        y2 = y1 + uniform(0.5, H);
        break;
      case 2:  // tiny: one sample per bin, possibly straddling the border
        x1 = uniform(-1.2, W + 0.2);
        y1 = uniform(-1.2, H + 0.2);
        x2 = x1 + uniform(0, 0.05);
        y2 = y1 + uniform(0, 0.05);
        break;
      case 3:  // entirely right of [-1, W]: every sample falls outside
        x1 = uniform(W + 1.6, 2 * W + 2);
        y1 = uniform(-H, 2 * H);
        x2 = x1 + uniform(0.5, W);
        y2 = y1 + uniform(0.5, H);
        break;
      case 4:  // integer corners (NeCo's token boxes): exact grid sizes and sample positions
        x1 = integer(-1, c.width);
        y1 = integer(-1, c.height);
        x2 = x1 + integer(1, c.width);
        y2 = y1 + integer(1, c.height);
        break;
      default:  // degenerate: zero width or inverted
        x1 = uniform(0, W);
        y1 = uniform(0, H);
        x2 = r % 12 == 5 ? x1 : x1 - uniform(0, 2);
        y2 = y1 + uniform(0, 2);
        break;
    }
    const double image = static_cast<double>(used[static_cast<std::size_t>(r) % used.size()]);
    v.insert(v.end(), {image, x1 / s, y1 / s, x2 / s, y2 / s});
  }
  return at::tensor(v, at::kDouble).view({c.boxes, 5});
}

struct Aligned {
  at::Tensor out, grad;
};

Aligned alignAndDifferentiate(const at::Tensor& input, const at::Tensor& boxes, const at::Tensor& gOut,
                              const RoiAlignOptions& o) {
  const at::Tensor x = input.detach().requires_grad_(true);
  const at::Tensor out = roiAlign(x, boxes, o);
  torch::autograd::backward({out}, {gOut});
  return {out.detach(), x.grad()};
}

/// |a - b| relative to max(1, |b|): gradients of many overlapping boxes grow with their count.
double relativeError(const at::Tensor& gpu, const at::Tensor& cpu) {
  return maxAbs(gpu.cpu() - cpu) / std::max(1.0, maxAbs(cpu));
}

}  // namespace

NECO_TEST(RoiAlignCuda, forwardAndBackwardMatchTheCpuTwin) {
  if (!torch::cuda::is_available()) {
    NECO_SKIP(NECO_TORCH_HAS_CUDA ? "no CUDA device available to LibTorch" : "LibTorch in this build has no CUDA");
  }
  const at::Device cuda(at::kCUDA, 0);
  if (!neco::gpu::kernelsBuilt()) {  // a CUDA LibTorch but neco_gpu configured without CUDA: say so clearly
    const at::Tensor x = at::rand({1, 2, 5, 5}, cuda), b = at::tensor({0.f, 0.f, 0.f, 2.f, 2.f}, cuda).view({1, 5});
    NECO_CHECK(contains(messageOf<neco::UnsupportedError>([&] { roiAlign(x, b); }), "no CUDA kernels"));
    return;
  }
  const std::vector<MapCase> cases = {
      {1, 3, 16, 16, opts(7, 1.0, -1, true), 42, "global map"},
      {4, 5, 16, 16, opts(7, 1.0, -1, true), 66, "four images, two without boxes"},
      {3, 2, 7, 7, opts(7, 1.0, -1, true), 48, "local map"},
      {2, 4, 9, 13, opts(3, 0.5, 2, true), 30, "non-square, fixed sampling ratio, scale 1/2"},
      {5, 3, 12, 10, opts(5, 1.0 / 14.0, -1, false), 36, "pixel boxes, scale 1/14, not aligned"},
      {2, 2, 1, 1, opts(2, 1.0, -1, true), 12, "1 x 1 map"},
      {3, 6, 16, 16, opts(7, 1.0, -1, true), 0, "no boxes"},
      {64, 384, 16, 16, opts(7, 1.0, -1, true), 64, "NeCo: batch 64, C 384, one box per image"},
  };
  std::mt19937 rng(2024);
  at::manual_seed(11);
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    const double tolerance = dtype == at::kFloat ? 1e-5 : 1e-10;
    double worstOut = 0, worstGrad = 0;
    for (const MapCase& c : cases) {
      const at::Tensor x = at::randn({c.images, c.channels, c.height, c.width}, at::kDouble).to(dtype);
      const at::Tensor boxes = randomBoxes(c, rng).to(dtype);
      const at::Tensor gOut = at::randn({c.boxes, c.channels, c.options.outputSize, c.options.outputSize}).to(dtype);
      const Aligned cpu = alignAndDifferentiate(x, boxes, gOut, c.options);
      const Aligned gpu = alignAndDifferentiate(x.to(cuda), boxes.to(cuda), gOut.to(cuda), c.options);
      NECO_REQUIRE(gpu.out.is_cuda() && gpu.grad.is_cuda() && gpu.out.sizes() == cpu.out.sizes());
      const double eOut = relativeError(gpu.out, cpu.out), eGrad = relativeError(gpu.grad, cpu.grad);
      worstOut = std::max(worstOut, eOut);
      worstGrad = std::max(worstGrad, eGrad);
      const std::string label = std::string(c.name) + (dtype == at::kFloat ? " float32" : " float64");
      if (!(eOut <= tolerance && eGrad <= tolerance)) {
        ::neco::test::reportFailure(
            __FILE__, __LINE__,
            label + ": CUDA vs CPU forward " + std::to_string(eOut) + ", backward " + std::to_string(eGrad));
      }
      const std::vector<int64_t> used = usedImages(c.images);
      for (int64_t i = 0; i < c.images; ++i) {
        if (c.boxes > 0 && std::find(used.begin(), used.end(), i) != used.end()) continue;
        if (maxAbs(gpu.grad[i]) != 0.0)
          ::neco::test::reportFailure(__FILE__, __LINE__, label + ": gradient of an image without boxes");
      }
      // atomicAdd: a second backward may differ in the last bits, never by more than the tolerance.
      const Aligned again = alignAndDifferentiate(x.to(cuda), boxes.to(cuda), gOut.to(cuda), c.options);
      NECO_CHECK(relativeError(again.grad, cpu.grad) <= tolerance);
    }
    std::printf("  %s: worst CUDA vs CPU forward %.3g, backward %.3g (relative to max(1, |CPU|))\n",
                dtype == at::kFloat ? "float32" : "float64", worstOut, worstGrad);
  }
}

NECO_TEST(RoiAlignCuda, stridedInputsAndDeviceMismatch) {
  if (!torch::cuda::is_available()) {
    NECO_SKIP(NECO_TORCH_HAS_CUDA ? "no CUDA device available to LibTorch" : "LibTorch in this build has no CUDA");
  }
  if (!neco::gpu::kernelsBuilt())
    NECO_SKIP("this build has no CUDA kernels (checked by forwardAndBackwardMatchTheCpuTwin)");
  const at::Device cuda(at::kCUDA, 0);
  const at::Tensor x = at::randn({2, 3, 11, 9});
  const at::Tensor boxes = at::tensor({0.f, -2.f, 1.f, 6.5f, 8.f, 1.f, 0.25f, 0.5f, 9.f, 12.f}).view({2, 5});
  const at::Tensor strided = x.to(cuda).transpose(2, 3).contiguous().transpose(2, 3);  // same values, W-major
  NECO_REQUIRE(!strided.is_contiguous());
  NECO_CHECK(relativeError(roiAlign(strided, boxes.to(cuda)), roiAlign(x, boxes)) <= 1e-6);
  NECO_CHECK(contains(messageOf<neco::InvalidArgumentError>([&] { roiAlign(x.to(cuda), boxes); }), "same device"));
}

NECO_TEST(RoiAlignDevice, otherDevicesAreRefusedWithReasons) {
  const at::Tensor meta = at::empty({2, 3, 5, 5}, at::TensorOptions().device(at::kMeta));
  const at::Tensor metaBoxes = at::empty({1, 5}, at::TensorOptions().device(at::kMeta));
  const at::Tensor cpuBoxes = at::tensor({0.f, 0.f, 0.f, 2.f, 2.f}).view({1, 5});
  const std::string unsupported = messageOf<neco::UnsupportedError>([&] { roiAlign(meta, metaBoxes); });
  NECO_CHECK(contains(unsupported, "only CPU and CUDA") && contains(unsupported, "meta"));
  NECO_CHECK(contains(messageOf<neco::InvalidArgumentError>([&] { roiAlign(meta, cpuBoxes); }), "same device"));
}

NECO_TEST(RoiAlignDevice, gpuEntryPointsReportAMissingBuildOrDevice) {
  using neco::gpu::GpuStatus;
  neco::gpu::RoiAlignShape shape;
  shape.images = 1, shape.channels = 1, shape.height = 4, shape.width = 4;
  float input[16] = {0}, boxes[5] = {0.f, 0.f, 0.f, 2.f, 2.f}, out[49] = {0};
  if (!neco::gpu::kernelsBuilt()) {
    NECO_CHECK(neco::gpu::launch_roi_align_forward(shape, input, boxes, 1, out, nullptr) == GpuStatus::NotBuilt);
    NECO_CHECK(neco::gpu::launch_roi_align_backward(shape, out, boxes, 1, input, nullptr) == GpuStatus::NotBuilt);
    NECO_CHECK_EQ(std::string(neco::gpu::statusName(GpuStatus::NotBuilt)), std::string("not built with CUDA"));
    return;
  }
  // Rejected before any launch: these never touch the (host) pointers.
  neco::gpu::RoiAlignShape bad = shape;
  bad.outputSize = 0;
  NECO_CHECK(neco::gpu::launch_roi_align_forward(bad, input, boxes, 1, out, nullptr) == GpuStatus::InvalidArgument);
  bad = shape;
  bad.spatialScale = -1;
  NECO_CHECK(neco::gpu::launch_roi_align_backward(bad, out, boxes, 1, input, nullptr) == GpuStatus::InvalidArgument);
  NECO_CHECK(neco::gpu::launch_roi_align_forward(shape, nullptr, boxes, 1, out, nullptr) == GpuStatus::InvalidArgument);
  NECO_CHECK(neco::gpu::launch_roi_align_forward(shape, input, boxes, -1, out, nullptr) == GpuStatus::InvalidArgument);
  const float* noFloats = nullptr;
  NECO_CHECK(neco::gpu::launch_roi_align_forward(shape, noFloats, nullptr, 0, nullptr, nullptr) == GpuStatus::Ok);
  char reason[256] = {0};
  if (neco::gpu::deviceCount(reason, sizeof(reason)) > 0) return;  // a real launch needs device memory
  // Kernels built, no device: the launch fails with the runtime's reason instead of crashing.
  NECO_CHECK(neco::gpu::launch_roi_align_forward(shape, input, boxes, 1, out, nullptr) == GpuStatus::LaunchFailed);
  const std::string message = neco::gpu::lastErrorMessage();
  std::printf("  no device: %s\n", message.c_str());
  NECO_CHECK(contains(message, "failed at") && contains(message, "RoiAlign.cu"));
}

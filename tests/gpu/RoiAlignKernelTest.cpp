// The raw CUDA RoI-Align entry points (no torch): argument checks, and properties that need no
// reference: a box over a whole constant map gives the constant, every in-map bin hands its gradient
// on in full, boxes outside the map or with an image index outside [0, images) give zeros. The
// comparison against the CPU twin is tests/core/ops/RoiAlignCudaTest.cpp. Runs under the main() of
// CosineSimilarityKernelTest.cpp, which skips (77) with the reason without a device.
#include "NecoTest.h"
#include "neco/gpu/RoiAlign.h"
#include "neco/gpu/Status.h"

#include <cmath>
#include <numeric>
#include <vector>

#if NECO_HAVE_CUDA
#include <cuda_runtime.h>
#endif

using neco::gpu::GpuStatus;

NECO_TEST(RoiAlignKernel, rejectsBadArgumentsBeforeLaunch) {
  neco::gpu::RoiAlignShape s;
  s.images = 1, s.channels = 2, s.height = 4, s.width = 4;
  float dummy = 0;
  NECO_CHECK(neco::gpu::launch_roi_align_forward(s, nullptr, &dummy, 1, &dummy, nullptr) == GpuStatus::InvalidArgument);
  NECO_CHECK(neco::gpu::launch_roi_align_forward(s, &dummy, &dummy, -1, &dummy, nullptr) == GpuStatus::InvalidArgument);
  NECO_CHECK(neco::gpu::launch_roi_align_backward(s, &dummy, nullptr, 1, &dummy, nullptr) ==
             GpuStatus::InvalidArgument);
  neco::gpu::RoiAlignShape bad = s;
  bad.outputSize = 0;
  NECO_CHECK(neco::gpu::launch_roi_align_forward(bad, &dummy, &dummy, 1, &dummy, nullptr) ==
             GpuStatus::InvalidArgument);
  bad = s;
  bad.spatialScale = NAN;
  NECO_CHECK(neco::gpu::launch_roi_align_forward(bad, &dummy, &dummy, 1, &dummy, nullptr) ==
             GpuStatus::InvalidArgument);
  bad = s;
  bad.height = 0;  // boxes on an empty map
  NECO_CHECK(neco::gpu::launch_roi_align_forward(bad, &dummy, &dummy, 1, &dummy, nullptr) ==
             GpuStatus::InvalidArgument);
  // Nothing to compute: Ok without a launch, whatever the pointers.
  const float* noFloats = nullptr;
  NECO_CHECK(neco::gpu::launch_roi_align_forward(s, noFloats, nullptr, 0, nullptr, nullptr) == GpuStatus::Ok);
  NECO_CHECK(neco::gpu::launch_roi_align_backward(s, static_cast<const double*>(nullptr), nullptr, 0,
                                                  static_cast<double*>(nullptr), nullptr) == GpuStatus::Ok);
}

#if NECO_HAVE_CUDA
namespace {

template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  std::size_t size = 0;
  explicit DeviceBuffer(const std::vector<T>& host) : size(host.size()) {
    NECO_REQUIRE(cudaMalloc(&ptr, size * sizeof(T)) == cudaSuccess);
    NECO_REQUIRE(cudaMemcpy(ptr, host.data(), size * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  std::vector<T> host() const {
    std::vector<T> out(size);
    NECO_REQUIRE(cudaMemcpy(out.data(), ptr, size * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return out;
  }
};

template <typename T>
void checkProperties(double tolerance) {
  neco::gpu::RoiAlignShape s;
  s.images = 2, s.channels = 3, s.height = 6, s.width = 5;
  const int K = s.outputSize, KK = K * K;
  const std::size_t plane = 30;
  std::vector<T> input(2 * 3 * plane, T(0.25));
  // box 0: all of image 1; box 1: right of the map; box 2: image index 5 (out of range); box 3 = box 0.
  const std::vector<T> boxes = {1, 0, 0, 5, 6, 1, 7.6f, 0, 9, 6, 5, 0, 0, 5, 6, 1, 0, 0, 5, 6};
  DeviceBuffer<T> dIn(input), dBoxes(boxes), dOut(std::vector<T>(4 * 3 * KK, T(-7)));
  NECO_CHECK(neco::gpu::launch_roi_align_forward(s, dIn.ptr, dBoxes.ptr, 4, dOut.ptr, nullptr) == GpuStatus::Ok);
  const std::vector<T> out = dOut.host();
  for (int c = 0; c < 3 * KK; ++c) {
    NECO_CHECK(std::fabs(double(out[c]) - 0.25) <= tolerance);               // whole map: the constant
    NECO_CHECK(out[3 * KK + c] == out[c]);                                   // same box, same result
    NECO_CHECK(out[1 * 3 * KK + c] == T(0) && out[2 * 3 * KK + c] == T(0));  // outside / bad index: zeros
  }
  // Backward with gOut = 1 on box 0 only: every bin's samples are inside, so the gradient of image 1
  // sums to K^2 per channel and image 0 gets nothing.
  std::vector<T> gOut(4 * 3 * KK, T(0));
  std::fill(gOut.begin(), gOut.begin() + 3 * KK, T(1));
  std::fill(gOut.begin() + 3 * KK, gOut.begin() + 3 * 3 * KK, T(1));  // boxes 1 and 2 add nothing either
  DeviceBuffer<T> dG(gOut), dGradIn(std::vector<T>(2 * 3 * plane, T(0)));
  NECO_CHECK(neco::gpu::launch_roi_align_backward(s, dG.ptr, dBoxes.ptr, 4, dGradIn.ptr, nullptr) == GpuStatus::Ok);
  const std::vector<T> grad = dGradIn.host();
  for (int c = 0; c < 3; ++c) {
    const T* image0 = grad.data() + c * plane;
    const T* image1 = grad.data() + (3 + c) * plane;
    NECO_CHECK(std::accumulate(image0, image0 + plane, 0.0, [](double a, T b) { return a + std::fabs(double(b)); }) ==
               0.0);
    NECO_CHECK(std::fabs(std::accumulate(image1, image1 + plane, 0.0) - KK) <= KK * tolerance);
  }
}

}  // namespace
#endif

NECO_TEST(RoiAlignKernel, constantMapsOutsideBoxesAndGradientMass) {
#if NECO_HAVE_CUDA
  checkProperties<float>(1e-6);
  checkProperties<double>(1e-12);
#endif
}

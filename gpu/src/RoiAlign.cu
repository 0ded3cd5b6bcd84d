#include "CudaCheck.cuh"
#include "neco/gpu/RoiAlign.h"

#include <cuda_runtime.h>

#include <cmath>

namespace neco::gpu {
namespace {

constexpr int kThreads = 256;
constexpr long long kMaxBlocks = 1LL << 22;  // the kernels stride over the rest

// Rounded operations that nvcc never contracts into fused multiply-adds: the geometry and the sums
// follow the CPU twin operation by operation (x86-64 without -mfma does not contract either), so both
// pick the same samples and the forward sums come out the same.
__device__ inline float addRn(float a, float b) {
  return __fadd_rn(a, b);
}
__device__ inline float subRn(float a, float b) {
  return __fsub_rn(a, b);
}
__device__ inline float mulRn(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ inline float divRn(float a, float b) {
  return __fdiv_rn(a, b);
}
__device__ inline double addRn(double a, double b) {
  return __dadd_rn(a, b);
}
__device__ inline double subRn(double a, double b) {
  return __dsub_rn(a, b);
}
__device__ inline double mulRn(double a, double b) {
  return __dmul_rn(a, b);
}
__device__ inline double divRn(double a, double b) {
  return __ddiv_rn(a, b);
}
__device__ inline float ceilOf(float v) {
  return ceilf(v);
}
__device__ inline double ceilOf(double v) {
  return ceil(v);
}

__device__ inline void atomicAddTo(float* address, float value) {
  atomicAdd(address, value);
}
__device__ inline void atomicAddTo(double* address, double value) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 600
  // No native double atomicAdd before sm_60: the usual compare-and-swap loop.
  auto* bits = reinterpret_cast<unsigned long long*>(address);
  unsigned long long old = *bits, assumed = 0;
  do {
    assumed = old;
    old = atomicCAS(bits, assumed, __double_as_longlong(__longlong_as_double(assumed) + value));
  } while (assumed != old);
#else
  atomicAdd(address, value);
#endif
}

/// torchvision's sampling geometry for one box (twin of boxTaps in core/src/ops/RoiAlign.cpp).
template <typename T>
struct BoxGeometry {
  long long image = -1;  // -1: index outside [0, images); the box contributes nothing
  T startH = 0, startW = 0, binH = 0, binW = 0;
  int gridH = 0, gridW = 0;
  T sampleWeight = 0;  // 1 / max(gridH * gridW, 1)
};

template <typename T>
__device__ inline BoxGeometry<T> boxGeometry(const T* box, const RoiAlignShape& s) {
  BoxGeometry<T> g;
  const T index = box[0];
  if (index >= T(0) && index < static_cast<T>(s.images)) g.image = static_cast<long long>(index);  // NaN fails both
  const T K = static_cast<T>(s.outputSize);
  const T offset = s.aligned ? T(0.5) : T(0);
  const T scale = static_cast<T>(s.spatialScale);
  g.startW = subRn(mulRn(box[1], scale), offset);
  g.startH = subRn(mulRn(box[2], scale), offset);
  T roiW = subRn(subRn(mulRn(box[3], scale), offset), g.startW);
  T roiH = subRn(subRn(mulRn(box[4], scale), offset), g.startH);
  if (!s.aligned) {
    roiW = roiW > T(1) ? roiW : T(1);
    roiH = roiH > T(1) ? roiH : T(1);
  }
  g.binH = divRn(roiH, K);
  g.binW = divRn(roiW, K);
  g.gridH = s.samplingRatio > 0 ? s.samplingRatio : static_cast<int>(ceilOf(divRn(roiH, K)));
  g.gridW = s.samplingRatio > 0 ? s.samplingRatio : static_cast<int>(ceilOf(divRn(roiW, K)));
  const int count = g.gridH * g.gridW;
  g.sampleWeight = divRn(T(1), static_cast<T>(count > 1 ? count : 1));
  return g;
}

/// Sample (iy, ix) of bin (ph, pw), in the CPU twin's order of operations.
template <typename T>
__device__ inline T samplePosition(T start, int bin, T binSize, int i, int grid) {
  return addRn(addRn(start, mulRn(static_cast<T>(bin), binSize)),
               divRn(mulRn(addRn(static_cast<T>(i), T(0.5)), binSize), static_cast<T>(grid)));
}

/// One bilinear sample: four cells of an H x W plane and their weights times `scale`. Returns false
/// (no contribution) outside [-1, H] x [-1, W], as torchvision does.
template <typename T>
__device__ inline bool bilinearTap(T y, T x, int height, int width, T scale, long long offset[4], T weight[4]) {
  if (y < T(-1) || y > static_cast<T>(height) || x < T(-1) || x > static_cast<T>(width)) return false;
  if (y <= T(0)) y = T(0);
  if (x <= T(0)) x = T(0);
  long long yLow = static_cast<long long>(y), xLow = static_cast<long long>(x), yHigh = 0, xHigh = 0;
  if (yLow >= height - 1) {
    yHigh = yLow = height - 1;
    y = static_cast<T>(yLow);
  } else {
    yHigh = yLow + 1;
  }
  if (xLow >= width - 1) {
    xHigh = xLow = width - 1;
    x = static_cast<T>(xLow);
  } else {
    xHigh = xLow + 1;
  }
  const T ly = subRn(y, static_cast<T>(yLow)), lx = subRn(x, static_cast<T>(xLow));
  const T hy = subRn(T(1), ly), hx = subRn(T(1), lx);
  offset[0] = yLow * width + xLow;
  offset[1] = yLow * width + xHigh;
  offset[2] = yHigh * width + xLow;
  offset[3] = yHigh * width + xHigh;
  weight[0] = mulRn(mulRn(hy, hx), scale);
  weight[1] = mulRn(mulRn(hy, lx), scale);
  weight[2] = mulRn(mulRn(ly, hx), scale);
  weight[3] = mulRn(mulRn(ly, lx), scale);
  return true;
}

/// Output element i = ((box * C + channel) * K + ph) * K + pw.
struct Element {
  long long box;
  int channel, ph, pw;
};

__device__ inline Element elementOf(long long i, int channels, int K) {
  Element e;
  e.pw = static_cast<int>(i % K);
  i /= K;
  e.ph = static_cast<int>(i % K);
  i /= K;
  e.channel = static_cast<int>(i % channels);
  e.box = i / channels;
  return e;
}

// One thread per output element; adjacent threads are adjacent bins of one channel plane.
template <typename T>
__global__ void roiAlignForwardKernel(RoiAlignShape s, const T* __restrict__ input, const T* __restrict__ boxes,
                                      long long total, T* __restrict__ out) {
  const long long planeSize = static_cast<long long>(s.height) * s.width;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<long long>(blockDim.x) * gridDim.x) {
    const Element e = elementOf(i, s.channels, s.outputSize);
    const BoxGeometry<T> g = boxGeometry(boxes + e.box * 5, s);
    T sum = T(0);
    if (g.image >= 0) {
      const T* plane = input + (g.image * s.channels + e.channel) * planeSize;
      long long offset[4];
      T weight[4];
      for (int iy = 0; iy < g.gridH; ++iy) {
        const T y = samplePosition(g.startH, e.ph, g.binH, iy, g.gridH);
        for (int ix = 0; ix < g.gridW; ++ix) {
          const T x = samplePosition(g.startW, e.pw, g.binW, ix, g.gridW);
          if (!bilinearTap(y, x, s.height, s.width, g.sampleWeight, offset, weight)) continue;
          for (int k = 0; k < 4; ++k) sum = addRn(sum, mulRn(weight[k], __ldg(plane + offset[k])));
        }
      }
    }
    out[i] = sum;
  }
}

// One thread per element of the output gradient, scattering its share of every sample with atomicAdd
// (boxes of one image overlap, so threads collide). NOTE: not bit-deterministic.
template <typename T>
__global__ void roiAlignBackwardKernel(RoiAlignShape s, const T* __restrict__ gradOut, const T* __restrict__ boxes,
                                       long long total, T* __restrict__ gradInput) {
  const long long planeSize = static_cast<long long>(s.height) * s.width;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<long long>(blockDim.x) * gridDim.x) {
    const Element e = elementOf(i, s.channels, s.outputSize);
    const BoxGeometry<T> g = boxGeometry(boxes + e.box * 5, s);
    if (g.image < 0) continue;
    const T gb = gradOut[i];
    T* plane = gradInput + (g.image * s.channels + e.channel) * planeSize;
    long long offset[4];
    T weight[4];
    for (int iy = 0; iy < g.gridH; ++iy) {
      const T y = samplePosition(g.startH, e.ph, g.binH, iy, g.gridH);
      for (int ix = 0; ix < g.gridW; ++ix) {
        const T x = samplePosition(g.startW, e.pw, g.binW, ix, g.gridW);
        if (!bilinearTap(y, x, s.height, s.width, g.sampleWeight, offset, weight)) continue;
        for (int k = 0; k < 4; ++k) {
          if (weight[k] != T(0)) atomicAddTo(plane + offset[k], mulRn(weight[k], gb));
        }
      }
    }
  }
}

bool validOptions(const RoiAlignShape& s, long long boxCount) {
  return boxCount >= 0 && s.images >= 0 && s.channels >= 0 && s.height >= 0 && s.width >= 0 && s.outputSize >= 1 &&
         s.spatialScale > 0 && std::isfinite(s.spatialScale);
}

/// Output elements, or -1 when the sizes overflow.
long long outputElements(const RoiAlignShape& s, long long boxCount) {
  const long long perBox = static_cast<long long>(s.outputSize) * s.outputSize * s.channels;
  if (perBox > 0 && boxCount > 0x7fffffffffffffffLL / perBox) return -1;
  return perBox * boxCount;
}

unsigned blocksFor(long long total) {
  const long long blocks = (total + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

template <typename T>
GpuStatus forwardImpl(const RoiAlignShape& s, const T* input, const T* boxes, long long boxCount, T* out,
                      void* stream) noexcept {
  if (!validOptions(s, boxCount)) return GpuStatus::InvalidArgument;
  const long long total = outputElements(s, boxCount);
  if (total < 0) return GpuStatus::InvalidArgument;
  if (total == 0) return GpuStatus::Ok;
  if (!input || !boxes || !out || s.images < 1 || s.height < 1 || s.width < 1) return GpuStatus::InvalidArgument;
  roiAlignForwardKernel<T>
      <<<blocksFor(total), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(s, input, boxes, total, out);
  NECO_CUDA_CHECK(cudaGetLastError());
  return GpuStatus::Ok;
}

template <typename T>
GpuStatus backwardImpl(const RoiAlignShape& s, const T* gradOut, const T* boxes, long long boxCount, T* gradInput,
                       void* stream) noexcept {
  if (!validOptions(s, boxCount)) return GpuStatus::InvalidArgument;
  const long long total = outputElements(s, boxCount);
  if (total < 0) return GpuStatus::InvalidArgument;
  if (total == 0) return GpuStatus::Ok;
  if (!gradOut || !boxes || !gradInput || s.images < 1 || s.height < 1 || s.width < 1) {
    return GpuStatus::InvalidArgument;
  }
  roiAlignBackwardKernel<T>
      <<<blocksFor(total), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(s, gradOut, boxes, total, gradInput);
  NECO_CUDA_CHECK(cudaGetLastError());
  return GpuStatus::Ok;
}

}  // namespace

GpuStatus launch_roi_align_forward(const RoiAlignShape& shape, const float* input, const float* boxes,
                                   long long boxCount, float* out, void* stream) noexcept {
  return forwardImpl(shape, input, boxes, boxCount, out, stream);
}

GpuStatus launch_roi_align_forward(const RoiAlignShape& shape, const double* input, const double* boxes,
                                   long long boxCount, double* out, void* stream) noexcept {
  return forwardImpl(shape, input, boxes, boxCount, out, stream);
}

GpuStatus launch_roi_align_backward(const RoiAlignShape& shape, const float* gradOut, const float* boxes,
                                    long long boxCount, float* gradInput, void* stream) noexcept {
  return backwardImpl(shape, gradOut, boxes, boxCount, gradInput, stream);
}

GpuStatus launch_roi_align_backward(const RoiAlignShape& shape, const double* gradOut, const double* boxes,
                                    long long boxCount, double* gradInput, void* stream) noexcept {
  return backwardImpl(shape, gradOut, boxes, boxCount, gradInput, stream);
}

}  // namespace neco::gpu

#include "neco/gpu/CosineSimilarity.h"
#include "CudaCheck.cuh"

#include <cuda_runtime.h>

namespace neco::gpu {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;

__device__ float warpSum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// One warp per (query, row) pair: coalesced reads along the feature dimension.
__global__ void cosineSimilarityKernel(const float* __restrict__ features, int numRows, int dim,
                                       const float* __restrict__ queries, int numQueries,
                                       float* __restrict__ out) {
  const long long warpId = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (warpId >= static_cast<long long>(numRows) * numQueries) return;
  const int q = static_cast<int>(warpId / numRows);
  const int r = static_cast<int>(warpId % numRows);
  const float* f = features + static_cast<long long>(r) * dim;
  const float* x = queries + static_cast<long long>(q) * dim;
  float dot = 0.f, ff = 0.f, xx = 0.f;
  for (int k = lane; k < dim; k += kWarp) {
    const float a = f[k], b = x[k];
    dot += a * b;
    ff += a * a;
    xx += b * b;
  }
  dot = warpSum(dot);
  ff = warpSum(ff);
  xx = warpSum(xx);
  if (lane == 0) out[warpId] = dot / (fmaxf(sqrtf(ff), 1e-12f) * fmaxf(sqrtf(xx), 1e-12f));
}

}  // namespace

GpuStatus launch_cosine_similarity(const float* features, int numRows, int dim, const float* queries,
                                   int numQueries, float* out, void* stream) noexcept {
  if (!features || !queries || !out || numRows <= 0 || dim <= 0 || numQueries <= 0) {
    return GpuStatus::InvalidArgument;
  }
  const long long warps = static_cast<long long>(numRows) * numQueries;
  const long long blocks = (warps + kWarpsPerBlock - 1) / kWarpsPerBlock;
  if (blocks > 0x7fffffffLL) return GpuStatus::InvalidArgument;
  cosineSimilarityKernel<<<static_cast<unsigned>(blocks), kWarpsPerBlock * kWarp, 0,
                           static_cast<cudaStream_t>(stream)>>>(features, numRows, dim, queries,
                                                                numQueries, out);
  NECO_CUDA_CHECK(cudaGetLastError());
  return GpuStatus::Ok;
}

}  // namespace neco::gpu

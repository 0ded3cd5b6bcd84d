#include "neco/gpu/SoftSort.h"
#include "CudaCheck.cuh"

#include <cuda_runtime.h>

namespace neco::gpu {
namespace {

constexpr int kThreads = 128;
constexpr int kWarp = 32;
constexpr std::size_t kSharedBudget = 48 * 1024;        // default dynamic shared memory per block
constexpr std::size_t kBackwardScratchBudget = 512ull << 20;  // bytes of fp32 scratch per backward chunk

__device__ inline double dAtan(double v) { return atan(v); }
__device__ inline double dExp(double v) { return exp(v); }
__device__ inline double dErf(double v) { return erf(v); }
__device__ inline double dPow(double v, double p) { return pow(v, p); }
__device__ inline double dAbs(double v) { return fabs(v); }

// The relaxations of METHOD.md §3.3 (twin of FusedSortRows.inl); d = b - a.
template <typename T>
__device__ inline T alphaOf(int kind, T d, T s, T lambda) {
  const T v = d * s;
  switch (kind) {
    case 0: return dAtan(v) / T(3.14159265358979323846) + T(0.5);
    case 1: return T(1) / (T(1) + dExp(-v));
    case 2: return T(1) / (T(1) + dExp(-(v / dPow(dAbs(d) + T(1e-10), lambda))));
    case 3: return T(0.5) + T(0.5) * dErf(d * (s / T(1.4142135623730950488)));
    case 4: return T(0.5) * (v / (T(2) + dAbs(v)) + T(1));
    default: {
      const T clamped = v < T(-0.25) ? T(-0.25) : (v > T(0.25) ? T(0.25) : v);
      const T sign = v > T(0.25) ? T(1) : (v < T(-0.25) ? T(-1) : T(0));
      return clamped + T(0.5) + sign * (T(0.25) - T(1) / (T(16) * (dAbs(v) + T(1e-10))));
    }
  }
}

template <typename T>
__device__ inline T alphaSlope(int kind, T d, T alpha, T s, T lambda) {
  const T v = d * s;
  switch (kind) {
    case 0: return s / (T(3.14159265358979323846) * (T(1) + v * v));
    case 1: return s * alpha * (T(1) - alpha);
    case 2: {
      const T ad = dAbs(d) + T(1e-10);
      return alpha * (T(1) - alpha) * (s / dPow(ad, lambda) * (T(1) - lambda * dAbs(d) / ad));
    }
    case 3: return s * T(0.39894228040143267794) * dExp(T(-0.5) * v * v);
    case 4: {
      const T den = T(2) + dAbs(v);
      return s / (den * den);
    }
    default: {
      const T av = dAbs(v);
      return av <= T(0.25) ? s : s / (T(16) * (av + T(1e-10)) * (av + T(1e-10)));
    }
  }
}

/// Applies the layer's comparators to the float64 values; one thread per comparator (wires are
/// disjoint). The swap weights are computed in float64 (as on the CPU) and stored as T.
template <typename T>
__device__ inline void valuesLayer(const SortNetworkView& net, int begin, int end, double* x, T* layerAlpha,
                                   T* alphasOut, int kind, double s, double lambda) {
  for (int c = begin + threadIdx.x; c < end; c += blockDim.x) {
    const int a = net.comparators[3 * c], b = net.comparators[3 * c + 1], minToA = net.comparators[3 * c + 2];
    const double xa = x[a], xb = x[b];
    const double alpha = alphaOf(kind, xb - xa, s, lambda);
    if (layerAlpha) layerAlpha[c - begin] = static_cast<T>(alpha);
    if (alphasOut) alphasOut[c] = static_cast<T>(alpha);
    const double lo = xb + alpha * (xa - xb), hi = xa + xb - lo;
    x[a] = minToA ? lo : hi;
    x[b] = minToA ? hi : lo;
  }
}

/// Blends the two columns of every comparator of a layer; threads over (comparator, element).
template <typename T>
__device__ inline void matrixLayer(const SortNetworkView& net, int begin, int end, T* Xt, const T* alpha) {
  const int n = net.n, work = (end - begin) * n;
  for (int idx = threadIdx.x; idx < work; idx += blockDim.x) {
    const int c = idx / n, e = idx - c * n, g = begin + c;
    const int a = net.comparators[3 * g], b = net.comparators[3 * g + 1], minToA = net.comparators[3 * g + 2];
    T* A = Xt + static_cast<long long>(a) * n;
    T* B = Xt + static_cast<long long>(b) * n;
    const T u = A[e], v = B[e], al = alpha[c];
    const T lo = v + al * (u - v), hi = u + v - lo;
    A[e] = minToA ? lo : hi;
    B[e] = minToA ? hi : lo;
  }
}

template <typename T>
__device__ inline void setIdentity(T* Xt, int n) {
  const long long nn = static_cast<long long>(n) * n;
  for (long long i = threadIdx.x; i < nn; i += blockDim.x) Xt[i] = (i / n == i % n) ? T(1) : T(0);
}

template <typename T>
__global__ void softSortForwardKernel(SortNetworkView net, int kind, double s, double lambda, const T* __restrict__ in,
                                      T* __restrict__ sorted, T* __restrict__ permutation, T* __restrict__ alphas,
                                      bool sharedState) {
  extern __shared__ unsigned char sharedRaw[];
  const long long row = blockIdx.x;
  const int n = net.n;
  const long long nn = static_cast<long long>(n) * n;
  double* x = reinterpret_cast<double*>(sharedRaw);
  T* layerAlpha = reinterpret_cast<T*>(x + n);  // at most n / 2 comparators per layer
  T* Xt = sharedState ? layerAlpha + n : permutation + row * nn;
  T* rowAlphas = alphas ? alphas + row * net.comparatorCount : nullptr;
  for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] = static_cast<double>(in[row * n + i]);
  setIdentity(Xt, n);
  __syncthreads();
  for (int l = 0; l < net.layers; ++l) {
    const int begin = net.layerBegin[l], end = net.layerBegin[l + 1];
    valuesLayer<T>(net, begin, end, x, layerAlpha, rowAlphas, kind, s, lambda);
    __syncthreads();
    matrixLayer(net, begin, end, Xt, layerAlpha);
    __syncthreads();
  }
  for (int i = threadIdx.x; i < n; i += blockDim.x) sorted[row * n + i] = static_cast<T>(x[i]);
  T* out = permutation + row * nn;
  if (sharedState) {
    for (long long idx = threadIdx.x; idx < nn; idx += blockDim.x) {
      const long long e = idx / n, r = idx % n;
      out[idx] = Xt[r * n + e];
    }
  } else {  // transpose in place: the state was X^T in the output row
    for (long long idx = threadIdx.x; idx < nn; idx += blockDim.x) {
      const long long e = idx / n, r = idx % n;
      if (e < r) {
        const T t = out[e * n + r];
        out[e * n + r] = out[r * n + e];
        out[r * n + e] = t;
      }
    }
  }
}

template <typename T>
__device__ inline T warpSum(T v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

/// Per row, in elements of T: the float64 values at every layer's input (2 L n, so the double region
/// is the same size for float and keeps 8-byte alignment), the X^T trajectory (L n^2) and, when it
/// does not fit in shared memory, the gradient of X^T (n^2); rounded up to an even count.
__host__ __device__ inline std::size_t backwardRowScratch(int n, int layers) {
  const std::size_t nn = static_cast<std::size_t>(n) * n;
  const std::size_t total = 2 * static_cast<std::size_t>(layers) * n + static_cast<std::size_t>(layers) * nn + nn;
  return total + (total & 1);
}

template <typename T>
__global__ void softSortBackwardKernel(SortNetworkView net, int kind, double s, double lambda, const T* __restrict__ in,
                                       const T* __restrict__ alphas, const T* __restrict__ gSorted,
                                       const T* __restrict__ gPermutation, T* __restrict__ gIn, T* __restrict__ scratch,
                                       bool sharedGrad) {
  extern __shared__ unsigned char sharedRaw[];
  const long long row = blockIdx.x;
  const int n = net.n, L = net.layers;
  const long long nn = static_cast<long long>(n) * n;
  double* x = reinterpret_cast<double*>(sharedRaw);
  double* gx = x + n;
  T* base = scratch + row * static_cast<long long>(backwardRowScratch(n, L));
  double* xs = reinterpret_cast<double*>(base);
  T* states = base + 2 * static_cast<long long>(L) * n;
  T* GXt = sharedGrad ? reinterpret_cast<T*>(gx + n) : states + static_cast<long long>(L) * nn;
  const T* al = alphas + row * net.comparatorCount;

  // 1. values at every layer's input, replayed with the stored swap weights
  for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] = static_cast<double>(in[row * n + i]);
  __syncthreads();
  for (int l = 0; l < L; ++l) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) xs[static_cast<long long>(l) * n + i] = x[i];
    __syncthreads();
    valuesLayer<T>(net, net.layerBegin[l], net.layerBegin[l + 1], x, static_cast<T*>(nullptr), static_cast<T*>(nullptr), kind, s, lambda);
    __syncthreads();
  }
  // 2. X^T at every layer's input
  setIdentity(states, n);
  __syncthreads();
  for (int l = 0; l + 1 < L; ++l) {
    T* next = states + static_cast<long long>(l + 1) * nn;
    for (long long i = threadIdx.x; i < nn; i += blockDim.x) next[i] = next[i - nn];
    __syncthreads();
    matrixLayer(net, net.layerBegin[l], net.layerBegin[l + 1], next, al + net.layerBegin[l]);
    __syncthreads();
  }
  // 3. output gradients
  for (int i = threadIdx.x; i < n; i += blockDim.x) gx[i] = gSorted ? static_cast<double>(gSorted[row * n + i]) : 0.0;
  for (long long idx = threadIdx.x; idx < nn; idx += blockDim.x) {
    const long long r = idx / n, e = idx % n;
    GXt[idx] = gPermutation ? gPermutation[row * nn + e * n + r] : T(0);
  }
  __syncthreads();
  // 4. reverse pass: one warp per comparator
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp, warps = blockDim.x / kWarp;
  for (int l = L - 1; l >= 0; --l) {
    const T* P = states + static_cast<long long>(l) * nn;
    const double* xl = xs + static_cast<long long>(l) * n;
    for (int c = net.layerBegin[l] + warp; c < net.layerBegin[l + 1]; c += warps) {
      const int a = net.comparators[3 * c], b = net.comparators[3 * c + 1], minToA = net.comparators[3 * c + 2];
      const T alphaX = al[c];
      T* GA = GXt + static_cast<long long>(a) * n;
      T* GB = GXt + static_cast<long long>(b) * n;
      const T* PA = P + static_cast<long long>(a) * n;
      const T* PB = P + static_cast<long long>(b) * n;
      T partial = 0;
      for (int e = lane; e < n; e += kWarp) {
        const T gMin = minToA ? GA[e] : GB[e];
        const T gMax = minToA ? GB[e] : GA[e];
        const T dm = gMin - gMax;
        partial += (PA[e] - PB[e]) * dm;
        const T dA = gMax + alphaX * dm;
        GA[e] = dA;
        GB[e] = gMin + gMax - dA;
      }
      const T dalphaX = warpSum(partial);
      if (lane == 0) {
        const double xa = xl[a], xb = xl[b];
        const double alpha = alphaOf(kind, xb - xa, s, lambda);  // exactly the forward's value
        const double gMin = minToA ? gx[a] : gx[b];
        const double gMax = minToA ? gx[b] : gx[a];
        const double dm = gMin - gMax;
        const double dalpha = static_cast<double>(dalphaX) + (xa - xb) * dm;
        const double dA = gMax + alpha * dm, dB = gMin + gMax - dA;
        const double dd = dalpha * alphaSlope(kind, xb - xa, alpha, s, lambda);
        gx[a] = dA - dd;
        gx[b] = dB + dd;
      }
    }
    __syncthreads();
  }
  for (int i = threadIdx.x; i < n; i += blockDim.x) gIn[row * n + i] = static_cast<T>(gx[i]);
}

bool validNetwork(const SortNetworkView& net) {
  return net.n >= 2 && net.layers >= 1 && net.layerBegin && net.comparators && net.comparatorCount >= 0;
}

template <typename T>
GpuStatus forwardImpl(const SortNetworkView& net, const SortRelaxation& relax, const T* in, long long rows, T* sorted,
                      T* permutation, T* alphas, void* stream) noexcept {
  if (!validNetwork(net) || !in || !sorted || !permutation || rows < 0 || rows > 0x7fffffffLL) {
    return GpuStatus::InvalidArgument;
  }
  if (rows == 0) return GpuStatus::Ok;
  const std::size_t n = static_cast<std::size_t>(net.n);
  const std::size_t small = n * sizeof(double) + n * sizeof(T), fullShared = small + n * n * sizeof(T);
  const bool sharedState = fullShared <= kSharedBudget;
  const std::size_t bytes = sharedState ? fullShared : small;
  softSortForwardKernel<T><<<static_cast<unsigned>(rows), kThreads, bytes, static_cast<cudaStream_t>(stream)>>>(
      net, relax.kind, relax.steepness, relax.artLambda, in, sorted, permutation,
      alphas, sharedState);
  NECO_CUDA_CHECK(cudaGetLastError());
  return GpuStatus::Ok;
}

template <typename T>
GpuStatus backwardImpl(const SortNetworkView& net, const SortRelaxation& relax, const T* in, const T* alphas,
                       const T* gSorted, const T* gPermutation, T* gIn, long long rows, T* scratch,
                       void* stream) noexcept {
  if (!validNetwork(net) || !in || !alphas || !gIn || !scratch || rows < 0 || rows > 0x7fffffffLL) {
    return GpuStatus::InvalidArgument;
  }
  if (rows == 0) return GpuStatus::Ok;
  const std::size_t n = static_cast<std::size_t>(net.n);
  const std::size_t small = 2 * n * sizeof(double), fullShared = small + n * n * sizeof(T);
  const bool sharedGrad = fullShared <= kSharedBudget;
  const std::size_t bytes = sharedGrad ? fullShared : small;
  softSortBackwardKernel<T><<<static_cast<unsigned>(rows), kThreads, bytes, static_cast<cudaStream_t>(stream)>>>(
      net, relax.kind, relax.steepness, relax.artLambda, in, alphas, gSorted,
      gPermutation, gIn, scratch, sharedGrad);
  NECO_CUDA_CHECK(cudaGetLastError());
  return GpuStatus::Ok;
}

}  // namespace

GpuStatus launch_soft_sort_forward(const SortNetworkView& net, const SortRelaxation& relax, const float* in,
                                   long long rows, float* sorted, float* permutation, float* alphas,
                                   void* stream) noexcept {
  return forwardImpl(net, relax, in, rows, sorted, permutation, alphas, stream);
}

GpuStatus launch_soft_sort_forward(const SortNetworkView& net, const SortRelaxation& relax, const double* in,
                                   long long rows, double* sorted, double* permutation, double* alphas,
                                   void* stream) noexcept {
  return forwardImpl(net, relax, in, rows, sorted, permutation, alphas, stream);
}

long long soft_sort_backward_rows_per_chunk(int n, int layers) noexcept {
  const std::size_t perRow = backwardRowScratch(n, layers) * sizeof(float);
  const long long rows = static_cast<long long>(kBackwardScratchBudget / (perRow ? perRow : 1));
  return rows > 0 ? rows : 1;
}

std::size_t soft_sort_backward_scratch(int n, int layers, long long rows) noexcept {
  return backwardRowScratch(n, layers) * static_cast<std::size_t>(rows > 0 ? rows : 0);
}

GpuStatus launch_soft_sort_backward(const SortNetworkView& net, const SortRelaxation& relax, const float* in,
                                    const float* alphas, const float* gSorted, const float* gPermutation, float* gIn,
                                    long long rows, float* scratch, void* stream) noexcept {
  return backwardImpl(net, relax, in, alphas, gSorted, gPermutation, gIn, rows, scratch, stream);
}

GpuStatus launch_soft_sort_backward(const SortNetworkView& net, const SortRelaxation& relax, const double* in,
                                    const double* alphas, const double* gSorted, const double* gPermutation,
                                    double* gIn, long long rows, double* scratch, void* stream) noexcept {
  return backwardImpl(net, relax, in, alphas, gSorted, gPermutation, gIn, rows, scratch, stream);
}

}  // namespace neco::gpu

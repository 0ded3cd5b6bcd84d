#include "neco/gpu/Status.h"
#include "CudaCheck.cuh"

#include <cuda_runtime.h>

#include <cstdio>

namespace neco::gpu {
namespace {
thread_local char tlsLastError[512] = {0};
}  // namespace

void recordCudaError(cudaError_t err, const char* call, const char* file, int line) noexcept {
  std::snprintf(tlsLastError, sizeof(tlsLastError), "%s failed at %s:%d: %s (%s)", call, file, line,
                cudaGetErrorString(err), cudaGetErrorName(err));
}

const char* lastErrorMessage() noexcept { return tlsLastError; }

bool kernelsBuilt() noexcept { return true; }

int deviceCount(char* reason, std::size_t reasonSize) noexcept {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    if (reason && reasonSize) std::snprintf(reason, reasonSize, "%s", cudaGetErrorString(err));
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return 0;
  }
  if (count == 0 && reason && reasonSize) std::snprintf(reason, reasonSize, "the CUDA runtime found no device");
  return count;
}

double devicePeakBandwidthGBps(int device) noexcept {
  // Device attributes, not cudaDeviceProp fields: CUDA 13 removed cudaDeviceProp::memoryClockRate.
  int clockKHz = 0, busBits = 0;
  if (cudaDeviceGetAttribute(&clockKHz, cudaDevAttrMemoryClockRate, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&busBits, cudaDevAttrGlobalMemoryBusWidth, device) != cudaSuccess) {
    cudaGetLastError();  // clear the error so that later calls do not report it
    return 0.0;
  }
  return 2.0 * clockKHz * 1e3 * (busBits / 8.0) / 1e9;
}

std::size_t deviceMemoryInUse(int device) noexcept {
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  std::size_t free = 0, total = 0;
  const bool ok = cudaMemGetInfo(&free, &total) == cudaSuccess;
  if (!ok) cudaGetLastError();
  cudaSetDevice(previous);
  return ok ? total - free : 0;
}

}  // namespace neco::gpu

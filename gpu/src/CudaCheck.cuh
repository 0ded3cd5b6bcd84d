#pragma once
// NECO_CUDA_CHECK(call): on error records "call failed at file:line: message" for lastErrorMessage()
// and returns GpuStatus::LaunchFailed from the enclosing function.
#include <cuda_runtime.h>

#include "neco/gpu/Status.h"

namespace neco::gpu {
void recordCudaError(cudaError_t err, const char* call, const char* file, int line) noexcept;
}

#define NECO_CUDA_CHECK(call)                                              \
  do {                                                                     \
    const cudaError_t neco_err_ = (call);                                  \
    if (neco_err_ != cudaSuccess) {                                        \
      ::neco::gpu::recordCudaError(neco_err_, #call, __FILE__, __LINE__);  \
      return ::neco::gpu::GpuStatus::LaunchFailed;                         \
    }                                                                      \
  } while (0)

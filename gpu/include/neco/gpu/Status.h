#pragma once
// Status codes at the gpu/ boundary. Kernels never throw: every entry point returns a GpuStatus and
// core/ turns a failure into a typed exception. No CUDA or torch types appear in these headers.

#include <cstddef>

namespace neco::gpu {

enum class GpuStatus {
  Ok = 0,
  NotBuilt,         ///< this build has no CUDA kernels
  NoDevice,         ///< CUDA runtime reports no usable device / driver
  InvalidArgument,  ///< a size or pointer was rejected before launch
  LaunchFailed,     ///< the CUDA runtime returned an error (see lastErrorMessage)
};

/// Human-readable name of a status.
const char* statusName(GpuStatus status) noexcept;

/// The last CUDA runtime error message recorded on this thread (empty when none).
const char* lastErrorMessage() noexcept;

/// Whether kernels were compiled into this build.
bool kernelsBuilt() noexcept;

/// Theoretical memory bandwidth of `device` in GB/s (2 x memory clock x bus width, from the runtime's
/// device attributes); 0 when unknown or without CUDA.
double devicePeakBandwidthGBps(int device) noexcept;

/// Bytes of `device`'s memory in use (total - free, as the runtime reports it: LibTorch's caching
/// allocator's reserve plus contexts); 0 when unknown or without CUDA. For benchmarks' peak memory.
std::size_t deviceMemoryInUse(int device) noexcept;

/// Number of usable CUDA devices; 0 with the runtime's reason in `reason` (size `reasonSize`) when none.
int deviceCount(char* reason, std::size_t reasonSize) noexcept;

}  // namespace neco::gpu

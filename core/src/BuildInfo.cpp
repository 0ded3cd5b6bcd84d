#include "neco/core/BuildInfo.h"

#include "neco/core/Error.h"
#include "neco/gpu/Status.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <thread>

namespace neco {
namespace {

std::string compilerDescription() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown compiler";
#endif
}

// CUDA is usable only when both sides agree: our kernels are compiled in and find a device, and
// LibTorch itself can allocate on it. Each missing piece gives its own reason.
void probeCuda(BuildInfo& info) {
  char reason[256] = {0};
  if (!gpu::kernelsBuilt()) {
    info.cudaReason = "this build has no CUDA kernels (no CUDA compiler at configure time)";
    return;
  }
  info.cudaDeviceCount = gpu::deviceCount(reason, sizeof(reason));
  if (info.cudaDeviceCount == 0) {
    info.cudaReason = std::string("no usable CUDA device: ") + reason;
    return;
  }
  if (!info.torchHasCuda) {
    info.cudaReason = "LibTorch " + info.torchVersion + " was built without CUDA (CPU-only package)";
    return;
  }
  if (!torch::cuda::is_available()) {
    info.cudaReason = "LibTorch reports no CUDA device";
    return;
  }
  info.cudaAvailable = true;
}

}  // namespace

BuildInfo buildInfo() {
  BuildInfo info;
  info.version = NECO_VERSION;
  info.buildType = NECO_BUILD_TYPE;
  info.compiler = compilerDescription();
  info.torchVersion = TORCH_VERSION;
  info.torchHasCuda = NECO_TORCH_HAS_CUDA;
  info.cudaKernelsBuilt = gpu::kernelsBuilt();
  info.imageCodecs = NECO_HAVE_IMAGE_CODECS;
  info.intraOpThreads = at::get_num_threads();
  info.hardwareThreads = static_cast<int>(std::thread::hardware_concurrency());
  probeCuda(info);
  return info;
}

void setComputeThreads(int threads) {
  if (threads < 0) throw InvalidArgumentError("thread count must be >= 0, got " + std::to_string(threads));
  const int n = threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads;
  at::set_num_threads(n);
}

}  // namespace neco

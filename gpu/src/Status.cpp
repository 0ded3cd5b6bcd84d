#include "neco/gpu/Status.h"

namespace neco::gpu {

const char* statusName(GpuStatus status) noexcept {
  switch (status) {
    case GpuStatus::Ok: return "ok";
    case GpuStatus::NotBuilt: return "not built with CUDA";
    case GpuStatus::NoDevice: return "no CUDA device";
    case GpuStatus::InvalidArgument: return "invalid argument";
    case GpuStatus::LaunchFailed: return "kernel launch failed";
  }
  return "unknown";
}

}  // namespace neco::gpu

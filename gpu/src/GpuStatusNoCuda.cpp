// The CPU-only build of neco_gpu: every entry point reports NotBuilt, so callers need no #ifdefs.
#include "neco/gpu/CosineSimilarity.h"
#include "neco/gpu/Status.h"

#include <cstdio>

namespace neco::gpu {

const char* lastErrorMessage() noexcept { return ""; }

bool kernelsBuilt() noexcept { return false; }

int deviceCount(char* reason, std::size_t reasonSize) noexcept {
  if (reason && reasonSize) std::snprintf(reason, reasonSize, "this build has no CUDA kernels (configured without a CUDA compiler)");
  return 0;
}

GpuStatus launch_cosine_similarity(const float*, int, int, const float*, int, float*, void*) noexcept {
  return GpuStatus::NotBuilt;
}

}  // namespace neco::gpu

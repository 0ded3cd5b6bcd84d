// The CPU-only build of neco_gpu: every entry point reports NotBuilt, so callers need no #ifdefs.
#include "neco/gpu/CosineSimilarity.h"
#include "neco/gpu/RoiAlign.h"
#include "neco/gpu/SoftSort.h"
#include "neco/gpu/Status.h"

#include <cstdio>

namespace neco::gpu {

const char* lastErrorMessage() noexcept { return ""; }

bool kernelsBuilt() noexcept { return false; }

double devicePeakBandwidthGBps(int) noexcept { return 0.0; }

std::size_t deviceMemoryInUse(int) noexcept { return 0; }

int deviceCount(char* reason, std::size_t reasonSize) noexcept {
  if (reason && reasonSize) std::snprintf(reason, reasonSize, "this build has no CUDA kernels (configured without a CUDA compiler)");
  return 0;
}

GpuStatus launch_cosine_similarity(const float*, int, int, const float*, int, float*, void*) noexcept {
  return GpuStatus::NotBuilt;
}

GpuStatus launch_soft_sort_forward(const SortNetworkView&, const SortRelaxation&, const float*, long long, float*,
                                   float*, float*, void*) noexcept {
  return GpuStatus::NotBuilt;
}
GpuStatus launch_soft_sort_forward(const SortNetworkView&, const SortRelaxation&, const double*, long long, double*,
                                   double*, double*, void*) noexcept {
  return GpuStatus::NotBuilt;
}
long long soft_sort_backward_rows_per_chunk(int, int) noexcept { return 1; }
std::size_t soft_sort_backward_scratch(int, int, long long) noexcept { return 0; }
GpuStatus launch_soft_sort_backward(const SortNetworkView&, const SortRelaxation&, const float*, const float*,
                                    const float*, const float*, float*, long long, float*, void*) noexcept {
  return GpuStatus::NotBuilt;
}
GpuStatus launch_soft_sort_backward(const SortNetworkView&, const SortRelaxation&, const double*, const double*,
                                    const double*, const double*, double*, long long, double*, void*) noexcept {
  return GpuStatus::NotBuilt;
}

GpuStatus launch_roi_align_forward(const RoiAlignShape&, const float*, const float*, long long, float*,
                                   void*) noexcept {
  return GpuStatus::NotBuilt;
}
GpuStatus launch_roi_align_forward(const RoiAlignShape&, const double*, const double*, long long, double*,
                                   void*) noexcept {
  return GpuStatus::NotBuilt;
}
GpuStatus launch_roi_align_backward(const RoiAlignShape&, const float*, const float*, long long, float*,
                                    void*) noexcept {
  return GpuStatus::NotBuilt;
}
GpuStatus launch_roi_align_backward(const RoiAlignShape&, const double*, const double*, long long, double*,
                                    void*) noexcept {
  return GpuStatus::NotBuilt;
}

}  // namespace neco::gpu

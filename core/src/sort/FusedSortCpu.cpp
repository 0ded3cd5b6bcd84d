#include "sort/FusedSortCpu.h"

#include <cstdlib>
#include <cstring>

namespace neco::sort {

namespace isa_default {
KernelSet makeKernelSet(const char* isa);
}
#if NECO_SORT_HAVE_AVX2
namespace isa_avx2 {
KernelSet makeKernelSet(const char* isa);
}
#endif

FlatNetwork flatten(const SortingNetwork& network) {
  FlatNetwork flat;
  flat.n = network.n;
  flat.layerBegin.push_back(0);
  for (const auto& layer : network.layers) {
    for (const Comparator& c : layer) {
      if (c.identity()) continue;
      flat.comparators.push_back({c.a, c.b, c.minTo == c.a ? 1 : 0});
    }
    flat.layerBegin.push_back(static_cast<std::int32_t>(flat.comparators.size()));
  }
  return flat;
}

ScratchSize forwardScratchSize(const FlatNetwork& net) {
  const auto n = static_cast<std::size_t>(net.n);
  return {n * n + static_cast<std::size_t>(net.comparatorCount()), n};
}

ScratchSize backwardScratchSize(const FlatNetwork& net) {
  const auto n = static_cast<std::size_t>(net.n), nn = n * n, L = static_cast<std::size_t>(net.layers());
  const auto seg = static_cast<std::size_t>(segmentLength(net.layers(), net.n));
  const auto segments = (L + seg - 1) / seg;
  // matrix: GX^T | P | Q | alphas (student, teacher) | checkpoints | segment states
  // values: x | values at every layer's input | their gradient
  return {3 * nn + 2 * static_cast<std::size_t>(net.comparatorCount()) + (segments + seg) * nn, n + L * n + n};
}

const KernelSet& defaultKernels() {
  static const KernelSet set = isa_default::makeKernelSet("default");
  return set;
}

const KernelSet* avx2Kernels() {
#if NECO_SORT_HAVE_AVX2
  static const KernelSet set = isa_avx2::makeKernelSet("avx2+fma");
  return &set;
#else
  return nullptr;
#endif
}

const KernelSet& cpuKernels() {
  static const KernelSet* chosen = [] {
    const char* forced = std::getenv("NECO_SORT_ISA");
    if (forced && std::strcmp(forced, "default") == 0) return &defaultKernels();
#if NECO_SORT_HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return avx2Kernels();
#endif
    return &defaultKernels();
  }();
  return *chosen;
}

}  // namespace neco::sort

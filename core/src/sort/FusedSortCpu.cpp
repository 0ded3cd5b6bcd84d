#include "sort/FusedSortCpu.h"

#include <algorithm>
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
  std::vector<std::int32_t> lo(static_cast<std::size_t>(network.n)), hi(static_cast<std::size_t>(network.n));
  for (int w = 0; w < network.n; ++w) {
    lo[static_cast<std::size_t>(w)] = w;
    hi[static_cast<std::size_t>(w)] = w + 1;
  }
  for (const auto& layer : network.layers) {
    for (const Comparator& c : layer) {
      if (c.identity()) continue;
      const auto a = static_cast<std::size_t>(c.a), b = static_cast<std::size_t>(c.b);
      const std::int32_t l = std::min(lo[a], lo[b]), h = std::max(hi[a], hi[b]);
      // widened to whole 8-entry vectors of the padded column (the extra entries are zero)
      const std::int32_t l8 = l & ~7, h8 = std::min(paddedStride(network.n), (h + 7) & ~7);
      flat.comparators.push_back({c.a, c.b, c.minTo == c.a ? 1 : 0, l8, h8 - l8, flat.tapeSize});
      flat.tapeSize += static_cast<std::int64_t>(h8 - l8);
      flat.wireA.push_back(c.a);
      flat.wireB.push_back(c.b);
      flat.wireMin.push_back(c.minTo == c.a ? c.a : c.b);
      flat.wireMax.push_back(c.minTo == c.a ? c.b : c.a);
      lo[a] = lo[b] = l;  // wires of one layer are disjoint: updating in place is safe
      hi[a] = hi[b] = h;
    }
    flat.layerBegin.push_back(static_cast<std::int32_t>(flat.comparators.size()));
  }
  return flat;
}

namespace {
std::size_t pad8(std::size_t count) { return (count + 7) & ~std::size_t{7}; }
}  // namespace

ScratchSize forwardScratchSize(const FlatNetwork& net) {
  const auto n = static_cast<std::size_t>(net.n), ld = static_cast<std::size_t>(paddedStride(net.n));
  return {pad8(n * ld) + static_cast<std::size_t>(net.comparatorCount()), n};
}

ScratchSize backwardScratchSize(const FlatNetwork& net) {
  const auto n = static_cast<std::size_t>(net.n), nn = n * static_cast<std::size_t>(paddedStride(net.n));
  const auto L = static_cast<std::size_t>(net.layers());
  const auto seg = static_cast<std::size_t>(segmentLength(net.layers(), net.n));
  const auto segments = (L + seg - 1) / seg;
  // matrix: GX^T | P | Q | alphas (student, teacher; padded) | checkpoints | running state | tape
  // values: gradient | x | the replay's ValuesTape (weight, slope, a - b per comparator) | d alpha of the X part
  const auto C = static_cast<std::size_t>(net.comparatorCount());
  auto tapeAt = [&](std::size_t layer) {
    return layer >= L ? net.tapeSize
                      : net.comparators.empty() ? 0
                      : static_cast<std::size_t>(net.layerBegin[layer]) < C
                          ? net.comparators[static_cast<std::size_t>(net.layerBegin[layer])].tape
                          : net.tapeSize;
  };
  std::int64_t tape = 0;
  for (std::size_t begin = 0; begin < L; begin += seg) tape = std::max(tape, tapeAt(begin + seg) - tapeAt(begin));
  return {3 * nn + pad8(2 * C) + (segments + 1) * nn + pad8(static_cast<std::size_t>(tape)), n + n + 4 * C};
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

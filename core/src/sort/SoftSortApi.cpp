// The torch-free SoftSort.h facade: single rows through the fused CPU row kernels, network layouts
// with their validity verdicts cached per (kind, n).
#include "neco/core/SoftSort.h"

#include "neco/core/Error.h"
#include "sort/FusedSortCpu.h"
#include "sort/Relaxation.h"
#include "sort/SortingNetwork.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

namespace neco {
namespace {

sort::NetworkKind toKind(SortNetworkKind k) {
  return k == SortNetworkKind::Bitonic ? sort::NetworkKind::Bitonic : sort::NetworkKind::OddEven;
}
sort::Relaxation toRelaxation(SortRelaxation r) { return static_cast<sort::Relaxation>(static_cast<int>(r)); }

struct CachedNetwork {
  sort::FlatNetwork flat;
  SortNetworkLayout layout;
};

const CachedNetwork& cachedNetwork(SortNetworkKind kind, int n) {
  static std::mutex mutex;
  static std::map<std::pair<int, int>, std::unique_ptr<CachedNetwork>> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find({static_cast<int>(kind), n});
    if (it != cache.end()) return *it->second;
  }
  const sort::SortingNetwork network = sort::buildNetwork(toKind(kind), n);  // throws for a bad n
  auto entry = std::make_unique<CachedNetwork>();
  entry->flat = sort::flatten(network);
  entry->layout.kind = kind;
  entry->layout.n = n;
  for (int l = 0; l < entry->flat.layers(); ++l) {
    std::vector<NetworkComparator> layer;
    for (int c = entry->flat.layerBegin[static_cast<std::size_t>(l)]; c < entry->flat.layerBegin[static_cast<std::size_t>(l) + 1]; ++c) {
      const sort::FlatComparator& f = entry->flat.comparators[static_cast<std::size_t>(c)];
      layer.push_back({f.a, f.b, f.minToA ? f.a : f.b, f.minToA ? f.b : f.a});
    }
    entry->layout.layers.push_back(std::move(layer));
  }
  if (kind == SortNetworkKind::Bitonic) {
    entry->layout.warning = bitonicValidityWarning(n);
    entry->layout.valid = entry->layout.warning.empty();
  }
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[{static_cast<int>(kind), n}];
  if (!slot) slot = std::move(entry);
  return *slot;
}

bool bitonicValid(int n) {
  static std::mutex mutex;
  static std::map<int, bool> verdicts;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = verdicts.find(n); it != verdicts.end()) return it->second;
  }
  const bool valid = sort::sortsCorrectly(sort::buildNetwork(sort::NetworkKind::Bitonic, n));
  std::lock_guard<std::mutex> lock(mutex);
  verdicts[n] = valid;
  return valid;
}

}  // namespace

const char* sortNetworkName(SortNetworkKind kind) noexcept { return sort::networkName(toKind(kind)); }
const char* sortRelaxationName(SortRelaxation r) noexcept { return sort::relaxationName(toRelaxation(r)); }

SortNetworkKind parseSortNetwork(const std::string& name) {
  return sort::parseNetwork(name) == sort::NetworkKind::Bitonic ? SortNetworkKind::Bitonic : SortNetworkKind::OddEven;
}

SortRelaxation parseSortRelaxation(const std::string& name) {
  return static_cast<SortRelaxation>(static_cast<int>(sort::parseRelaxation(name)));
}

const std::vector<SortRelaxation>& allSortRelaxations() {
  static const std::vector<SortRelaxation> all{SortRelaxation::Cauchy,   SortRelaxation::Logistic,
                                               SortRelaxation::LogisticPhi, SortRelaxation::Gaussian,
                                               SortRelaxation::Reciprocal, SortRelaxation::Optimal};
  return all;
}

int SortNetworkLayout::comparatorCount() const noexcept {
  int count = 0;
  for (const auto& layer : layers) count += static_cast<int>(layer.size());
  return count;
}

std::string bitonicValidityWarning(int n) {
  if (n < 2 || n > 4096) throw InvalidArgumentError("sorting network size " + std::to_string(n) + " outside [2, 4096]");
  if (bitonicValid(n)) return {};
  int below = n - 1, above = n + 1;
  while (below >= 2 && !bitonicValid(below)) --below;
  while (above <= 4096 && !bitonicValid(above)) ++above;
  std::string nearest;
  if (below >= 2) nearest += std::to_string(below);
  if (above <= 4096) nearest += (nearest.empty() ? "" : " or ") + std::to_string(above);
  return "the padded bitonic network (diffsort's construction) does not sort every input of size " +
         std::to_string(n) + "; use the odd_even network (valid for every n) or a bitonic size of " + nearest;
}

SortNetworkLayout sortNetworkLayout(SortNetworkKind kind, int n) { return cachedNetwork(kind, n).layout; }

SoftSortRow softSortRow(const std::vector<float>& values, const SoftSortSettings& settings) {
  const int n = static_cast<int>(values.size());
  if (n < 2) throw InvalidArgumentError("soft sort: need at least two values, got " + std::to_string(n));
  if (!(settings.steepness > 0.0) || !std::isfinite(settings.steepness)) {
    throw InvalidArgumentError("soft sort: steepness must be positive and finite");
  }
  for (float v : values) {
    if (!std::isfinite(v)) throw InvalidArgumentError("soft sort: values must be finite");
  }
  const CachedNetwork& net = cachedNetwork(settings.network, n);
  SoftSortRow row;
  row.n = n;
  row.input = values;
  row.sorted.resize(static_cast<std::size_t>(n));
  row.permutation.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
  std::vector<float> alphas(static_cast<std::size_t>(net.flat.comparatorCount()));
  sort::ScratchBuffer<float> scratch(sort::forwardScratchSize(net.flat));
  const sort::RelaxParams relax{toRelaxation(settings.relaxation), settings.steepness, settings.artLambda};
  sort::cpuKernels().f32.forward(net.flat, relax, values.data(), row.sorted.data(), row.permutation.data(),
                                 alphas.data(), scratch.view());
  for (int l = 0; l < net.flat.layers(); ++l) {
    const auto begin = alphas.begin() + net.flat.layerBegin[static_cast<std::size_t>(l)];
    const auto end = alphas.begin() + net.flat.layerBegin[static_cast<std::size_t>(l) + 1];
    row.swapWeights.emplace_back(begin, end);
  }
  return row;
}

std::vector<float> rankCrossEntropy(const SoftSortRow& teacher, const SoftSortRow& student, double floor) {
  if (teacher.n != student.n || teacher.permutation.size() != student.permutation.size()) {
    throw InvalidArgumentError("rank cross-entropy: teacher has " + std::to_string(teacher.n) + " elements, student " +
                               std::to_string(student.n));
  }
  const int n = student.n;
  std::vector<float> ce(static_cast<std::size_t>(n));
  for (int e = 0; e < n; ++e) {
    double sum = 0;
    for (int r = 0; r < n; ++r) {
      const std::size_t i = static_cast<std::size_t>(e) * static_cast<std::size_t>(n) + static_cast<std::size_t>(r);
      sum -= static_cast<double>(teacher.permutation[i]) * std::log(std::max<double>(student.permutation[i], floor));
    }
    ce[static_cast<std::size_t>(e)] = static_cast<float>(sum);
  }
  return ce;
}

}  // namespace neco

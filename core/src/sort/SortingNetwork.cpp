#include "sort/SortingNetwork.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <random>

namespace neco::sort {

const char* networkName(NetworkKind kind) noexcept { return kind == NetworkKind::Bitonic ? "bitonic" : "odd_even"; }

NetworkKind parseNetwork(std::string_view name) {
  if (name == "bitonic") return NetworkKind::Bitonic;
  if (name == "odd_even" || name == "odd-even") return NetworkKind::OddEven;
  throw InvalidArgumentError("unknown sorting network '" + std::string(name) + "' (expected bitonic or odd_even)");
}

std::size_t SortingNetwork::rowCount() const noexcept {
  std::size_t rows = 0;
  for (const auto& layer : layers) rows += layer.size();
  return rows;
}

std::size_t SortingNetwork::comparatorCount() const noexcept {
  std::size_t count = 0;
  for (const auto& layer : layers) {
    for (const auto& c : layer) count += c.identity() ? 0 : 1;
  }
  return count;
}

namespace {

Comparator identityRow(int wire) { return {wire, wire, wire, wire}; }

SortingNetwork bitonic(int n) {
  SortingNetwork net;
  net.kind = NetworkKind::Bitonic;
  net.n = n;
  int logN = 0;
  while ((1 << logN) < n) ++logN;
  const int N = 1 << logN;
  const int discarded = N - n;  // virtual wires 0 .. discarded-1 do not exist
  for (int bi = 0; bi < logN; ++bi) {
    for (int li = 0; li <= bi; ++li) {
      const int m = 1 << (bi - li);
      std::vector<Comparator> layer;
      for (int i = 0; i < N; i += 2 * m) {
        for (int j = 0; j < m; ++j) {
          const int ix = i + j;
          const bool descending = ((ix >> (bi + 1)) & 1) != 0;
          const bool realA = ix >= discarded, realB = ix + m >= discarded;
          if (!realA && !realB) continue;
          if (realA != realB) {
            layer.push_back(identityRow((realA ? ix : ix + m) - discarded));
            continue;
          }
          const int a = ix - discarded, b = ix + m - discarded;
          layer.push_back(descending ? Comparator{a, b, b, a} : Comparator{a, b, a, b});
        }
      }
      net.layers.push_back(std::move(layer));
    }
  }
  return net;
}

SortingNetwork oddEven(int n) {
  SortingNetwork net;
  net.kind = NetworkKind::OddEven;
  net.n = n;
  for (int t = 0; t < n; ++t) {
    const int shifted = t % 2;
    std::vector<Comparator> layer;
    if (n % 2 == 0 && shifted) layer.push_back(identityRow(0));
    if (n % 2 == 1 && shifted) layer.push_back(identityRow(0));
    for (int i = shifted; i + 1 <= n - 1; i += 2) layer.push_back({i, i + 1, i, i + 1});
    if (n % 2 == 0 && shifted) layer.push_back(identityRow(n - 1));
    if (n % 2 == 1 && !shifted) layer.push_back(identityRow(n - 1));
    net.layers.push_back(std::move(layer));
  }
  return net;
}

}  // namespace

SortingNetwork buildNetwork(NetworkKind kind, int n) {
  if (n < 2 || n > 4096) throw InvalidArgumentError("sorting network size " + std::to_string(n) + " outside [2, 4096]");
  return kind == NetworkKind::Bitonic ? bitonic(n) : oddEven(n);
}

std::vector<double> hardSort(const SortingNetwork& network, std::vector<double> values) {
  for (const auto& layer : network.layers) {
    std::vector<double> next = values;
    for (const auto& c : layer) {
      if (c.identity()) continue;
      const double lo = std::min(values[c.a], values[c.b]), hi = std::max(values[c.a], values[c.b]);
      next[c.minTo] = lo;
      next[c.maxTo] = hi;
    }
    values = std::move(next);
  }
  return values;
}

bool sortsCorrectly(const SortingNetwork& network, int trials) {
  const int n = network.n;
  auto sorted = [&](const std::vector<double>& v) {
    const auto out = hardSort(network, v);
    return std::is_sorted(out.begin(), out.end());
  };
  if (n <= 20) {  // 0-1 principle: sorting every 0/1 input proves the network
    std::vector<double> v(static_cast<std::size_t>(n));
    for (std::uint32_t bits = 0; bits < (1u << n); ++bits) {
      for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = (bits >> i) & 1u;
      if (!sorted(v)) return false;
    }
    return true;
  }
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int t = 0; t < trials; ++t) {
    for (auto& x : v) x = (t % 2 == 0) ? uniform(rng) : static_cast<double>(rng() & 1u);
    if (!sorted(v)) return false;
  }
  return true;
}

}  // namespace neco::sort

#pragma once
// Sorting networks exactly as diffsort 0.2.0 builds them (METHOD.md §3.4, §3.5): the padded bitonic
// network for any n (N = 2^ceil(log2 n) virtual wires, the first N - n discarded, identity rows for
// comparators touching a discarded wire) and the odd-even transposition network. Torch-free: a network
// is a list of layers of comparator rows; the dense reference and the fused op both consume it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace neco::sort {

enum class NetworkKind { Bitonic, OddEven };

const char* networkName(NetworkKind kind) noexcept;         ///< "bitonic" / "odd_even"
NetworkKind parseNetwork(std::string_view name);            ///< throws InvalidArgumentError

/// One row of a layer: reads wires `a` and `b`, writes the soft minimum to `minTo` and the soft
/// maximum to `maxTo`. An identity row (a == b == minTo == maxTo) passes one wire through unchanged
/// (diffsort's 0.5 / 0.5 padding row).
struct Comparator {
  int a = 0;
  int b = 0;
  int minTo = 0;
  int maxTo = 0;
  bool identity() const noexcept { return a == b; }
};

struct SortingNetwork {
  NetworkKind kind = NetworkKind::Bitonic;
  int n = 0;
  std::vector<std::vector<Comparator>> layers;

  std::size_t rowCount() const noexcept;
  std::size_t comparatorCount() const noexcept;  ///< rows that are not identity rows
};

/// Builds the network for n wires (n >= 2). Throws InvalidArgumentError for n < 2 or n > 4096.
SortingNetwork buildNetwork(NetworkKind kind, int n);

/// Whether the network sorts every input. Exhaustive over all 0/1 inputs (the 0-1 principle) for
/// n <= 20, else `trials` random 0/1 and real vectors with a fixed seed. diffsort's padded bitonic
/// construction fails for many n (22, 38, 42-46, ...); odd-even is always valid.
bool sortsCorrectly(const SortingNetwork& network, int trials = 2000);

/// Applies the network with hard comparators (min/max), for tests and validity checks.
std::vector<double> hardSort(const SortingNetwork& network, std::vector<double> values);

}  // namespace neco::sort

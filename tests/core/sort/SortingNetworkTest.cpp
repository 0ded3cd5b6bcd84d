#include "NecoTest.h"
#include "neco/core/Error.h"
#include "sort/SortingNetwork.h"

#include <set>

using namespace neco::sort;

NECO_TEST(SortingNetwork, bitonicSizesMatchDiffsort) {
  // METHOD.md §3.4: n = 49 -> 21 layers, 546 rows (483 comparators + 63 identity rows); 16 -> 10 layers.
  const SortingNetwork n49 = buildNetwork(NetworkKind::Bitonic, 49);
  NECO_CHECK_EQ(n49.layers.size(), 21u);
  NECO_CHECK_EQ(n49.rowCount(), 546u);
  NECO_CHECK_EQ(n49.comparatorCount(), 483u);
  NECO_CHECK_EQ(buildNetwork(NetworkKind::Bitonic, 64).layers.size(), 21u);
  NECO_CHECK_EQ(buildNetwork(NetworkKind::Bitonic, 16).layers.size(), 10u);
  // Each wire appears at most once per layer.
  for (const auto& layer : n49.layers) {
    std::set<int> wires;
    for (const auto& c : layer) {
      NECO_CHECK(c.a >= 0 && c.b < 49 && c.minTo >= 0 && c.maxTo < 49);
      NECO_CHECK(wires.insert(c.a).second);
      if (!c.identity()) NECO_CHECK(wires.insert(c.b).second);
    }
  }
}

NECO_TEST(SortingNetwork, oddEvenSizesMatchDiffsort) {
  const SortingNetwork n49 = buildNetwork(NetworkKind::OddEven, 49);
  NECO_CHECK_EQ(n49.layers.size(), 49u);
  for (const auto& layer : n49.layers) NECO_CHECK_EQ(layer.size(), 25u);
  const SortingNetwork n8 = buildNetwork(NetworkKind::OddEven, 8);
  NECO_CHECK_EQ(n8.layers[0].size(), 4u);
  NECO_CHECK_EQ(n8.layers[1].size(), 5u);  // 3 comparators + identity rows for wires 0 and 7
}

NECO_TEST(SortingNetwork, validityIsReportedNotAssumed) {
  // The padded bitonic construction sorts for 49 and powers of two but not for 22, 38, 42-46, ...
  for (int n : {2, 3, 7, 16, 49, 64}) {
    if (!sortsCorrectly(buildNetwork(NetworkKind::Bitonic, n))) {
      ::neco::test::reportFailure(__FILE__, __LINE__, "bitonic n=" + std::to_string(n) + " should sort");
    }
  }
  for (int n : {22, 38, 44}) {
    if (sortsCorrectly(buildNetwork(NetworkKind::Bitonic, n))) {
      ::neco::test::reportFailure(__FILE__, __LINE__, "bitonic n=" + std::to_string(n) + " is a known failure");
    }
  }
  for (int n = 2; n <= 59; ++n) {
    if (!sortsCorrectly(buildNetwork(NetworkKind::OddEven, n), 200)) {
      ::neco::test::reportFailure(__FILE__, __LINE__, "odd-even n=" + std::to_string(n) + " should sort");
    }
  }
  NECO_CHECK_THROWS(neco::InvalidArgumentError, buildNetwork(NetworkKind::Bitonic, 1));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, parseNetwork("bubble"));
}

#pragma once
// Minimum-cost assignment of a rectangular cost matrix (what scipy.optimize.linear_sum_assignment
// computes): min(rows, cols) pairs, no row or column used twice, the sum of their costs minimal.
// Shortest augmenting paths with row / column potentials, O(n^2 m) for n = min(rows, cols); exact
// for finite costs. Used to match cluster ids or predicted labels to classes (METHOD.md §4.2, §4.3).

#include <vector>

namespace neco::eval {

struct Assignment {
  std::vector<int> columnOfRow;  ///< per row: its column, or -1 when the row stays unassigned (rows > cols)
  double cost = 0;               ///< sum of the assigned entries
};

/// `cost` is rows x cols, row-major. Throws InvalidArgumentError for a size mismatch or a non-finite entry.
Assignment minimumCostAssignment(const std::vector<double>& cost, int rows, int cols);

}  // namespace neco::eval

#include "eval/Hungarian.h"

#include "neco/core/Error.h"

#include <cmath>
#include <limits>
#include <string>

namespace neco::eval {

Assignment minimumCostAssignment(const std::vector<double>& cost, int rows, int cols) {
  if (rows < 0 || cols < 0 || cost.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols)) {
    throw InvalidArgumentError("assignment: the cost matrix must hold rows x cols = " + std::to_string(rows) + " x " +
                               std::to_string(cols) + " values, got " + std::to_string(cost.size()));
  }
  for (double c : cost) {
    if (!std::isfinite(c)) throw InvalidArgumentError("assignment: every cost must be finite");
  }
  Assignment out;
  out.columnOfRow.assign(static_cast<std::size_t>(rows), -1);
  if (rows == 0 || cols == 0) return out;
  // Work on n <= m (the smaller side is matched completely): transpose when there are more rows.
  const bool transposed = rows > cols;
  const int n = transposed ? cols : rows, m = transposed ? rows : cols;
  const auto a = [&](int i, int j) {  // 1-based in the algorithm below
    return transposed ? cost[static_cast<std::size_t>(j - 1) * cols + (i - 1)] : cost[static_cast<std::size_t>(i - 1) * cols + (j - 1)];
  };
  const double inf = std::numeric_limits<double>::infinity();
  // u, v: potentials of rows and columns; p[j]: the row matched to column j (0 = none); way[j]: the
  // previous column on the shortest path to j.
  std::vector<double> u(static_cast<std::size_t>(n) + 1, 0.0), v(static_cast<std::size_t>(m) + 1, 0.0);
  std::vector<int> p(static_cast<std::size_t>(m) + 1, 0), way(static_cast<std::size_t>(m) + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(static_cast<std::size_t>(m) + 1, inf);
    std::vector<char> used(static_cast<std::size_t>(m) + 1, 0);
    do {
      used[static_cast<std::size_t>(j0)] = 1;
      const int i0 = p[static_cast<std::size_t>(j0)];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        if (used[static_cast<std::size_t>(j)]) continue;
        const double cur = a(i0, j) - u[static_cast<std::size_t>(i0)] - v[static_cast<std::size_t>(j)];
        if (cur < minv[static_cast<std::size_t>(j)]) {
          minv[static_cast<std::size_t>(j)] = cur;
          way[static_cast<std::size_t>(j)] = j0;
        }
        if (minv[static_cast<std::size_t>(j)] < delta) {
          delta = minv[static_cast<std::size_t>(j)];
          j1 = j;
        }
      }
      for (int j = 0; j <= m; ++j) {
        if (used[static_cast<std::size_t>(j)]) {
          u[static_cast<std::size_t>(p[static_cast<std::size_t>(j)])] += delta;
          v[static_cast<std::size_t>(j)] -= delta;
        } else {
          minv[static_cast<std::size_t>(j)] -= delta;
        }
      }
      j0 = j1;
    } while (p[static_cast<std::size_t>(j0)] != 0);
    do {  // augment along the path
      const int j1 = way[static_cast<std::size_t>(j0)];
      p[static_cast<std::size_t>(j0)] = p[static_cast<std::size_t>(j1)];
      j0 = j1;
    } while (j0 != 0);
  }
  for (int j = 1; j <= m; ++j) {
    const int i = p[static_cast<std::size_t>(j)];
    if (i == 0) continue;
    const int row = transposed ? j - 1 : i - 1, col = transposed ? i - 1 : j - 1;
    out.columnOfRow[static_cast<std::size_t>(row)] = col;
    out.cost += cost[static_cast<std::size_t>(row) * cols + col];
  }
  return out;
}

}  // namespace neco::eval

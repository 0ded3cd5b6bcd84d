#include "sort/DenseSort.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>

namespace neco::sort {

std::vector<DenseLayer> denseLayers(const SortingNetwork& network, at::ScalarType dtype) {
  std::vector<DenseLayer> out;
  const int n = network.n;
  for (const auto& layer : network.layers) {
    const auto k = static_cast<int64_t>(layer.size());
    DenseLayer d{at::zeros({k, n}, dtype), at::zeros({k, n}, dtype), at::zeros({n, k}, dtype), at::zeros({n, k}, dtype)};
    for (int64_t c = 0; c < k; ++c) {
      const Comparator& cmp = layer[static_cast<std::size_t>(c)];
      d.splitA[c][cmp.a] = 1.0;
      d.splitB[c][cmp.b] = 1.0;
      const double w = cmp.identity() ? 0.5 : 1.0;  // identity rows: 0.5 min + 0.5 max = the wire itself
      d.combineMin[cmp.minTo][c] = w;
      d.combineMax[cmp.maxTo][c] = w;
    }
    out.push_back(std::move(d));
  }
  return out;
}

SoftSortResult denseSoftSort(const at::Tensor& input, const SortingNetwork& network, const SortOptions& options) {
  if (input.dim() != 2 || input.size(1) != network.n) {
    throw InvalidArgumentError("dense sort: input must be (rows, " + std::to_string(network.n) + ")");
  }
  const bool lowPrecision = input.scalar_type() == at::kHalf || input.scalar_type() == at::kBFloat16;
  at::Tensor x = lowPrecision ? input.to(at::kFloat) : input;
  const auto dtype = x.scalar_type();
  const auto R = x.size(0);
  at::Tensor X = at::eye(network.n, x.options()).expand({R, network.n, network.n});
  for (DenseLayer layer : denseLayers(network, dtype)) {
    if (!x.is_cpu()) {
      const auto device = x.device();
      layer = {layer.splitA.to(device), layer.splitB.to(device), layer.combineMin.to(device), layer.combineMax.to(device)};
    }
    const at::Tensor a = at::matmul(x, layer.splitA.t()), b = at::matmul(x, layer.splitB.t());  // (R, k)
    const at::Tensor alpha = relaxedAlpha(a, b, options);
    x = at::matmul(alpha * a + (1 - alpha) * b, layer.combineMin.t()) +
        at::matmul((1 - alpha) * a + alpha * b, layer.combineMax.t());
    const at::Tensor aX = at::matmul(X, layer.splitA.t()), bX = at::matmul(X, layer.splitB.t());  // (R, n, k)
    const at::Tensor al = alpha.unsqueeze(1);
    const at::Tensor wMin = al * aX + (1 - al) * bX, wMax = (1 - al) * aX + al * bX;
    X = at::matmul(wMax, layer.combineMax.t()) + at::matmul(wMin, layer.combineMin.t());
  }
  return {x, X};
}

}  // namespace neco::sort

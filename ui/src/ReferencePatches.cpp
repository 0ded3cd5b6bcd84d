#include "neco/ui/ReferencePatches.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace neco::ui {
namespace {

std::vector<int> evenlySpaced(int size, int side) {
  std::vector<int> positions;
  const int count = std::min(size, side);
  for (int i = 0; i < count; ++i) positions.push_back(static_cast<int>((i + 0.5) * size / count));
  return positions;
}

double norm(const float* row, int dim) {
  double sum = 0.0;
  for (int k = 0; k < dim; ++k) sum += double(row[k]) * row[k];
  return std::sqrt(sum);
}

int patchIndex(const PatchFeatures& features, QPoint patch) {
  if (patch.x() < 0 || patch.y() < 0 || patch.x() >= features.gridW || patch.y() >= features.gridH)
    throw InvalidArgumentError("patch (" + std::to_string(patch.x()) + ", " + std::to_string(patch.y()) +
                               ") is outside the " + std::to_string(features.gridW) + " x " +
                               std::to_string(features.gridH) + " patch grid");
  return patch.y() * features.gridW + patch.x();
}

}  // namespace

std::vector<QPoint> referencePatchGrid(int columns, int rows, int side) {
  std::vector<QPoint> patches;
  if (columns <= 0 || rows <= 0 || side < 1) return patches;
  const std::vector<int> xs = evenlySpaced(columns, side), ys = evenlySpaced(rows, side);
  for (int y : ys)
    for (int x : xs) patches.emplace_back(x, y);
  return patches;
}

std::vector<float> referenceSimilarities(const PatchFeatures& features, QPoint source,
                                         const std::vector<QPoint>& references) {
  const int dim = features.dim;
  const float* query = features.row(patchIndex(features, source));
  const double queryNorm = norm(query, dim);
  std::vector<float> similarities;
  similarities.reserve(references.size());
  for (QPoint reference : references) {
    const float* row = features.row(patchIndex(features, reference));
    double dot = 0.0;
    for (int k = 0; k < dim; ++k) dot += double(query[k]) * row[k];
    const double denominator = queryNorm * norm(row, dim);
    similarities.push_back(denominator > 0.0 ? static_cast<float>(std::clamp(dot / denominator, -1.0, 1.0)) : 0.f);
  }
  return similarities;
}

}  // namespace neco::ui

// Label-map helpers of the evaluation protocols (see LabelMaps.h).
#include "eval/LabelMaps.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <cmath>

namespace neco::eval {
namespace {

void checkSizes(const LabelImage& m, int width, int height) {
  if (m.empty() || m.labels.size() != static_cast<std::size_t>(m.width) * m.height || width < 1 || height < 1) {
    throw InvalidArgumentError("label map resize: empty or inconsistent label map, or a target size below 1");
  }
}

LabelImage gather(const LabelImage& m, const std::vector<int>& sx, const std::vector<int>& sy) {
  LabelImage r;
  r.width = static_cast<int>(sx.size());
  r.height = static_cast<int>(sy.size());
  r.labels.resize(sx.size() * sy.size());
  for (int y = 0; y < r.height; ++y) {
    for (int x = 0; x < r.width; ++x) r.at(x, y) = m.at(sx[static_cast<std::size_t>(x)], sy[static_cast<std::size_t>(y)]);
  }
  return r;
}

}  // namespace

LabelImage pilNearest(const LabelImage& m, int width, int height) {
  checkSizes(m, width, height);
  std::vector<int> sx(static_cast<std::size_t>(width)), sy(static_cast<std::size_t>(height));
  for (int x = 0; x < width; ++x) sx[static_cast<std::size_t>(x)] = std::min(m.width - 1, static_cast<int>((x + 0.5) * m.width / width));
  for (int y = 0; y < height; ++y) sy[static_cast<std::size_t>(y)] = std::min(m.height - 1, static_cast<int>((y + 0.5) * m.height / height));
  return gather(m, sx, sy);
}

LabelImage torchNearest(const LabelImage& m, int width, int height) {
  checkSizes(m, width, height);
  std::vector<int> sx(static_cast<std::size_t>(width)), sy(static_cast<std::size_t>(height));
  for (int x = 0; x < width; ++x) sx[static_cast<std::size_t>(x)] = static_cast<int>(static_cast<std::int64_t>(x) * m.width / width);
  for (int y = 0; y < height; ++y) sy[static_cast<std::size_t>(y)] = static_cast<int>(static_cast<std::int64_t>(y) * m.height / height);
  return gather(m, sx, sy);
}

LabelImage referenceMaskResize(const LabelImage& m, int input, int out) {
  return torchNearest(pilNearest(m, input, input), out, out);
}

std::string className(const std::vector<std::string>& names, int c) {
  return c >= 0 && c < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(c)] : std::to_string(c);
}

MeanStd meanAndStd(const std::vector<double>& values) {
  MeanStd r;
  if (values.empty()) return r;
  const double n = static_cast<double>(values.size());
  for (double v : values) r.mean += v / n;
  double sq = 0;
  for (double v : values) sq += (v - r.mean) * (v - r.mean) / n;
  r.std = std::sqrt(sq);
  return r;
}

}  // namespace neco::eval

#include "neco/core/FeatureMaps.h"

#include "eval/Clustering.h"
#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace neco {
namespace {

constexpr int kMinComponents = 3;        // one per colour channel
constexpr int kKMeansRestarts = 3;       // a map is a picture, not a benchmark: a few restarts suffice
constexpr int kKMeansIterations = 50;
constexpr double kByteMax = 255.0;

void checkFeatures(const PatchFeatures& f, const std::string& what) {
  if (f.empty() || f.patchCount() <= 0 || f.dim <= 0 ||
      f.tokens.size() != static_cast<std::size_t>(f.patchCount()) * static_cast<std::size_t>(f.dim)) {
    throw InvalidArgumentError(what + ": no patch tokens (or tokens that do not fill the " +
                               std::to_string(f.gridW) + "x" + std::to_string(f.gridH) + " grid)");
  }
}

/// numpy.percentile(values, p) with the default method "linear" (numpy 1.22+): position
/// (n - 1) * p / 100 in the sorted values, and numpy's two-sided lerp (from the nearer end).
double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double position = static_cast<double>(values.size() - 1) * (p / 100.0);
  const double below = std::floor(position);
  const auto i = static_cast<std::size_t>(below);
  const std::size_t j = std::min(i + 1, values.size() - 1);
  const double t = position - below, a = values[i], b = values[j], diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

/// (N, count) projections of `f`'s tokens on the stored (float) basis, in double.
std::vector<double> project(const PatchFeatures& f, const PcaRgbBasis& basis) {
  const int n = f.patchCount(), count = basis.count(), dim = basis.dim;
  std::vector<double> out(static_cast<std::size_t>(n) * count);
  std::vector<double> centred(static_cast<std::size_t>(dim));
  for (int p = 0; p < n; ++p) {
    const float* row = f.row(p);
    for (int d = 0; d < dim; ++d) centred[static_cast<std::size_t>(d)] = double(row[d]) - double(basis.mean[static_cast<std::size_t>(d)]);
    for (int c = 0; c < count; ++c) {
      const float* comp = basis.components.data() + static_cast<std::size_t>(c) * dim;
      double s = 0;
      for (int d = 0; d < dim; ++d) s += centred[static_cast<std::size_t>(d)] * double(comp[d]);
      out[static_cast<std::size_t>(p) * count + c] = s;
    }
  }
  return out;
}

/// The value of channel `c` in [0, 1] by its robust range (0 where the range is empty).
double normalised(double projection, const PcaRgbBasis& basis, int c) {
  const double low = basis.low[static_cast<std::size_t>(c)], high = basis.high[static_cast<std::size_t>(c)];
  if (!(high > low)) return 0.0;
  return std::clamp((projection - low) / (high - low), 0.0, 1.0);
}

void checkComponent(int c, const PcaRgbBasis& basis, const char* what) {
  if (c < 0 || c >= basis.count()) {
    throw InvalidArgumentError(std::string("PCA-RGB: ") + what + " component " + std::to_string(c) +
                               " is outside the basis's " + std::to_string(basis.count()) + " components (0-based)");
  }
}

}  // namespace

PcaRgbBasis fitPcaRgbBasis(const std::vector<const PatchFeatures*>& images, const PcaRgbOptions& options) {
  if (images.empty()) throw InvalidArgumentError("PCA-RGB basis: no images to fit on");
  const int dim = images.front() != nullptr ? images.front()->dim : 0;
  std::int64_t rows = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::string what = "PCA-RGB basis: image " + std::to_string(i);
    if (images[i] == nullptr) throw InvalidArgumentError(what + " is null");
    checkFeatures(*images[i], what);
    if (images[i]->dim != dim) {
      throw InvalidArgumentError(what + " has " + std::to_string(images[i]->dim) + "-d tokens, image 0 has " +
                                 std::to_string(dim) + "-d: a shared basis needs one model's features");
    }
    rows += images[i]->patchCount();
  }
  if (rows < 2) throw InvalidArgumentError("PCA-RGB basis: needs at least 2 patches, got " + std::to_string(rows));
  if (options.components < kMinComponents || options.components > dim) {
    throw InvalidArgumentError("PCA-RGB basis: components = " + std::to_string(options.components) +
                               " outside [3, " + std::to_string(dim) + "] (the token dimension)");
  }
  if (!(options.lowPercentile >= 0.0 && options.lowPercentile < options.highPercentile && options.highPercentile <= 100.0)) {
    throw InvalidArgumentError("PCA-RGB basis: percentiles " + std::to_string(options.lowPercentile) + ", " +
                               std::to_string(options.highPercentile) + " are not 0 <= low < high <= 100");
  }

  at::Tensor x = at::empty({rows, dim}, at::kFloat);
  std::int64_t offset = 0;
  for (const PatchFeatures* f : images) {
    const std::int64_t n = f->patchCount();
    std::copy(f->tokens.begin(), f->tokens.end(), x.data_ptr<float>() + offset * dim);
    offset += n;
  }
  const eval::Pca pca = eval::fitPca(x, options.components);  // float64, sign-fixed, by decreasing variance
  PcaRgbBasis basis;
  basis.dim = dim;
  const at::Tensor mean = pca.mean.to(at::kFloat).contiguous();
  const at::Tensor comps = pca.components.t().to(at::kFloat).contiguous();  // (count, dim)
  const at::Tensor vars = pca.variances.to(at::kFloat).contiguous();
  basis.mean.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + dim);
  basis.components.assign(comps.data_ptr<float>(), comps.data_ptr<float>() + comps.numel());
  basis.variances.assign(vars.data_ptr<float>(), vars.data_ptr<float>() + vars.numel());

  // The ranges come from the stored (float) basis, so a fitted patch projects exactly as it will later.
  const int count = basis.count();
  std::vector<std::vector<double>> perComponent(static_cast<std::size_t>(count));
  for (const PatchFeatures* f : images) {
    const std::vector<double> proj = project(*f, basis);
    for (std::size_t i = 0; i < proj.size(); ++i) perComponent[i % static_cast<std::size_t>(count)].push_back(proj[i]);
  }
  for (const auto& values : perComponent) {
    basis.low.push_back(static_cast<float>(percentile(values, options.lowPercentile)));
    basis.high.push_back(static_cast<float>(percentile(values, options.highPercentile)));
  }
  return basis;
}

PatchRgbMap projectPcaRgb(const PatchFeatures& features, const PcaRgbBasis& basis, std::array<int, 3> components,
                          std::optional<PcaBackground> background) {
  checkFeatures(features, "PCA-RGB projection");
  if (basis.empty() || basis.mean.size() != static_cast<std::size_t>(basis.dim) ||
      basis.low.size() != static_cast<std::size_t>(basis.count()) || basis.high.size() != basis.low.size()) {
    throw InvalidArgumentError("PCA-RGB projection: the basis is empty or its vectors do not match its dimension");
  }
  if (features.dim != basis.dim) {
    throw InvalidArgumentError("PCA-RGB projection: features have " + std::to_string(features.dim) +
                               "-d tokens, the basis was fitted on " + std::to_string(basis.dim) + "-d tokens");
  }
  for (int c : components) checkComponent(c, basis, "colour");
  if (background) checkComponent(background->component, basis, "background");

  const std::vector<double> proj = project(features, basis);
  const int n = features.patchCount(), count = basis.count();
  PatchRgbMap map;
  map.width = features.gridW;
  map.height = features.gridH;
  map.rgb.assign(static_cast<std::size_t>(n) * 3, 0);
  map.background.assign(static_cast<std::size_t>(n), 0);
  for (int p = 0; p < n; ++p) {
    const double* row = proj.data() + static_cast<std::size_t>(p) * count;
    if (background && normalised(row[background->component], basis, background->component) < background->threshold) {
      map.background[static_cast<std::size_t>(p)] = 1;
      continue;  // stays black
    }
    for (int ch = 0; ch < 3; ++ch) {
      const int c = components[static_cast<std::size_t>(ch)];
      map.rgb[static_cast<std::size_t>(p) * 3 + ch] = static_cast<std::uint8_t>(std::lround(normalised(row[c], basis, c) * kByteMax));
    }
  }
  return map;
}

std::vector<int> kmeansPatchLabels(const PatchFeatures& features, int k, std::uint64_t seed) {
  checkFeatures(features, "k-means map");
  const int n = features.patchCount();
  if (k < 1 || k > n) {
    throw InvalidArgumentError("k-means map: k = " + std::to_string(k) + " outside [1, " + std::to_string(n) +
                               "] (the patch count)");
  }
  at::Tensor x = at::from_blob(const_cast<float*>(features.tokens.data()), {n, features.dim}, at::kFloat).clone();
  x = x / x.norm(2, 1, true).clamp_min(1e-12);  // cosine: idempotent on already-normalised tokens
  eval::KMeansOptions o;
  o.k = k;
  o.seed = seed;
  o.restarts = kKMeansRestarts;
  o.iterations = kKMeansIterations;
  const at::Tensor assignment = eval::kmeans(x, o).assignment.contiguous();
  const std::int64_t* a = assignment.data_ptr<std::int64_t>();
  // renumber by first appearance so the same partition always gets the same labels
  std::vector<int> relabel(static_cast<std::size_t>(k), -1), labels(static_cast<std::size_t>(n));
  int next = 0;
  for (int p = 0; p < n; ++p) {
    int& r = relabel[static_cast<std::size_t>(a[p])];
    if (r < 0) r = next++;
    labels[static_cast<std::size_t>(p)] = r;
  }
  return labels;
}

}  // namespace neco

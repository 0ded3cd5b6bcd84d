#include "eval/Clustering.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <limits>
#include <string>

namespace neco::eval {
namespace {

constexpr std::int64_t kChunk = 65536;  // rows per distance chunk

void checkPoints(const at::Tensor& x, const char* what, std::int64_t minRows) {
  if (x.dim() != 2 || x.size(0) < minRows || x.size(1) < 1) {
    throw InvalidArgumentError(std::string(what) + ": expected an (N >= " + std::to_string(minRows) +
                               ", D) matrix of points");
  }
}

}  // namespace

at::Tensor Standardiser::apply(const at::Tensor& x) const {
  return ((x.to(at::kDouble) - mean) / scale).to(at::kFloat);
}

Standardiser fitStandardiser(const at::Tensor& x) {
  checkPoints(x, "standardiser", 1);
  at::Tensor sum = at::zeros({x.size(1)}, at::kDouble), sq = at::zeros({x.size(1)}, at::kDouble);
  for (std::int64_t i = 0; i < x.size(0); i += kChunk) {  // in chunks, as sklearn's partial_fit over 100k rows
    const at::Tensor c = x.slice(0, i, std::min(x.size(0), i + kChunk)).to(at::kDouble);
    sum += c.sum(0);
    sq += (c * c).sum(0);
  }
  const double n = static_cast<double>(x.size(0));
  Standardiser s;
  s.mean = sum / n;
  const at::Tensor var = (sq / n - s.mean * s.mean).clamp_min(0);
  s.scale = at::where(var > 0, var.sqrt(), at::ones_like(var));
  return s;
}

at::Tensor Pca::apply(const at::Tensor& x) const {
  return at::matmul(x.to(at::kDouble) - mean, components).to(at::kFloat);
}

Pca fitPca(const at::Tensor& x, int dims) {
  checkPoints(x, "PCA", 2);
  if (dims < 1 || dims > x.size(1)) {
    throw InvalidArgumentError("PCA: cannot keep " + std::to_string(dims) + " of " + std::to_string(x.size(1)) + " dimensions");
  }
  const std::int64_t D = x.size(1);
  at::Tensor sum = at::zeros({D}, at::kDouble), gram = at::zeros({D, D}, at::kDouble);
  for (std::int64_t i = 0; i < x.size(0); i += kChunk) {
    const at::Tensor c = x.slice(0, i, std::min(x.size(0), i + kChunk)).to(at::kDouble);
    sum += c.sum(0);
    gram += at::matmul(c.t(), c);
  }
  const double n = static_cast<double>(x.size(0));
  Pca p;
  p.mean = sum / n;
  const at::Tensor cov = gram / n - at::outer(p.mean, p.mean);
  const auto [values, vectors] = at::linalg_eigh(cov);  // ascending
  const at::Tensor order = at::arange(D - 1, D - 1 - dims, -1, at::kLong);
  p.variances = values.index_select(0, order);
  at::Tensor comps = vectors.index_select(1, order);
  // a deterministic sign: each component's largest-magnitude entry is positive
  const at::Tensor idx = comps.abs().argmax(0);
  const at::Tensor signs = comps.gather(0, idx.unsqueeze(0)).sign().squeeze(0);
  p.components = comps * at::where(signs == 0, at::ones_like(signs), signs);
  return p;
}

at::Tensor nearestCentroid(const at::Tensor& x, const at::Tensor& centroids, at::Tensor* squaredDistance) {
  const at::Tensor c = centroids.to(at::kFloat);
  const at::Tensor cNorm = (c * c).sum(1);
  at::Tensor out = at::empty({x.size(0)}, at::kLong);
  at::Tensor dist = squaredDistance != nullptr ? at::empty({x.size(0)}, at::kFloat) : at::Tensor();
  for (std::int64_t i = 0; i < x.size(0); i += kChunk) {
    const std::int64_t end = std::min(x.size(0), i + kChunk);
    const at::Tensor p = x.slice(0, i, end).to(at::kFloat);
    const at::Tensor d = (p * p).sum(1, true) - 2 * at::matmul(p, c.t()) + cNorm.unsqueeze(0);
    const auto [best, arg] = d.min(1);
    out.slice(0, i, end).copy_(arg);
    if (dist.defined()) dist.slice(0, i, end).copy_(best.clamp_min(0));
  }
  if (squaredDistance != nullptr) *squaredDistance = dist;
  return out;
}

namespace {

/// k-means++ seeding: the first centre uniformly, then each next with probability proportional to
/// the squared distance to the nearest centre chosen so far.
at::Tensor seedCentroids(const at::Tensor& x, int k, at::Generator& gen) {
  const std::int64_t N = x.size(0);
  at::Tensor centres = at::empty({k, x.size(1)}, at::kFloat);
  const std::int64_t first = at::randint(N, {1}, gen, at::kLong).item<std::int64_t>();
  centres[0].copy_(x[first]);
  at::Tensor nearest = ((x - x[first]).pow(2)).sum(1);
  for (int j = 1; j < k; ++j) {
    const double total = nearest.sum().item<double>();
    std::int64_t pick = 0;
    if (total > 0) {
      pick = at::multinomial(nearest.to(at::kDouble), 1, false, gen).item<std::int64_t>();
    } else {
      pick = at::randint(N, {1}, gen, at::kLong).item<std::int64_t>();  // all points coincide with centres
    }
    centres[j].copy_(x[pick]);
    nearest = at::minimum(nearest, ((x - x[pick]).pow(2)).sum(1));
  }
  return centres;
}

KMeansResult lloyd(const at::Tensor& x, at::Tensor centroids, int iterations) {
  const int k = static_cast<int>(centroids.size(0));
  KMeansResult r;
  at::Tensor assignment, dist;
  for (int it = 0; it < iterations; ++it) {
    at::Tensor next = nearestCentroid(x, centroids, &dist);
    r.iterations = it + 1;
    if (assignment.defined() && next.equal(assignment)) break;
    assignment = next;
    at::Tensor sums = at::zeros({k, x.size(1)}, at::kDouble).index_add_(0, assignment, x.to(at::kDouble));
    at::Tensor counts = at::bincount(assignment, {}, k).to(at::kDouble);
    for (int j = 0; j < k; ++j) {
      if (counts[j].item<double>() > 0) continue;
      // an empty cluster takes the point farthest from its own centroid (never the same point twice)
      const std::int64_t far = dist.argmax().item<std::int64_t>();
      dist[far] = -1;
      sums[j].copy_(x[far].to(at::kDouble));
      counts[j] = 1;
    }
    centroids = (sums / counts.unsqueeze(1)).to(at::kFloat);
  }
  r.centroids = centroids;
  r.assignment = nearestCentroid(x, centroids, &dist);
  r.inertia = dist.to(at::kDouble).sum().item<double>();
  return r;
}

}  // namespace

KMeansResult kmeans(const at::Tensor& points, const KMeansOptions& o) {
  checkPoints(points, "k-means", 1);
  if (o.k < 1 || o.k > points.size(0)) {
    throw InvalidArgumentError("k-means: k = " + std::to_string(o.k) + " for " + std::to_string(points.size(0)) + " points");
  }
  if (o.iterations < 1 || o.restarts < 1) throw InvalidArgumentError("k-means: iterations and restarts must be >= 1");
  const at::Tensor x = points.to(at::kFloat).contiguous();
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int r = 0; r < o.restarts; ++r) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed * 1000003ULL + static_cast<std::uint64_t>(r));
    KMeansResult run = lloyd(x, seedCentroids(x, o.k, gen), o.iterations);
    if (run.inertia < best.inertia) best = std::move(run);
  }
  return best;
}

}  // namespace neco::eval

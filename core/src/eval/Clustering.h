#pragma once
// The overclustering protocol's numerics (METHOD.md §4.2): per-dimension standardisation (sklearn's
// StandardScaler), PCA (faiss's PCAMatrix without whitening) and Euclidean k-means with restarts.
//
// Decisions: k-means starts from k-means++ seeding (the issue asks for it; faiss samples k random
// points) and runs Lloyd iterations until no assignment changes or `iterations` are done; of
// `restarts` runs (each seeded from (seed, restart)) the one with the lowest inertia is kept, as faiss's
// nredo. A cluster that loses all its points takes the point farthest from its own centroid (faiss
// splits a large cluster instead). Distances are computed in chunks, so N x K is never materialised.

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace neco::eval {

struct Standardiser {
  at::Tensor mean, scale;  ///< (D,) float64; scale = population std, 1 where a dimension is constant
  at::Tensor apply(const at::Tensor& x) const;  ///< (N, D) -> (N, D) float32
};
/// Throws InvalidArgumentError unless x is (N >= 1, D).
Standardiser fitStandardiser(const at::Tensor& x);

struct Pca {
  at::Tensor mean;         ///< (D,) float64
  at::Tensor components;   ///< (D, d) float64, columns by decreasing variance, each with its largest entry positive
  at::Tensor variances;    ///< (d,) the eigenvalues of the covariance (population)
  at::Tensor apply(const at::Tensor& x) const;  ///< (N, D) -> (N, d) float32
};
/// Throws InvalidArgumentError unless x is (N >= 2, D) and 1 <= dims <= D.
Pca fitPca(const at::Tensor& x, int dims);

struct KMeansOptions {
  int k = 21;
  int iterations = 100;  ///< faiss's niter
  int restarts = 5;      ///< faiss's nredo
  std::uint64_t seed = 0;
};

struct KMeansResult {
  at::Tensor centroids;   ///< (k, d) float32
  at::Tensor assignment;  ///< (N,) long: the nearest centroid of each point
  double inertia = 0;     ///< sum of squared distances to the assigned centroids
  int iterations = 0;     ///< Lloyd iterations of the kept run
};

/// Throws InvalidArgumentError for k < 1, k > N or bad options.
KMeansResult kmeans(const at::Tensor& x, const KMeansOptions& options);

/// (N, d) points, (k, d) centroids -> (N,) long nearest centroid (chunked; ties to the lower index).
at::Tensor nearestCentroid(const at::Tensor& x, const at::Tensor& centroids, at::Tensor* squaredDistance = nullptr);

}  // namespace neco::eval

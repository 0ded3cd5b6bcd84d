#pragma once
// Per-patch pictures of a backbone's features (the studio's "Feature maps" view):
//   - PCA-to-RGB: three principal components of the patch tokens mapped to R, G and B, each scaled
//     by a robust range (percentiles of the fitted projections) so a few outlier patches do not wash
//     the picture out. The basis can be fitted on several images at once and kept (locked) for new
//     images or models, so equal colours mean equal features across them.
//   - a k-means cluster map of the patch tokens.
// Torch-free and Qt-free; the basis is plain vectors so it can be written to a JSON manifest.

#include "neco/core/FeatureExtractor.h"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace neco {

struct PcaRgbOptions {
  int components = 8;           ///< principal components kept (>= 3, <= the token dimension)
  double lowPercentile = 1.0;   ///< robust range of each component: [low, high] percentiles of the
  double highPercentile = 99.0; ///< fitted projections, 0 <= low < high <= 100
};

/// A PCA basis of patch tokens with a robust display range per component.
struct PcaRgbBasis {
  int dim = 0;                    ///< token dimension
  std::vector<float> mean;        ///< (dim) mean token of the fitted patches
  std::vector<float> components;  ///< (count, dim) row-major, by decreasing variance; each row's
                                  ///< largest-magnitude entry is positive (a deterministic sign)
  std::vector<float> variances;   ///< (count) population variance along each component
  std::vector<float> low, high;   ///< (count) the low / high percentiles of the fitted projections

  int count() const noexcept { return dim > 0 ? static_cast<int>(components.size() / static_cast<std::size_t>(dim)) : 0; }
  bool empty() const noexcept { return count() == 0; }
};

/// Fits one basis on the patch tokens of all `images` together (a shared basis: the same token gets
/// the same colour in every image). Percentiles follow numpy.percentile's default ("linear": the
/// value at position p/100 * (n - 1) of the sorted projections, interpolated between neighbours).
/// Throws InvalidArgumentError for no images, a null or empty image, images of different token
/// dimensions, fewer than two patches in all, components outside [3, dim], or bad percentiles.
PcaRgbBasis fitPcaRgbBasis(const std::vector<const PatchFeatures*>& images, const PcaRgbOptions& options = {});

/// The foreground trick of the DINOv2 paper: a patch is background when its projection on
/// `component` (0-based, 0 = the first principal component), normalised to [0, 1] by that
/// component's robust range exactly as a colour channel is, is below `threshold`.
/// NOTE: the sign of a component is fixed by its largest entry, not by what is foreground, so
/// which side of the threshold is the object depends on the model; the rule is not inverted here.
struct PcaBackground {
  float threshold = 0.5f;
  int component = 0;
};

/// A gridW x gridH picture: rgb is row-major, 3 bytes per patch; background (one byte per patch)
/// is 1 where the background rule cut the patch (its rgb is black), else 0.
struct PatchRgbMap {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;
  std::vector<std::uint8_t> background;
};

/// Projects `features` onto `basis` and maps components[0..2] (0-based) to R, G, B:
/// channel = round(clamp((projection - low) / (high - low), 0, 1) * 255) (a component with
/// high <= low gives 0). With `background`, patches below its threshold are drawn black.
/// Throws InvalidArgumentError for empty features or basis, a token dimension different from the
/// basis's, or a component (or the background's) outside [0, basis.count()).
PatchRgbMap projectPcaRgb(const PatchFeatures& features, const PcaRgbBasis& basis, std::array<int, 3> components,
                          std::optional<PcaBackground> background = std::nullopt);

/// Cosine k-means of the patch tokens (rows are L2-normalised first, so it is Euclidean k-means on
/// the unit sphere, k-means++ seeded, best of a few restarts), deterministic for a seed. Labels are
/// 0..k-1, renumbered by first appearance in raster order so colours do not jump between runs.
/// Throws InvalidArgumentError for empty features or k outside [1, patch count].
std::vector<int> kmeansPatchLabels(const PatchFeatures& features, int k, std::uint64_t seed = 0);

}  // namespace neco

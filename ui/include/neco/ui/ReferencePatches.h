#pragma once
// The NeCo row the studio sorts for one source patch. Training compares a source patch with 7x7 = 49
// reference patches drawn from a queue of teacher features; on a single image the studio uses an
// evenly spaced 7x7 sub-grid of the image's own patch grid instead, so the row is reproducible and
// the references can be drawn on the image.

#include "neco/core/FeatureExtractor.h"

#include <QPoint>

#include <vector>

namespace neco::ui {

/// NeCo's reference grid side (K = 7, n = 49).
inline constexpr int kReferenceGridSide = 7;

/// Patches (column, row) of an evenly spaced side x side sub-grid of a columns x rows patch grid, row-major:
/// index i of an axis of size s takes the centre of bin i, floor((i + 0.5) * s / side). An axis smaller
/// than `side` contributes all of its patches, so a 4 x 4 grid gives 16 references. Empty for an
/// empty grid or side < 1.
std::vector<QPoint> referencePatchGrid(int columns, int rows, int side = kReferenceGridSide);

/// Cosine similarity of the source patch's feature to each reference patch's feature (rows are
/// normalised here, so raw tokens work too; a zero row gives 0). Throws InvalidArgumentError for a patch
/// outside the grid.
std::vector<float> referenceSimilarities(const PatchFeatures& features, QPoint source,
                                         const std::vector<QPoint>& references);

}  // namespace neco::ui

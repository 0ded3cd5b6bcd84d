#pragma once
// Conversions between core's plain image structs and Qt images (deep copies; no shared buffers).

#include "neco/core/Colormap.h"
#include "neco/core/Image.h"

#include <QImage>

#include <vector>

namespace neco::ui {

/// RGB888 QImage of `image` (null QImage for an empty one).
QImage toQImage(const RgbImage& image);

/// RgbImage of any QImage (converted to RGB888 first; alpha is dropped).
RgbImage fromQImage(const QImage& image);

/// A similarity map (row-major, gridW × gridH cosine values) as one RGB888 pixel per patch, coloured
/// on the fixed scale [-1, 1]; a null image when `values` does not hold gridW × gridH values.
QImage similarityOverlay(const std::vector<float>& values, int gridW, int gridH, const Colormap& colormap);

}  // namespace neco::ui

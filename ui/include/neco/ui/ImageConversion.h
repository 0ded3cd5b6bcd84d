#pragma once
// Conversions between core's plain image structs and Qt images (deep copies; no shared buffers).

#include "neco/core/Image.h"

#include <QImage>

namespace neco::ui {

/// RGB888 QImage of `image` (null QImage for an empty one).
QImage toQImage(const RgbImage& image);

/// RgbImage of any QImage (converted to RGB888 first; alpha is dropped).
RgbImage fromQImage(const QImage& image);

}  // namespace neco::ui

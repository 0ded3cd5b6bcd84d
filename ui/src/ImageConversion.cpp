#include "neco/ui/ImageConversion.h"

#include <cstring>

namespace neco::ui {

QImage toQImage(const RgbImage& image) {
  if (image.empty()) return {};
  QImage out(image.width, image.height, QImage::Format_RGB888);
  const std::size_t rowBytes = static_cast<std::size_t>(image.width) * 3;
  for (int y = 0; y < image.height; ++y) {
    std::memcpy(out.scanLine(y), image.pixels.data() + y * rowBytes, rowBytes);  // scanlines are 4-byte padded
  }
  return out;
}

RgbImage fromQImage(const QImage& image) {
  RgbImage out;
  if (image.isNull()) return out;
  const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
  out.width = rgb.width();
  out.height = rgb.height();
  const std::size_t rowBytes = static_cast<std::size_t>(out.width) * 3;
  out.pixels.resize(rowBytes * out.height);
  for (int y = 0; y < out.height; ++y) std::memcpy(out.pixels.data() + y * rowBytes, rgb.constScanLine(y), rowBytes);
  return out;
}

QImage similarityOverlay(const std::vector<float>& values, int gridW, int gridH, const Colormap& colormap) {
  if (gridW <= 0 || gridH <= 0 || values.size() != static_cast<std::size_t>(gridW) * gridH) return {};
  QImage overlay(gridW, gridH, QImage::Format_RGB888);
  const float* v = values.data();
  for (int y = 0; y < gridH; ++y) {
    uchar* line = overlay.scanLine(y);
    for (int x = 0; x < gridW; ++x, ++v) {
      const PaletteColor c = colormap.map(*v, -1.f, 1.f);
      line[3 * x] = c.r;
      line[3 * x + 1] = c.g;
      line[3 * x + 2] = c.b;
    }
  }
  return overlay;
}

}  // namespace neco::ui

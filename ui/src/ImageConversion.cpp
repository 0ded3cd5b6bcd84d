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

}  // namespace neco::ui

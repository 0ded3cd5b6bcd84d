#pragma once
// Plain, dependency-free image containers shared by core, the CLI and the studio.

#include <cstdint>
#include <vector>

namespace neco {

/// 8-bit RGB, interleaved, row-major, no padding: pixels.size() == width * height * 3.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;

  bool empty() const noexcept { return width <= 0 || height <= 0; }
  std::uint8_t* at(int x, int y) noexcept { return pixels.data() + (static_cast<std::size_t>(y) * width + x) * 3; }
  const std::uint8_t* at(int x, int y) const noexcept {
    return pixels.data() + (static_cast<std::size_t>(y) * width + x) * 3;
  }
};

/// 8-bit class-index map, row-major: labels.size() == width * height. 255 means "ignore".
struct LabelImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> labels;

  static constexpr std::uint8_t kIgnore = 255;

  bool empty() const noexcept { return width <= 0 || height <= 0; }
  std::uint8_t& at(int x, int y) noexcept { return labels[static_cast<std::size_t>(y) * width + x]; }
  std::uint8_t at(int x, int y) const noexcept { return labels[static_cast<std::size_t>(y) * width + x]; }
};

/// One palette entry of an indexed PNG.
struct PaletteColor {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const PaletteColor& o) const noexcept { return r == o.r && g == o.g && b == o.b; }
};

}  // namespace neco

#include "neco/core/Colormap.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <cmath>

namespace neco {
namespace {

struct Stop {
  float r, g, b;  // 0..255
};

// matplotlib's viridis / inferno at t = 0, 1/8, ..., 1.
constexpr Stop kViridis[9] = {{68, 1, 84},    {72, 40, 120},   {62, 74, 137},  {49, 104, 142}, {38, 130, 142},
                              {31, 158, 137}, {53, 183, 121},  {109, 205, 89}, {253, 231, 37}};
constexpr Stop kInferno[9] = {{0, 0, 4},     {31, 12, 72},   {85, 15, 109},  {136, 34, 106}, {186, 54, 85},
                              {227, 89, 51}, {249, 140, 10}, {249, 201, 50}, {252, 255, 164}};

std::uint8_t toByte(double v) { return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0))); }

PaletteColor fromStops(const Stop (&stops)[9], double t) {
  const double x = t * 8.0;
  const int i = std::min(7, static_cast<int>(x));
  const double f = x - i;
  const Stop& a = stops[i];
  const Stop& b = stops[i + 1];
  return {toByte(a.r + f * (b.r - a.r)), toByte(a.g + f * (b.g - a.g)), toByte(a.b + f * (b.b - a.b))};
}

// Google's polynomial approximation of Turbo (Mikhailov, 2019).
PaletteColor turbo(double x) {
  const double r = 0.13572138 + x * (4.61539260 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const double g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const double b = 0.10667330 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  return {toByte(255.0 * r), toByte(255.0 * g), toByte(255.0 * b)};
}

PaletteColor jet(double t) {
  auto channel = [t](double centre) { return toByte(255.0 * std::clamp(1.5 - std::fabs(4.0 * t - centre), 0.0, 1.0)); };
  return {channel(3.0), channel(2.0), channel(1.0)};
}

}  // namespace

const std::vector<std::string>& colormapNames() {
  static const std::vector<std::string> names{"viridis", "turbo", "inferno", "jet"};
  return names;
}

ColormapKind parseColormap(std::string_view name) {
  const auto& names = colormapNames();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<ColormapKind>(i);
  }
  throw InvalidArgumentError("unknown colormap '" + std::string(name) + "' (valid: viridis, turbo, inferno, jet)");
}

std::string colormapName(ColormapKind kind) { return colormapNames().at(static_cast<std::size_t>(kind)); }

Colormap::Colormap(ColormapKind kind) : kind_(kind) {
  for (int i = 0; i < 256; ++i) {
    const double t = i / 255.0;
    switch (kind) {
      case ColormapKind::Viridis: lut_[i] = fromStops(kViridis, t); break;
      case ColormapKind::Inferno: lut_[i] = fromStops(kInferno, t); break;
      case ColormapKind::Turbo: lut_[i] = turbo(t); break;
      case ColormapKind::Jet: lut_[i] = jet(t); break;
    }
  }
}

PaletteColor Colormap::at(float t) const noexcept {
  if (!(t == t)) t = 0.f;  // NaN
  const int i = static_cast<int>(std::lround(std::clamp(t, 0.f, 1.f) * 255.f));
  return lut_[static_cast<std::size_t>(i)];
}

PaletteColor Colormap::map(float v, float lo, float hi) const noexcept {
  return at(hi > lo ? (v - lo) / (hi - lo) : 0.f);
}

}  // namespace neco

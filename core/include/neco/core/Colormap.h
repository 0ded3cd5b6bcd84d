#pragma once
// Perceptual colour maps for scalar overlays (similarity heatmaps, matrices). Pure functions, no Qt,
// so the CLI's exports and the studio colour values identically.

#include "neco/core/Image.h"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace neco {

enum class ColormapKind { Viridis, Turbo, Inferno, Jet };

/// The names users type ("viridis", "turbo", "inferno", "jet"), in menu order.
const std::vector<std::string>& colormapNames();

/// Throws InvalidArgumentError naming the valid choices.
ColormapKind parseColormap(std::string_view name);
std::string colormapName(ColormapKind kind);

/// A 256-entry lookup table. Viridis and inferno are piecewise-linear through matplotlib's
/// 9 published stops; turbo uses Google's published polynomial fit; jet is the classic ramp
/// (available, never the default: it is not perceptually uniform).
class Colormap {
 public:
  explicit Colormap(ColormapKind kind);

  ColormapKind kind() const noexcept { return kind_; }
  /// Colour of t in [0, 1] (clamped; NaN maps to 0).
  PaletteColor at(float t) const noexcept;
  /// Colour of v on a fixed scale [lo, hi] (the similarity views use [-1, 1], never per-image min-max).
  PaletteColor map(float v, float lo, float hi) const noexcept;
  const std::array<PaletteColor, 256>& table() const noexcept { return lut_; }

 private:
  ColormapKind kind_;
  std::array<PaletteColor, 256> lut_{};
};

}  // namespace neco

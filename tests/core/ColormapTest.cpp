#include "NecoTest.h"
#include "neco/core/Colormap.h"
#include "neco/core/Error.h"

#include <cmath>

namespace {
double luminance(const neco::PaletteColor& c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }
}  // namespace

NECO_TEST(Colormap, endpointsAreThePublishedColours) {
  const neco::Colormap viridis(neco::ColormapKind::Viridis);
  NECO_CHECK(viridis.at(0.f) == (neco::PaletteColor{68, 1, 84}));
  NECO_CHECK(viridis.at(1.f) == (neco::PaletteColor{253, 231, 37}));
  NECO_CHECK(viridis.at(0.5f) == (neco::PaletteColor{38, 130, 142}));  // a stop sits at 0.5
  const neco::Colormap inferno(neco::ColormapKind::Inferno);
  NECO_CHECK(inferno.at(0.f) == (neco::PaletteColor{0, 0, 4}));
  const neco::Colormap turbo(neco::ColormapKind::Turbo);
  NECO_CHECK(turbo.at(0.f).r < 60 && turbo.at(0.f).b > 20);  // dark blue-violet start
  NECO_CHECK(turbo.at(1.f).r > 100 && turbo.at(1.f).g < 40); // dark red end
}

NECO_TEST(Colormap, perceptualMapsIncreaseInLuminanceAndFixedScaleClamps) {
  for (auto kind : {neco::ColormapKind::Viridis, neco::ColormapKind::Inferno}) {
    const neco::Colormap cmap(kind);
    for (int i = 1; i < 256; ++i) NECO_CHECK(luminance(cmap.table()[i]) + 0.75 >= luminance(cmap.table()[i - 1]));
  }
  const neco::Colormap cmap(neco::ColormapKind::Viridis);
  NECO_CHECK(cmap.map(-1.f, -1.f, 1.f) == cmap.at(0.f));
  NECO_CHECK(cmap.map(5.f, -1.f, 1.f) == cmap.at(1.f));
  NECO_CHECK(cmap.map(0.f, -1.f, 1.f) == cmap.at(0.5f));
  NECO_CHECK(cmap.at(std::nanf("")) == cmap.at(0.f));
}

NECO_TEST(Colormap, namesRoundTripAndUnknownNamesAreRejected) {
  for (const auto& name : neco::colormapNames()) NECO_CHECK_EQ(neco::colormapName(neco::parseColormap(name)), name);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::parseColormap("rainbow"));
}

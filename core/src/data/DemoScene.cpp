// Renders one scene of the demo dataset: a textured background with 1-4 textured shapes.
//
// NOTE: every pixel must be a pure function of (seed, index, side limits). Hence our own PRNG
// (splitmix64) and sine instead of std distributions and libm, whose results differ between standard
// libraries; integer geometry (1/16 px fixed point) so that label maps are exact; and at most one
// random draw per function call's arguments, because GCC and Clang evaluate arguments in different
// orders.

#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace neco {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr long long kSub = 16;       // geometry unit: 1/16 px
constexpr long long kRotOne = 4096;  // fixed-point 1.0 of the rotation matrix

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::uint64_t hash3(long long a, long long b, std::uint64_t salt) {
  return splitmix(splitmix(salt ^ static_cast<std::uint64_t>(a)) ^
                  (static_cast<std::uint64_t>(b) * 0xD6E8FEB86659FD93ull));
}

double unitFromBits(std::uint64_t bits) {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return splitmix(state_++ * 0x9E3779B97F4A7C15ull); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * unitFromBits(next()); }
  int range(int lo, int hi) {  // inclusive; multiply-shift avoids modulo bias without rejection loops
    return lo + static_cast<int>(((next() >> 32) * static_cast<std::uint64_t>(hi - lo + 1)) >> 32);
  }

 private:
  std::uint64_t state_;
};

double sine(double x) {
  x -= 2 * kPi * std::floor(x / (2 * kPi) + 0.5);  // [-pi, pi]
  if (x > kPi / 2) x = kPi - x;
  if (x < -kPi / 2) x = -kPi - x;
  const double x2 = x * x;  // Taylor series to x^13: error < 1e-9 on [-pi/2, pi/2]
  return x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72 * (1 - x2 / 110 * (1 - x2 / 156))))));
}
double cosine(double x) {
  return sine(x + kPi / 2);
}
double frac(double x) {
  return x - std::floor(x);
}
long long roundToLong(double x) {
  return static_cast<long long>(std::floor(x + 0.5));
}

struct Colour {
  double r = 0, g = 0, b = 0;  // 0..255
};
Colour mix(const Colour& a, const Colour& b, double t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}
Colour hsv(double hueDeg, double s, double v) {
  const double h = frac(hueDeg / 360) * 6, c = v * s, x = c * (1 - std::fabs(h - 2 * std::floor(h / 2) - 1)), m = v - c;
  const int sector = static_cast<int>(h);
  const double rgb[6][3] = {{c, x, 0}, {x, c, 0}, {0, c, x}, {0, x, c}, {x, 0, c}, {c, 0, x}};
  const double* p = rgb[std::min(sector, 5)];
  return {(p[0] + m) * 255, (p[1] + m) * 255, (p[2] + m) * 255};
}
void store(std::uint8_t* px, const Colour& c) {
  const auto q = [](double v) { return static_cast<std::uint8_t>(std::floor(std::clamp(v, 0.0, 255.0) + 0.5)); };
  px[0] = q(c.r), px[1] = q(c.g), px[2] = q(c.b);
}

enum class Outline { Disc, Square, Triangle, Star, Ellipse, Hexagon };
enum class Texture { Stripes, Checks, Dots, Waves, Gradient, Blocks };

struct ClassSpec {
  const char* name;
  Outline outline;
  Texture texture;
  double hue;  // centre of the instance hues; the jitter below makes neighbours overlap on purpose
};
constexpr ClassSpec kClasses[] = {
    {"striped-disc", Outline::Disc, Texture::Stripes, 0},
    {"checkered-square", Outline::Square, Texture::Checks, 60},
    {"dotted-triangle", Outline::Triangle, Texture::Dots, 120},
    {"wavy-star", Outline::Star, Texture::Waves, 180},
    {"gradient-ellipse", Outline::Ellipse, Texture::Gradient, 240},
    {"noisy-hexagon", Outline::Hexagon, Texture::Blocks, 300},
};
constexpr double kHueJitter = 75;

struct Shape {
  std::uint8_t label = 0;
  const ClassSpec* spec = nullptr;
  long long cx = 0, cy = 0;                // centre
  long long a = 0, b = 0;                  // disc radius / ellipse semi-axes (disc: a == b)
  long long rotCos = kRotOne, rotSin = 0;  // rotation, fixed point
  std::vector<std::array<long long, 2>> polygon;
  long long minX = 0, maxX = 0, minY = 0, maxY = 0;  // bounding box
  double hue = 0, saturation = 0, value = 0;         // the mid tone; a gradient sweeps 150 degrees of hue from it
  Colour primary;                                    // the mid tone in RGB; patterns add -/+ contrast grey to it
  double contrast = 50;
  double period = 10, phase = 0, amplitude = 3, wavelength = 20, extent = 1;  // texture, in px
  std::uint64_t salt = 0;
};

bool polygonContains(const std::vector<std::array<long long, 2>>& poly, long long px, long long py) {
  bool inside = false;  // even-odd crossing test, exact in integers
  for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const long long xi = poly[i][0], yi = poly[i][1], xj = poly[j][0], yj = poly[j][1];
    if ((yi > py) == (yj > py)) continue;
    const long long lhs = (px - xi) * (yj - yi), rhs = (xj - xi) * (py - yi);
    if (yj > yi ? lhs < rhs : lhs > rhs) inside = !inside;
  }
  return inside;
}

bool contains(const Shape& s, long long px, long long py) {
  if (px < s.minX || px > s.maxX || py < s.minY || py > s.maxY) return false;
  const long long dx = px - s.cx, dy = py - s.cy;
  switch (s.spec->outline) {
    case Outline::Disc:
      return dx * dx + dy * dy <= s.a * s.a;
    case Outline::Ellipse: {
      const long long u = (dx * s.rotCos + dy * s.rotSin) / kRotOne, v = (dy * s.rotCos - dx * s.rotSin) / kRotOne;
      return u * u * s.b * s.b + v * v * s.a * s.a <= s.a * s.a * s.b * s.b;
    }
    default:
      return polygonContains(s.polygon, px, py);
  }
}

// A regular polygon, or a star when innerScale > 0, with its outer corners cut `cutPx` px back along
// both edges: a sharp tip would be thinner than the void band and vanish in it.
void makePolygon(Shape& s, double r, double angle, int corners, double innerScale, double cutPx) {
  const int n = innerScale > 0 ? corners * 2 : corners;
  std::vector<std::array<double, 2>> v;
  for (int k = 0; k < n; ++k) {
    const double rk = (innerScale > 0 && k % 2 == 1) ? r * innerScale : r;
    const double ak = angle + 2 * kPi * k / n;
    v.push_back({rk * cosine(ak), rk * sine(ak)});
  }
  const auto emit = [&s](double x, double y) { s.polygon.push_back({s.cx + roundToLong(x), s.cy + roundToLong(y)}); };
  for (int k = 0; k < n; ++k) {
    const auto &p = v[k], &prev = v[(k + n - 1) % n], &next = v[(k + 1) % n];
    if (cutPx <= 0 || (innerScale > 0 && k % 2 == 1)) {
      emit(p[0], p[1]);
      continue;
    }
    for (const auto* q : {&prev, &next}) {
      const double dx = (*q)[0] - p[0], dy = (*q)[1] - p[1], t = cutPx * kSub / std::sqrt(dx * dx + dy * dy);
      emit(p[0] + dx * t, p[1] + dy * t);
    }
  }
}

void makeOutline(Shape& s, double radiusPx, double angle) {
  const double r = radiusPx * kSub;
  switch (s.spec->outline) {
    // Sizes chosen so that every outline covers about 2.8 r^2: no class dominates the pixel counts.
    case Outline::Disc:
      s.a = s.b = roundToLong(r * 0.95);
      break;
    case Outline::Ellipse:
      s.a = roundToLong(r * 1.25), s.b = roundToLong(r * 0.7);
      break;
    case Outline::Square:
      makePolygon(s, r * 1.18, angle + kPi / 4, 4, 0, 0);
      break;
    case Outline::Triangle:
      makePolygon(s, r * 1.4, angle, 3, 0, 3);
      break;
    case Outline::Hexagon:
      makePolygon(s, r * 1.05, angle, 6, 0, 0);
      break;
    case Outline::Star:
      makePolygon(s, r * 1.25, angle, 5, 0.6, 3);
      break;
  }
  long long reach = std::max(s.a, s.b);
  for (const auto& p : s.polygon) reach = std::max({reach, std::abs(p[0] - s.cx), std::abs(p[1] - s.cy)});
  s.minX = s.cx - reach, s.maxX = s.cx + reach, s.minY = s.cy - reach, s.maxY = s.cy + reach;
  s.extent = static_cast<double>(reach) / kSub;
}

// Draws the same number of values for every class, so one class never shifts another's stream.
// A fallback shape (fallbackLabel > 0) has that class and sits in the middle of the image.
Shape makeShape(Rng& rng, int width, int height, int fallbackLabel = 0) {
  Shape s;
  s.label = static_cast<std::uint8_t>(fallbackLabel > 0 ? fallbackLabel : rng.range(1, 6));
  s.spec = &kClasses[s.label - 1];
  const double radius = rng.uniform(0.16, 0.30) * std::min(width, height);
  s.cx = roundToLong((fallbackLabel > 0 ? 0.5 : rng.uniform(0.12, 0.88)) * width * kSub);
  s.cy = roundToLong((fallbackLabel > 0 ? 0.5 : rng.uniform(0.12, 0.88)) * height * kSub);
  const double angle = rng.uniform(0, 2 * kPi);
  s.rotCos = roundToLong(cosine(angle) * kRotOne), s.rotSin = roundToLong(sine(angle) * kRotOne);
  s.hue = s.spec->hue + rng.uniform(-kHueJitter, kHueJitter);
  s.saturation = rng.uniform(0.55, 0.85);
  s.value = rng.uniform(0.55, 0.75);
  s.primary = hsv(s.hue, s.saturation, s.value);
  s.contrast = rng.uniform(45, 65);
  s.period = rng.uniform(8, 12);
  s.phase = rng.uniform(0, 1);
  s.amplitude = rng.uniform(2.5, 4);
  s.wavelength = rng.uniform(18, 26);
  s.salt = rng.next();
  makeOutline(s, radius, angle);
  return s;
}

// Signed distance in px to the nearest edge of a stripe pattern, positive inside the light stripes.
double stripeDistance(double w, double period, double phase) {
  const double t = frac(w / period + phase) * period, half = period / 2;
  return t < half ? std::min(t, half - t) : -std::min(t - half, period - t);
}

// Signed distance in px to the nearest edge of the shape's two-tone pattern, positive on the light side.
double patternDistance(const Shape& s, double u, double v) {
  switch (s.spec->texture) {
    case Texture::Stripes:
      return stripeDistance(u, s.period, s.phase);
    case Texture::Waves:
      return stripeDistance(v + s.amplitude * sine(2 * kPi * u / s.wavelength), s.period, s.phase);
    case Texture::Checks: {
      const double cu = u / s.period + s.phase, cv = v / s.period + s.phase;
      const double du = std::min(frac(cu), 1 - frac(cu)), dv = std::min(frac(cv), 1 - frac(cv));
      const bool light = ((static_cast<long long>(std::floor(cu)) + static_cast<long long>(std::floor(cv))) & 1) != 0;
      return (light ? 1 : -1) * std::min(du, dv) * s.period;
    }
    case Texture::Dots: {
      const double fu = frac(u / s.period + s.phase) - 0.5, fv = frac(v / s.period + s.phase) - 0.5;
      return (0.3 - std::sqrt(fu * fu + fv * fv)) * s.period;
    }
    default:
      return 0;
  }
}

// The texture lives in the shape's rotated frame (u, v in px from the centre), so it turns with it.
// Patterns differ from the mid tone by a grey offset only, i.e. in luminance: JPEG keeps chroma at
// half resolution and would smear coloured pattern edges. Their edges get a 1 px ramp (anti-aliasing).
Colour textureAt(const Shape& s, long long px, long long py) {
  const double dx = static_cast<double>(px - s.cx) / kSub, dy = static_cast<double>(py - s.cy) / kSub;
  const double c = static_cast<double>(s.rotCos) / kRotOne, sn = static_cast<double>(s.rotSin) / kRotOne;
  const double u = dx * c + dy * sn, v = dy * c - dx * sn;
  double offset = 0;  // -1 dark .. +1 light
  if (s.spec->texture == Texture::Gradient) {
    return hsv(s.hue + 150 * std::clamp((u / s.extent + 1) / 2, 0.0, 1.0), s.saturation, s.value);
  } else if (s.spec->texture == Texture::Blocks) {
    const double cellU = std::floor(u / 4), cellV = std::floor(v / 4);
    offset = 2 * unitFromBits(hash3(static_cast<long long>(cellU), static_cast<long long>(cellV), s.salt)) - 1;
  } else {
    offset = 2 * std::clamp(0.5 + patternDistance(s, u, v), 0.0, 1.0) - 1;
  }
  const double grey = offset * s.contrast;
  return {s.primary.r + grey, s.primary.g + grey, s.primary.b + grey};
}

// Class 0 comes in three looks (fine noise, soft gradient, grass-like strokes), always desaturated.
RgbImage renderBackground(Rng& rng, int width, int height) {
  const int kind = rng.range(0, 2);
  const double hue = rng.uniform(0, 360), angle = rng.uniform(0, 2 * kPi);
  const double baseSaturation = rng.uniform(0.08, 0.3);
  const Colour base = hsv(hue, baseSaturation, rng.uniform(0.45, 0.8));
  const double otherHue = hue + rng.uniform(-40, 40), otherSaturation = rng.uniform(0.08, 0.3);
  const Colour other = hsv(otherHue, otherSaturation, rng.uniform(0.35, 0.85));
  const std::uint64_t salt = rng.next();
  const double noise = kind == 0 ? 28 : kind == 1 ? 6 : 12;
  const double halfDiagonal = std::sqrt(double(width) * width + double(height) * height) / 2;
  RgbImage img{width, height, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3)};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      Colour c = base;
      if (kind == 1) {
        const double t = ((x - width / 2.0) * cosine(angle) + (y - height / 2.0) * sine(angle)) / halfDiagonal;
        c = mix(base, other, (t + 1) / 2);
      }
      const double n = (unitFromBits(hash3(x, y, salt)) - 0.5) * noise;
      store(img.at(x, y), {c.r + n, c.g + n, c.b + n});
    }
  }
  if (kind == 2) {
    const long long strokes = static_cast<long long>(width) * height / 12;
    for (long long i = 0; i < strokes; ++i) {
      const double x0 = rng.uniform(0, width), y0 = rng.uniform(0, height), a = kPi / 2 + rng.uniform(-0.45, 0.45);
      const double length = rng.uniform(5, 12), delta = rng.uniform(-45, 45);
      const Colour stroke{base.r + delta, base.g + delta, base.b + delta};
      for (int step = 0; step <= static_cast<int>(length * 2); ++step) {  // half-pixel steps
        const int x = static_cast<int>(std::floor(x0 + step * 0.5 * cosine(a))),
                  y = static_cast<int>(std::floor(y0 + step * 0.5 * sine(a)));
        if (x >= 0 && x < width && y >= 0 && y < height) store(img.at(x, y), stroke);
      }
    }
  }
  return img;
}

int topmost(const std::vector<Shape>& shapes, long long px, long long py) {
  for (int i = static_cast<int>(shapes.size()) - 1; i >= 0; --i) {
    if (contains(shapes[i], px, py)) return i;
  }
  return -1;
}

// VOC-style void band: every pixel with a differently labelled 8-neighbour becomes 255, which gives
// a band 2 px wide across straight edges and up to 3 px across diagonal ones.
LabelImage withVoidBand(const LabelImage& raw) {
  LabelImage out = raw;
  for (int y = 0; y < raw.height; ++y) {
    for (int x = 0; x < raw.width; ++x) {
      for (int dy = -1; dy <= 1 && out.at(x, y) != LabelImage::kIgnore; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= raw.width || ny >= raw.height || raw.at(nx, ny) == raw.at(x, y)) continue;
          out.at(x, y) = LabelImage::kIgnore;
          break;
        }
      }
    }
  }
  return out;
}

struct Layout {
  std::vector<Shape> shapes;        // later shapes occlude earlier ones
  std::vector<std::uint8_t> owner;  // per pixel: 0 background, k + 1 when shapes[k] is on top
  LabelImage labels;                // with the void band
};

// The pixel centre alone decides the owner and label (exact, never anti-aliased).
void rasterize(Layout& layout, int width, int height) {
  const std::size_t n = static_cast<std::size_t>(width) * height;
  layout.owner.assign(n, 0);
  LabelImage raw{width, height, std::vector<std::uint8_t>(n, 0)};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int top = topmost(layout.shapes, x * kSub + kSub / 2, y * kSub + kSub / 2);
      if (top < 0) continue;
      layout.owner[static_cast<std::size_t>(y) * width + x] = static_cast<std::uint8_t>(top + 1);
      raw.at(x, y) = layout.shapes[top].label;
    }
  }
  layout.labels = withVoidBand(raw);
}

// True when every void pixel has two different visible labels within 3 px: the band marks boundaries
// only, and no region (a sharp tip, a sliver between two shapes or along the border) vanished in it.
bool bandOnlyAlongBoundaries(const LabelImage& l) {
  constexpr int r = 3;
  for (int y = 0; y < l.height; ++y) {
    for (int x = 0; x < l.width; ++x) {
      if (l.at(x, y) != LabelImage::kIgnore) continue;
      int first = -1;
      bool found = false;
      for (int yy = std::max(0, y - r); yy <= std::min(l.height - 1, y + r) && !found; ++yy) {
        for (int xx = std::max(0, x - r); xx <= std::min(l.width - 1, x + r) && !found; ++xx) {
          const int v = l.at(xx, yy);
          if (v == LabelImage::kIgnore) continue;
          if (first < 0) first = v;
          found = v != first;
        }
      }
      if (!found) return false;
    }
  }
  return true;
}

// NOTE: a shape whose band would swallow a region is redrawn from the same stream (so the result stays
// deterministic); one that fails kMaxShapeAttempts times is left out, and a scene left without any
// shape gets a centred disc, which always passes. Checking shape by shape keeps crowded scenes common.
constexpr int kMaxShapeAttempts = 16;
Layout drawLayout(Rng& rng, int width, int height) {
  const int wanted = rng.range(1, 4);
  Layout layout;
  for (int i = 0; i < wanted; ++i) {
    for (int attempt = 0; attempt < kMaxShapeAttempts; ++attempt) {
      Layout candidate{layout.shapes, {}, {}};
      candidate.shapes.push_back(makeShape(rng, width, height));
      rasterize(candidate, width, height);
      if (!bandOnlyAlongBoundaries(candidate.labels)) continue;
      layout = std::move(candidate);
      break;
    }
  }
  if (layout.shapes.empty()) {
    layout.shapes.push_back(makeShape(rng, width, height, 1));
    rasterize(layout, width, height);
  }
  return layout;
}

void paintShapes(const Layout& layout, RgbImage& image) {
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const int owner = layout.owner[static_cast<std::size_t>(y) * image.width + x];
      if (owner > 0) {
        store(image.at(x, y), textureAt(layout.shapes[owner - 1], x * kSub + kSub / 2, y * kSub + kSub / 2));
      }
    }
  }
}

// Smooths the image (never the labels) along edges: void pixels average four sub-pixel samples.
void smoothEdges(const Layout& layout, const RgbImage& background, RgbImage& image) {
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      if (layout.labels.at(x, y) != LabelImage::kIgnore) continue;
      const std::uint8_t* bg = background.at(x, y);
      Colour sum;
      for (const long long oy : {kSub / 4, 3 * kSub / 4}) {
        for (const long long ox : {kSub / 4, 3 * kSub / 4}) {
          const long long px = x * kSub + ox, py = y * kSub + oy;
          const int top = topmost(layout.shapes, px, py);
          const Colour c =
              top < 0 ? Colour{double(bg[0]), double(bg[1]), double(bg[2])} : textureAt(layout.shapes[top], px, py);
          sum = {sum.r + c.r / 4, sum.g + c.g / 4, sum.b + c.b / 4};
        }
      }
      store(image.at(x, y), sum);
    }
  }
}

void validateSides(const DemoDatasetOptions& o) {
  if (o.minSide < kDemoMinSide || o.maxSide < o.minSide || o.maxSide > kDemoMaxSide) {
    throw InvalidArgumentError("demo scene sides must satisfy " + std::to_string(kDemoMinSide) +
                               " <= minSide <= maxSide <= " + std::to_string(kDemoMaxSide) + ", got minSide " +
                               std::to_string(o.minSide) + ", maxSide " + std::to_string(o.maxSide));
  }
}

}  // namespace

std::vector<std::string> demoClassNames() {
  std::vector<std::string> names{"background"};
  for (const ClassSpec& spec : kClasses) names.emplace_back(spec.name);
  return names;
}

DemoScene renderDemoScene(std::uint64_t seed, int index, const DemoDatasetOptions& options) {
  validateSides(options);
  if (index < 0) throw InvalidArgumentError("demo scene index must be >= 0, got " + std::to_string(index));
  // Layout and background draw from separate streams, so the stroke count cannot move the shapes.
  const std::uint64_t sceneSeed = splitmix(seed ^ splitmix(static_cast<std::uint64_t>(index)));
  Rng layoutRng(splitmix(sceneSeed ^ 1)), backgroundRng(splitmix(sceneSeed ^ 2));
  const int width = layoutRng.range(options.minSide, options.maxSide);
  const int height = layoutRng.range(options.minSide, options.maxSide);
  Layout layout = drawLayout(layoutRng, width, height);
  const RgbImage background = renderBackground(backgroundRng, width, height);
  DemoScene scene{background, layout.labels};
  paintShapes(layout, scene.image);
  smoothEdges(layout, background, scene.image);
  return scene;
}

}  // namespace neco

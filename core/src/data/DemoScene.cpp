// Renders one scene of the demo dataset: a textured background with 1-4 textured shapes.
//
// NOTE: every pixel must be a pure function of (seed, index, side limits). Hence our own PRNG
// (splitmix64) and sine instead of std distributions and libm, whose results differ between standard
// libraries, and integer geometry (1/16 px fixed point) so that label maps are exact.

#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace neco {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr long long kSub = 16;      // geometry unit: 1/16 px
constexpr long long kRotOne = 4096;  // fixed-point 1.0 of the rotation matrix

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::uint64_t hash3(long long a, long long b, std::uint64_t salt) {
  return splitmix(splitmix(salt ^ static_cast<std::uint64_t>(a)) ^ (static_cast<std::uint64_t>(b) * 0xD6E8FEB86659FD93ull));
}

double unitFromBits(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

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
double cosine(double x) { return sine(x + kPi / 2); }
double frac(double x) { return x - std::floor(x); }
long long roundToLong(double x) { return static_cast<long long>(std::floor(x + 0.5)); }

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
  Colour primary, secondary;
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
    case Outline::Disc: return dx * dx + dy * dy <= s.a * s.a;
    case Outline::Ellipse: {
      const long long u = (dx * s.rotCos + dy * s.rotSin) / kRotOne, v = (dy * s.rotCos - dx * s.rotSin) / kRotOne;
      return u * u * s.b * s.b + v * v * s.a * s.a <= s.a * s.a * s.b * s.b;
    }
    default: return polygonContains(s.polygon, px, py);
  }
}

void makeOutline(Shape& s, double radiusPx, double angle) {
  const double r = radiusPx * kSub;
  const auto regular = [&](int corners, double scale, double innerScale) {
    const int n = innerScale > 0 ? corners * 2 : corners;
    for (int k = 0; k < n; ++k) {
      const double rk = (innerScale > 0 && k % 2 == 1) ? r * innerScale : r * scale;
      const double ak = angle + 2 * kPi * k / n;
      s.polygon.push_back({s.cx + roundToLong(rk * cosine(ak)), s.cy + roundToLong(rk * sine(ak))});
    }
  };
  switch (s.spec->outline) {
    case Outline::Disc: s.a = s.b = roundToLong(r); break;
    case Outline::Ellipse: s.a = roundToLong(r * 1.25), s.b = roundToLong(r * 0.7); break;
    case Outline::Square: regular(4, 1.1, 0); break;
    case Outline::Triangle: regular(3, 1.25, 0); break;
    case Outline::Hexagon: regular(6, 1.05, 0); break;
    case Outline::Star: regular(5, 1.3, 0.6); break;  // blunt points: no sliver is swallowed by the void band
  }
  long long reach = std::max(s.a, s.b);
  for (const auto& p : s.polygon) reach = std::max({reach, std::abs(p[0] - s.cx), std::abs(p[1] - s.cy)});
  s.minX = s.cx - reach, s.maxX = s.cx + reach, s.minY = s.cy - reach, s.maxY = s.cy + reach;
  s.extent = static_cast<double>(reach) / kSub;
}

// Draws the same number of values for every class, so one class never shifts another's stream.
Shape makeShape(Rng& rng, int width, int height) {
  Shape s;
  s.label = static_cast<std::uint8_t>(rng.range(1, 6));
  s.spec = &kClasses[s.label - 1];
  const double radius = rng.uniform(0.16, 0.30) * std::min(width, height);
  s.cx = roundToLong(rng.uniform(0.12, 0.88) * width * kSub);
  s.cy = roundToLong(rng.uniform(0.12, 0.88) * height * kSub);
  const double angle = rng.uniform(0, 2 * kPi);
  s.rotCos = roundToLong(cosine(angle) * kRotOne), s.rotSin = roundToLong(sine(angle) * kRotOne);
  const double hue = s.spec->hue + rng.uniform(-kHueJitter, kHueJitter);
  s.primary = hsv(hue, rng.uniform(0.6, 0.95), rng.uniform(0.7, 0.95));
  s.period = rng.uniform(8, 12), s.phase = rng.uniform(0, 1), s.amplitude = rng.uniform(2.5, 4);
  s.wavelength = rng.uniform(18, 26), s.salt = rng.next();
  const Colour white{255, 255, 255}, black{0, 0, 0};
  switch (s.spec->texture) {
    case Texture::Stripes: s.secondary = mix(s.primary, black, 0.7); break;
    case Texture::Checks: s.secondary = mix(s.primary, white, 0.8); break;
    case Texture::Dots: s.secondary = mix(s.primary, white, 0.85); break;
    case Texture::Waves: s.secondary = mix(s.primary, white, 0.65); break;
    case Texture::Gradient: s.secondary = hsv(hue + 150, 0.8, 0.75); break;
    case Texture::Blocks: s.secondary = mix(s.primary, black, 0.85); break;
  }
  makeOutline(s, radius, angle);
  return s;
}

// The texture lives in the shape's rotated frame (u, v in px from the centre), so it turns with it.
Colour textureAt(const Shape& s, long long px, long long py) {
  const double dx = static_cast<double>(px - s.cx) / kSub, dy = static_cast<double>(py - s.cy) / kSub;
  const double c = static_cast<double>(s.rotCos) / kRotOne, sn = static_cast<double>(s.rotSin) / kRotOne;
  const double u = dx * c + dy * sn, v = dy * c - dx * sn;
  switch (s.spec->texture) {
    case Texture::Stripes: return frac(u / s.period + s.phase) < 0.5 ? s.primary : s.secondary;
    case Texture::Checks: {
      const long long i = static_cast<long long>(std::floor(u / s.period)), j = static_cast<long long>(std::floor(v / s.period));
      return ((i + j) & 1) ? s.primary : s.secondary;
    }
    case Texture::Dots: {
      const double fu = frac(u / s.period + s.phase) - 0.5, fv = frac(v / s.period + s.phase) - 0.5;
      return fu * fu + fv * fv < 0.09 ? s.secondary : s.primary;
    }
    case Texture::Waves:
      return frac((v + s.amplitude * sine(2 * kPi * u / s.wavelength)) / s.period + s.phase) < 0.5 ? s.primary : s.secondary;
    case Texture::Gradient: return mix(s.primary, s.secondary, std::clamp((u / s.extent + 1) / 2, 0.0, 1.0));
    case Texture::Blocks: {
      const std::uint64_t key = hash3(static_cast<long long>(std::floor(u / 4)), static_cast<long long>(std::floor(v / 4)), s.salt);
      return mix(s.secondary, s.primary, unitFromBits(key));
    }
  }
  return s.primary;
}

// Class 0 comes in three looks (fine noise, soft gradient, grass-like strokes), always desaturated.
RgbImage renderBackground(Rng& rng, int width, int height) {
  const int kind = rng.range(0, 2);
  const double hue = rng.uniform(0, 360), angle = rng.uniform(0, 2 * kPi);
  const Colour base = hsv(hue, rng.uniform(0.08, 0.3), rng.uniform(0.45, 0.8));
  const Colour other = hsv(hue + rng.uniform(-40, 40), rng.uniform(0.08, 0.3), rng.uniform(0.35, 0.85));
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
      for (double t = 0; t <= length; t += 0.5) {
        const int x = static_cast<int>(std::floor(x0 + t * cosine(a))), y = static_cast<int>(std::floor(y0 + t * sine(a)));
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

// Labels come from the pixel centre alone (exact, never anti-aliased); colours from the same shape.
void paintShapes(const std::vector<Shape>& shapes, DemoScene& scene) {
  for (int y = 0; y < scene.labels.height; ++y) {
    for (int x = 0; x < scene.labels.width; ++x) {
      const long long px = x * kSub + kSub / 2, py = y * kSub + kSub / 2;
      const int top = topmost(shapes, px, py);
      if (top < 0) continue;
      scene.labels.at(x, y) = shapes[top].label;
      store(scene.image.at(x, y), textureAt(shapes[top], px, py));
    }
  }
}

// Smooths the image (never the labels) along edges: void pixels average four sub-pixel samples.
void smoothEdges(const std::vector<Shape>& shapes, const RgbImage& background, DemoScene& scene) {
  for (int y = 0; y < scene.labels.height; ++y) {
    for (int x = 0; x < scene.labels.width; ++x) {
      if (scene.labels.at(x, y) != LabelImage::kIgnore) continue;
      const std::uint8_t* bg = background.at(x, y);
      Colour sum;
      for (const long long oy : {kSub / 4, 3 * kSub / 4}) {
        for (const long long ox : {kSub / 4, 3 * kSub / 4}) {
          const long long px = x * kSub + ox, py = y * kSub + oy;
          const int top = topmost(shapes, px, py);
          const Colour c = top < 0 ? Colour{double(bg[0]), double(bg[1]), double(bg[2])} : textureAt(shapes[top], px, py);
          sum = {sum.r + c.r / 4, sum.g + c.g / 4, sum.b + c.b / 4};
        }
      }
      store(scene.image.at(x, y), sum);
    }
  }
}

void validateSides(const DemoDatasetOptions& o) {
  if (o.minSide < kDemoMinSide || o.maxSide < o.minSide || o.maxSide > kDemoMaxSide) {
    throw InvalidArgumentError("demo scene sides must satisfy " + std::to_string(kDemoMinSide) + " <= minSide <= maxSide <= " +
                               std::to_string(kDemoMaxSide) + ", got minSide " + std::to_string(o.minSide) + ", maxSide " +
                               std::to_string(o.maxSide));
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
  Rng layout(splitmix(sceneSeed ^ 1)), backgroundRng(splitmix(sceneSeed ^ 2));
  const int width = layout.range(options.minSide, options.maxSide);
  const int height = layout.range(options.minSide, options.maxSide);
  std::vector<Shape> shapes(static_cast<std::size_t>(layout.range(1, 4)));
  for (Shape& s : shapes) s = makeShape(layout, width, height);  // later shapes occlude earlier ones

  const RgbImage background = renderBackground(backgroundRng, width, height);
  DemoScene scene{background, LabelImage{width, height, {}}};
  scene.labels.labels.assign(static_cast<std::size_t>(width) * height, 0);
  paintShapes(shapes, scene);
  scene.labels = withVoidBand(scene.labels);
  smoothEdges(shapes, background, scene);
  return scene;
}

}  // namespace neco

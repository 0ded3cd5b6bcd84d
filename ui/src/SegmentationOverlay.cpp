#include "neco/ui/SegmentationOverlay.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace neco::ui {
namespace {

constexpr double kCaptionHeight = 20.0;

// For each output coordinate, the nearest label-map coordinate (pixel centres aligned).
std::vector<int> nearestIndex(int out, int in) {
  std::vector<int> index(static_cast<std::size_t>(out));
  for (int i = 0; i < out; ++i)
    index[static_cast<std::size_t>(i)] = std::min(in - 1, static_cast<int>((static_cast<long long>(i) * in) / out));
  return index;
}

void put(uchar* px, const QColor& c) {
  px[0] = static_cast<uchar>(c.red());
  px[1] = static_cast<uchar>(c.green());
  px[2] = static_cast<uchar>(c.blue());
}

}  // namespace

QColor blendColour(const QColor& under, const QColor& colour, double opacity) {
  const double a = std::clamp(opacity, 0.0, 1.0);
  const auto mix = [a](int u, int c) { return static_cast<int>(std::lround(u * (1.0 - a) + c * a)); };
  return QColor(mix(under.red(), colour.red()), mix(under.green(), colour.green()), mix(under.blue(), colour.blue()));
}

QImage composeOverlay(const OverlayInput& in) {
  QImage out = in.image.convertToFormat(QImage::Format_RGB888);
  const LabelImage* target = in.target;
  const LabelImage* shown = in.mode == OverlayMode::GroundTruth ? target : in.prediction;
  if (out.isNull() || !shown || shown->empty() || !in.colours || in.colours->size() < 256) return out;
  if (in.mode == OverlayMode::Errors && (!target || target->width != shown->width || target->height != shown->height))
    return out;
  const std::vector<int> xs = nearestIndex(out.width(), shown->width);
  const std::vector<int> ys = nearestIndex(out.height(), shown->height);
  const auto ignored = [&](int label) { return label == in.ignoreIndex || label == 255 || label >= in.classes; };
  for (int y = 0; y < out.height(); ++y) {
    uchar* line = out.scanLine(y);
    const int my = ys[static_cast<std::size_t>(y)];
    for (int x = 0; x < out.width(); ++x) {
      const int mx = xs[static_cast<std::size_t>(x)];
      uchar* px = line + 3 * x;
      const QColor under(px[0], px[1], px[2]);
      const int label = shown->at(mx, my);
      const int truth = target && target->width == shown->width ? target->at(mx, my) : label;
      // ground truth and errors hatch the ignored pixels; a prediction is drawn wherever it exists
      const bool hatch = in.mode == OverlayMode::Prediction ? label == 255 : ignored(truth);
      if (hatch) {
        if (isIgnoreStripe(x, y)) put(px, blendColour(under, kIgnoreColour, in.opacity));
      } else if (in.mode == OverlayMode::Errors) {
        if (label != truth) put(px, blendColour(under, kErrorColour, in.opacity));
      } else {
        put(px, blendColour(under, (*in.colours)[static_cast<std::size_t>(label)], in.opacity));
      }
    }
  }
  return out;
}

OverlayCanvas::OverlayCanvas(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void OverlayCanvas::setImage(const QImage& image, const QString& caption) {
  image_ = image;
  caption_ = caption;
  update();
}

QRectF OverlayCanvas::imageRect() const {
  if (image_.isNull()) return {};
  const QRectF area(0, kCaptionHeight, width(), std::max(1.0, height() - kCaptionHeight));
  const double scale = std::min(area.width() / image_.width(), area.height() / image_.height());
  const QSizeF size(image_.width() * scale, image_.height() * scale);
  return QRectF(area.center() - QPointF(size.width() / 2, size.height() / 2), size);
}

void OverlayCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  p.setPen(palette().windowText().color());
  p.drawText(QRectF(4, 0, width() - 8, kCaptionHeight), Qt::AlignLeft | Qt::AlignVCenter, caption_);
  if (image_.isNull()) return;
  // smooth only when shrinking; enlarged label maps stay crisp
  const QRectF target = imageRect();
  p.setRenderHint(QPainter::SmoothPixmapTransform, target.width() < image_.width());
  p.drawImage(target, image_);
}

}  // namespace neco::ui

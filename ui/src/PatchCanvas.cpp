#include "neco/ui/PatchCanvas.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace neco::ui {

PatchCanvas::PatchCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(200, 150);
  setAutoFillBackground(false);
  setFocusPolicy(Qt::ClickFocus);
}

void PatchCanvas::setImage(const QImage& image) {
  image_ = image;
  overlay_ = QImage();
  selected_.reset();
  marked_.clear();
  update();
}

void PatchCanvas::setGrid(int columns, int rows) {
  columns_ = std::max(0, columns);
  rows_ = std::max(0, rows);
  if (selected_ && (selected_->x() >= columns_ || selected_->y() >= rows_)) selected_.reset();
  update();
}

void PatchCanvas::setGridVisible(bool visible) {
  gridVisible_ = visible;
  update();
}

void PatchCanvas::setOverlay(const QImage& perPatchColours) {
  overlay_ = perPatchColours;
  update();
}

void PatchCanvas::clearOverlay() {
  overlay_ = QImage();
  update();
}

void PatchCanvas::setOverlayOpacity(double opacity) {
  opacity_ = std::clamp(opacity, 0.0, 1.0);
  update();
}

void PatchCanvas::setSelectedPatch(std::optional<QPoint> patch) {
  selected_ = patch;
  update();
}

void PatchCanvas::setMarkedPatches(const QList<QPoint>& patches) {
  marked_ = patches;
  update();
}

QRectF PatchCanvas::imageRect() const {
  if (image_.isNull()) return {};
  const double scale = std::min(width() / double(image_.width()), height() / double(image_.height()));
  // whole pixels, so the cached scaled image is drawn 1:1 and the overlay and grid share its edges
  const double w = std::max(1.0, std::round(image_.width() * scale)), h = std::max(1.0, std::round(image_.height() * scale));
  return {std::floor((width() - w) / 2.0), std::floor((height() - h) / 2.0), w, h};
}

QRectF PatchCanvas::patchRect(QPoint patch) const {
  const QRectF r = imageRect();
  if (r.isEmpty() || columns_ == 0 || rows_ == 0) return {};
  const double cw = r.width() / columns_, ch = r.height() / rows_;
  return {r.left() + patch.x() * cw, r.top() + patch.y() * ch, cw, ch};
}

std::optional<QPoint> PatchCanvas::patchAt(QPointF position) const {
  const QRectF r = imageRect();
  if (r.isEmpty() || columns_ == 0 || rows_ == 0 || !r.contains(position)) return std::nullopt;
  const int col = std::min(columns_ - 1, static_cast<int>((position.x() - r.left()) / r.width() * columns_));
  const int row = std::min(rows_ - 1, static_cast<int>((position.y() - r.top()) / r.height() * rows_));
  return QPoint(col, row);
}

void PatchCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Dark));
  if (image_.isNull()) {
    painter.setPen(palette().color(QPalette::BrightText));
    painter.drawText(rect(), Qt::AlignCenter, tr("Open an image (Ctrl+O) or drop one here"));
    return;
  }
  const QRectF target = imageRect();
  // The smooth scaling of the image is the costliest part of a paint: done once per image and size.
  const qreal dpr = devicePixelRatioF();
  const QSize device = (target.size() * dpr).toSize();
  if (scaled_.isNull() || scaledKey_ != image_.cacheKey() || scaled_.size() != device || scaled_.devicePixelRatio() != dpr) {
    scaled_ = QPixmap::fromImage(image_.scaled(device, Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
    scaled_.setDevicePixelRatio(dpr);
    scaledKey_ = image_.cacheKey();
  }
  painter.drawPixmap(target, scaled_, QRectF(scaled_.rect()));  // 1:1 unless the pixel ratio is fractional
  if (!overlay_.isNull() && opacity_ > 0.0) {
    // Nearest-neighbour: one flat colour per patch, exactly as the model sees the grid.
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter.setOpacity(opacity_);
    painter.drawImage(target, overlay_);
    painter.setOpacity(1.0);
  }
  if (gridVisible_) drawGrid(painter, target);
  drawMarks(painter);
  drawSelection(painter);
}

void PatchCanvas::drawGrid(QPainter& painter, const QRectF& target) const {
  if (columns_ == 0 || rows_ == 0) return;
  painter.setRenderHint(QPainter::Antialiasing, false);
  painter.setPen(QPen(QColor(255, 255, 255, 70), 1.0));
  for (int c = 1; c < columns_; ++c) {
    const double x = target.left() + target.width() * c / columns_;
    painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()));
  }
  for (int r = 1; r < rows_; ++r) {
    const double y = target.top() + target.height() * r / rows_;
    painter.drawLine(QPointF(target.left(), y), QPointF(target.right(), y));
  }
}

void PatchCanvas::drawSelection(QPainter& painter) const {
  if (!selected_) return;
  const QRectF r = patchRect(*selected_);
  if (r.isEmpty()) return;
  painter.setRenderHint(QPainter::Antialiasing, true);
  painter.setBrush(Qt::NoBrush);
  painter.setPen(QPen(Qt::black, 3.0));
  painter.drawRect(r.adjusted(-1, -1, 1, 1));
  painter.setPen(QPen(Qt::white, 1.5));
  painter.drawRect(r.adjusted(-1, -1, 1, 1));
}

void PatchCanvas::drawMarks(QPainter& painter) const {
  if (marked_.isEmpty()) return;
  painter.setRenderHint(QPainter::Antialiasing, true);
  painter.setPen(QPen(Qt::black, 1.0));
  painter.setBrush(Qt::white);
  for (QPoint patch : marked_) {
    const QRectF r = patchRect(patch);
    if (r.isEmpty()) continue;
    // Inside the top-left quarter, clear of the centre where the patch's heatmap colour is read.
    const double radius = std::clamp(std::min(r.width(), r.height()) * 0.1, 1.5, 4.0);
    painter.drawEllipse(QPointF(r.left() + r.width() * 0.25, r.top() + r.height() * 0.25), radius, radius);
  }
  painter.setBrush(Qt::NoBrush);
}

void PatchCanvas::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
  if (const auto patch = patchAt(event->position())) Q_EMIT patchClicked(*patch);
}

void PatchCanvas::mouseMoveEvent(QMouseEvent* event) {
  const QPoint patch = patchAt(event->position()).value_or(QPoint(-1, -1));
  if (patch != hovered_) {
    hovered_ = patch;
    Q_EMIT patchHovered(patch);
  }
}

void PatchCanvas::leaveEvent(QEvent*) {
  if (hovered_ != QPoint(-1, -1)) {
    hovered_ = QPoint(-1, -1);
    Q_EMIT patchHovered(hovered_);
  }
}

}  // namespace neco::ui

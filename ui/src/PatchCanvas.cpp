#include "neco/ui/PatchCanvas.h"

#include <QApplication>
#include <QMouseEvent>
#include <QWheelEvent>
#include <QPainter>
#include <QVarLengthArray>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace neco::ui {

PatchCanvas::PatchCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(200, 150);
  setAutoFillBackground(false);
  setAttribute(Qt::WA_OpaquePaintEvent);  // paintEvent fills every pixel: nothing behind it is drawn
  setFocusPolicy(Qt::ClickFocus);
}

void PatchCanvas::setImage(const QImage& image) {
  // Same size (the next image of a dataset): the zoomed region stays, for side-by-side checks.
  if (image.size() != image_.size()) {
    zoom_ = 1.0;
    centre_ = {0.5, 0.5};
  }
  image_ = image;
  overlay_ = QImage();
  selected_.reset();
  marked_.clear();
  extra_.clear();
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

void PatchCanvas::setExtraSelections(const QList<QPoint>& patches) {
  extra_ = patches;
  update();
}

void PatchCanvas::setMarkedPatches(const QList<QPoint>& patches) {
  marked_ = patches;
  update();
}

QRectF PatchCanvas::fittedRect() const {
  if (image_.isNull()) return {};
  const double scale = std::min(width() / double(image_.width()), height() / double(image_.height()));
  // whole pixels, so the cached scaled image is drawn 1:1 and the overlay and grid share its edges
  const double w = std::max(1.0, std::round(image_.width() * scale)), h = std::max(1.0, std::round(image_.height() * scale));
  return {std::floor((width() - w) / 2.0), std::floor((height() - h) / 2.0), w, h};
}

QRectF PatchCanvas::imageRect() const {
  const QRectF fitted = fittedRect();
  if (fitted.isEmpty() || zoom_ == 1.0) return fitted;
  const double w = fitted.width() * zoom_, h = fitted.height() * zoom_;
  return {width() / 2.0 - centre_.x() * w, height() / 2.0 - centre_.y() * h, w, h};
}

double PatchCanvas::pixelScale() const {
  return image_.isNull() ? 0.0 : imageRect().width() / image_.width();
}

void PatchCanvas::clampCentre() {
  const QRectF fitted = fittedRect();
  if (fitted.isEmpty()) return;
  // Along an axis where the zoomed image is larger than the widget, no empty margin may show;
  // along one where it is smaller, it stays centred.
  auto clampAxis = [](double centre, double imageSide, double widgetSide) {
    if (imageSide <= widgetSide) return 0.5;
    const double half = widgetSide / 2.0 / imageSide;
    return std::clamp(centre, half, 1.0 - half);
  };
  centre_.setX(clampAxis(centre_.x(), fitted.width() * zoom_, width()));
  centre_.setY(clampAxis(centre_.y(), fitted.height() * zoom_, height()));
}

void PatchCanvas::setZoom(double zoom, std::optional<QPointF> anchor) {
  zoom = std::clamp(zoom, 1.0, kMaxZoom);
  if (image_.isNull() || zoom == zoom_) return;
  const QPointF at = anchor.value_or(QPointF(width() / 2.0, height() / 2.0));
  const QRectF before = imageRect();
  const QPointF imagePoint((at.x() - before.left()) / before.width(), (at.y() - before.top()) / before.height());
  zoom_ = zoom;
  // keep imagePoint under `at`: solve width/2 - c * W + imagePoint * W = at for c
  const QRectF fitted = fittedRect();
  const double w = fitted.width() * zoom_, h = fitted.height() * zoom_;
  centre_ = {imagePoint.x() + (width() / 2.0 - at.x()) / w, imagePoint.y() + (height() / 2.0 - at.y()) / h};
  clampCentre();
  update();
  Q_EMIT zoomChanged(zoom_);
}

void PatchCanvas::zoomBy(double factor, std::optional<QPointF> anchor) { setZoom(zoom_ * factor, anchor); }

void PatchCanvas::resetZoom() {
  const bool changed = zoom_ != 1.0;
  zoom_ = 1.0;
  centre_ = {0.5, 0.5};
  update();
  if (changed) Q_EMIT zoomChanged(zoom_);
}

void PatchCanvas::panBy(QPointF delta) {
  const QRectF r = imageRect();
  if (r.isEmpty()) return;
  centre_ -= QPointF(delta.x() / r.width(), delta.y() / r.height());
  clampCentre();
  update();
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
  drawImage(painter, target);
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

void PatchCanvas::drawImage(QPainter& painter, const QRectF& target) {
  if (zoom_ == 1.0) {
    // The smooth scaling of the image is the costliest part of a paint: done once per image and size.
    const qreal dpr = devicePixelRatioF();
    const QSize device = (target.size() * dpr).toSize();
    if (scaled_.isNull() || scaledKey_ != image_.cacheKey() || scaled_.size() != device ||
        scaled_.devicePixelRatio() != dpr) {
      scaled_ = QPixmap::fromImage(image_.scaled(device, Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
      scaled_.setDevicePixelRatio(dpr);
      scaledKey_ = image_.cacheKey();
    }
    painter.drawPixmap(target, scaled_, QRectF(scaled_.rect()));  // 1:1 unless the pixel ratio is fractional
    return;
  }
  // Zoomed: only the visible part of the image, smooth while pixels are small, sharp squares from
  // kPixelExactScale on.
  const QRectF visible = target.intersected(QRectF(rect()));
  if (visible.isEmpty()) return;
  const double sx = image_.width() / target.width(), sy = image_.height() / target.height();
  const QRectF source((visible.left() - target.left()) * sx, (visible.top() - target.top()) * sy, visible.width() * sx,
                      visible.height() * sy);
  // whole source pixels, and the matching (larger) target, so every image pixel keeps its size
  const QRect whole = source.toAlignedRect().intersected(image_.rect());
  const QRectF wholeTarget(target.left() + whole.left() / sx, target.top() + whole.top() / sy, whole.width() / sx,
                           whole.height() / sy);
  painter.setRenderHint(QPainter::SmoothPixmapTransform, pixelScale() < kPixelExactScale);
  painter.drawImage(wholeTarget, image_, QRectF(whole));
  painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
}

void PatchCanvas::drawGrid(QPainter& painter, const QRectF& target) const {
  if (columns_ == 0 || rows_ == 0) return;
  painter.setRenderHint(QPainter::Antialiasing, false);
  // Cosmetic and in one batch: the raster engine's line fast path (a wide pen is stroked as polygons,
  // which made the grid most of a paint).
  QPen pen(QColor(255, 255, 255, 70), 1.0);
  pen.setCosmetic(true);
  painter.setPen(pen);
  QVarLengthArray<QLineF, 256> lines;
  for (int c = 1; c < columns_; ++c) {
    const double x = target.left() + target.width() * c / columns_;
    if (x >= 0 && x <= width()) lines.append(QLineF(x, target.top(), x, target.bottom()));
  }
  for (int r = 1; r < rows_; ++r) {
    const double y = target.top() + target.height() * r / rows_;
    if (y >= 0 && y <= height()) lines.append(QLineF(target.left(), y, target.right(), y));
  }
  painter.drawLines(lines.constData(), static_cast<int>(lines.size()));
}

void PatchCanvas::drawSelection(QPainter& painter) const {
  painter.setRenderHint(QPainter::Antialiasing, true);
  painter.setBrush(Qt::NoBrush);
  for (QPoint patch : extra_) {
    const QRectF r = patchRect(patch).adjusted(-1, -1, 1, 1);
    if (r.isEmpty()) continue;
    painter.setPen(QPen(Qt::black, 3.0));
    painter.drawRect(r);
    painter.setPen(QPen(Qt::white, 1.5, Qt::DashLine));
    painter.drawRect(r);
  }
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
  if (zoom_ == 1.0) {  // nothing to pan: pin at once (the snappiest click)
    if (const auto patch = patchAt(event->position())) emitClick(*patch, event->modifiers());
    return;
  }
  pressAt_ = lastDrag_ = event->position();
  pressModifiers_ = event->modifiers();
  dragging_ = false;
}

void PatchCanvas::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || !pressAt_) return QWidget::mouseReleaseEvent(event);
  const QPointF at = *pressAt_;
  pressAt_.reset();
  if (dragging_) {
    dragging_ = false;
    unsetCursor();
    return;
  }
  if (const auto patch = patchAt(at)) emitClick(*patch, pressModifiers_);
}

void PatchCanvas::emitClick(QPoint patch, Qt::KeyboardModifiers modifiers) {
  if (modifiers & Qt::ShiftModifier) Q_EMIT patchShiftClicked(patch);
  else Q_EMIT patchClicked(patch);
}

void PatchCanvas::mouseDoubleClickEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton && zoom_ != 1.0) {
    // The first click of the pair already pinned its patch; the release that follows this event
    // must not pin another one in the fitted layout.
    pressAt_.reset();
    dragging_ = false;
    return resetZoom();
  }
  mousePressEvent(event);
}

void PatchCanvas::wheelEvent(QWheelEvent* event) {
  const double notches = event->angleDelta().y() / 120.0;
  if (notches == 0.0 || image_.isNull()) return QWidget::wheelEvent(event);
  zoomBy(std::pow(kWheelStep, notches), event->position());
  event->accept();
}

void PatchCanvas::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  clampCentre();
}

void PatchCanvas::mouseMoveEvent(QMouseEvent* event) {
  if (pressAt_ && (event->buttons() & Qt::LeftButton)) {
    if (!dragging_ && (event->position() - *pressAt_).manhattanLength() >= QApplication::startDragDistance()) {
      dragging_ = true;
      setCursor(Qt::ClosedHandCursor);
    }
    if (dragging_) {
      panBy(event->position() - lastDrag_);
      lastDrag_ = event->position();
    }
  }
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

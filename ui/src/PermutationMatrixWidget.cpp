#include "neco/ui/PermutationMatrixWidget.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace neco::ui {
namespace {

// Room around the square: the title above, the axis captions and the colour legend below.
constexpr double kTitleHeight = 18.0;
constexpr double kSideMargin = 4.0;
constexpr double kBottomHeight = 34.0;

QColor toQColor(PaletteColor c) {
  return QColor(c.r, c.g, c.b);
}

}  // namespace

PermutationMatrixWidget::PermutationMatrixWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  QSizePolicy policy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  policy.setHeightForWidth(true);
  setSizePolicy(policy);
}

int PermutationMatrixWidget::heightForWidth(int width) const {
  return static_cast<int>(std::ceil(width - 2 * kSideMargin + kTitleHeight + kBottomHeight));
}

void PermutationMatrixWidget::setTitle(const QString& title) {
  title_ = title;
  update();
}

void PermutationMatrixWidget::setMatrix(int n, std::vector<float> weights) {
  if (n <= 0 || weights.size() != static_cast<std::size_t>(n) * n) {
    n_ = 0;
    weights_.clear();
  } else {
    n_ = n;
    weights_ = std::move(weights);
  }
  renderCells();
  update();
}

void PermutationMatrixWidget::setElementPatches(std::vector<QPoint> patches) {
  patches_ = std::move(patches);
}

void PermutationMatrixWidget::setColormap(ColormapKind kind) {
  colormap_ = Colormap(kind);
  renderCells();
  update();
}

void PermutationMatrixWidget::renderCells() {
  if (n_ == 0) {
    image_ = QImage();
    return;
  }
  image_ = QImage(n_, n_, QImage::Format_RGB888);
  for (int e = 0; e < n_; ++e) {
    uchar* line = image_.scanLine(e);
    for (int r = 0; r < n_; ++r) {
      const PaletteColor c = colormap_.map(weight(e, r), 0.f, 1.f);  // fixed scale: weights are probabilities
      line[3 * r] = c.r;
      line[3 * r + 1] = c.g;
      line[3 * r + 2] = c.b;
    }
  }
}

QRectF PermutationMatrixWidget::matrixRect() const {
  if (n_ == 0) return {};
  // Whole pixels per cell once cells are large (equal, crisp cells); below that every pixel of room
  // counts more than cells differing by one pixel.
  const double room = std::floor(std::min(width() - 2 * kSideMargin, height() - kTitleHeight - kBottomHeight));
  if (room < n_) return {};
  const double side = room >= 8 * n_ ? std::floor(room / n_) * n_ : room;
  return {kSideMargin + std::floor((width() - 2 * kSideMargin - side) / 2), kTitleHeight, side, side};
}

QRectF PermutationMatrixWidget::cellRect(int element, int rank) const {
  const QRectF m = matrixRect();
  if (m.isEmpty() || element < 0 || rank < 0 || element >= n_ || rank >= n_) return {};
  const double cell = m.width() / n_;
  return {m.left() + rank * cell, m.top() + element * cell, cell, cell};
}

std::optional<PermutationMatrixWidget::Cell> PermutationMatrixWidget::cellAt(QPointF position) const {
  const QRectF m = matrixRect();
  if (m.isEmpty() || !m.contains(position)) return std::nullopt;
  const double cell = m.width() / n_;
  const int rank = std::min(n_ - 1, static_cast<int>((position.x() - m.left()) / cell));
  const int element = std::min(n_ - 1, static_cast<int>((position.y() - m.top()) / cell));
  return Cell{element, rank};
}

QString PermutationMatrixWidget::cellToolTip(Cell cell) const {
  if (cell.element < 0 || cell.rank < 0 || cell.element >= n_ || cell.rank >= n_) return {};
  QString element = tr("reference e = %1").arg(cell.element);
  if (static_cast<std::size_t>(cell.element) < patches_.size()) {
    const QPoint p = patches_[static_cast<std::size_t>(cell.element)];
    element += tr(" (patch %1, %2)").arg(p.x()).arg(p.y());
  }
  QString rank = tr("rank r = %1").arg(cell.rank);
  if (cell.rank == n_ - 1)
    rank += tr(" (nearest)");
  else if (cell.rank == 0)
    rank += tr(" (farthest)");
  return tr("%1\n%2\nweight %3").arg(element, rank).arg(double(weight(cell.element, cell.rank)), 0, 'g', 4);
}

bool PermutationMatrixWidget::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    if (const auto cell = cellAt(help->pos())) {
      QToolTip::showText(help->globalPos(), cellToolTip(*cell), this, cellRect(cell->element, cell->rank).toRect());
    } else {
      QToolTip::hideText();
      event->ignore();
    }
    return true;
  }
  return QWidget::event(event);
}

void PermutationMatrixWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setPen(palette().color(QPalette::WindowText));
  painter.drawText(QRectF(0, 0, width(), kTitleHeight), Qt::AlignCenter, title_);
  const QRectF m = matrixRect();
  if (m.isEmpty()) {
    painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, n_ == 0 ? tr("Click a patch") : tr("Too small"));
    return;
  }
  painter.setRenderHint(QPainter::SmoothPixmapTransform, false);  // one flat colour per cell
  painter.drawImage(m, image_);
  painter.setPen(palette().color(QPalette::Mid));
  painter.drawRect(m.adjusted(-0.5, -0.5, 0.5, 0.5));
  drawLegend(painter, m);
}

void PermutationMatrixWidget::drawLegend(QPainter& painter, const QRectF& m) const {
  QFont small = font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1.5));
  painter.setFont(small);
  painter.setPen(palette().color(QPalette::WindowText));
  const double captionTop = m.bottom() + 1;
  painter.drawText(QRectF(m.left(), captionTop, m.width(), 14), Qt::AlignLeft | Qt::AlignVCenter, tr("r = 0 far"));
  painter.drawText(QRectF(m.left(), captionTop, m.width(), 14), Qt::AlignRight | Qt::AlignVCenter,
                   tr("near r = %1").arg(n_ - 1));
  // The colour scale: 0 .. 1, the same for every matrix.
  const QRectF bar(m.left() + 12, captionTop + 16, m.width() - 24, 8);
  const int steps = std::max(1, static_cast<int>(bar.width()));
  for (int i = 0; i < steps; ++i) {
    const double x = bar.left() + bar.width() * i / steps;
    painter.fillRect(QRectF(x, bar.top(), bar.width() / steps + 0.5, bar.height()),
                     toQColor(colormap_.at(float(i) / std::max(1, steps - 1))));
  }
  painter.drawText(QRectF(m.left(), bar.top() - 3, 10, 14), Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("0"));
  painter.drawText(QRectF(bar.right() + 2, bar.top() - 3, 10, 14), Qt::AlignLeft | Qt::AlignVCenter,
                   QStringLiteral("1"));
}

}  // namespace neco::ui

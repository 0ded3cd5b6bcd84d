#include "neco/ui/CrossEntropyStrip.h"

#include "neco/ui/PermutationMatrixWidget.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace neco::ui {
namespace {

constexpr double kTitleHeight = 18.0;  // as PermutationMatrixWidget, so an unaligned strip still lines up
constexpr double kBottomHeight = 34.0;

}  // namespace

CrossEntropyStrip::CrossEntropyStrip(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
  setToolTip(
      tr("Cross-entropy of the teacher's rank distribution q[e, ·] under the student's p[e, ·], per reference e"));
}

void CrossEntropyStrip::setValues(std::vector<float> values) {
  values_ = std::move(values);
  maximum_ = 0.f;
  for (float v : values_)
    if (std::isfinite(v)) maximum_ = std::max(maximum_, v);
  update();
}

void CrossEntropyStrip::alignRowsWith(const PermutationMatrixWidget* matrix) {
  matrix_ = matrix;
  update();
}

QRectF CrossEntropyStrip::rowsRect() const {
  const QRectF own(2, kTitleHeight, width() - 4, height() - kTitleHeight - kBottomHeight);
  if (!matrix_ || matrix_->matrixRect().isEmpty()) return own;
  const QRectF rows = matrix_->matrixRect();
  const QPointF topLeft = mapFrom(window(), matrix_->mapTo(window(), rows.topLeft()));
  return {own.left(), topLeft.y(), own.width(), rows.height()};
}

QRectF CrossEntropyStrip::barRect(int element) const {
  const int n = static_cast<int>(values_.size());
  if (element < 0 || element >= n) return {};
  const QRectF rows = rowsRect();
  const double rowHeight = rows.height() / n;
  const double fraction = maximum_ > 0.f && std::isfinite(values_[element]) ? values_[element] / maximum_ : 0.0;
  return {rows.left(), rows.top() + element * rowHeight, std::max(1.0, fraction * rows.width()),
          std::max(1.0, rowHeight - (rowHeight >= 4 ? 1 : 0))};
}

int CrossEntropyStrip::elementAt(QPointF position) const {
  const int n = static_cast<int>(values_.size());
  const QRectF rows = rowsRect();
  if (n == 0 || position.y() < rows.top() || position.y() >= rows.bottom()) return -1;
  return std::clamp(static_cast<int>((position.y() - rows.top()) / (rows.height() / n)), 0, n - 1);
}

QString CrossEntropyStrip::barToolTip(int element) const {
  if (element < 0 || element >= static_cast<int>(values_.size())) return {};
  return tr("reference e = %1\ncross-entropy %2").arg(element).arg(double(values_[element]), 0, 'f', 4);
}

bool CrossEntropyStrip::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const int element = elementAt(help->pos());
    if (element >= 0)
      QToolTip::showText(help->globalPos(), barToolTip(element), this);
    else
      QToolTip::showText(help->globalPos(), toolTip(), this);
    return true;
  }
  return QWidget::event(event);
}

void CrossEntropyStrip::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setPen(palette().color(QPalette::WindowText));
  painter.drawText(QRectF(0, 0, width(), kTitleHeight), Qt::AlignCenter, tr("H(q, p) per e"));
  if (values_.empty()) return;
  const QRectF rows = rowsRect();
  painter.fillRect(rows, palette().color(QPalette::Base));
  const QColor bar = palette().color(QPalette::Highlight);
  for (int e = 0; e < static_cast<int>(values_.size()); ++e) painter.fillRect(barRect(e), bar);
  painter.setPen(palette().color(QPalette::Mid));
  painter.drawRect(rows.adjusted(-0.5, -0.5, 0.5, 0.5));
  QFont small = font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1.5));
  painter.setFont(small);
  painter.setPen(palette().color(QPalette::WindowText));
  painter.drawText(QRectF(rows.left(), rows.bottom() + 1, rows.width(), 14), Qt::AlignLeft | Qt::AlignVCenter,
                   QStringLiteral("0"));
  painter.drawText(QRectF(rows.left(), rows.bottom() + 1, rows.width(), 14), Qt::AlignRight | Qt::AlignVCenter,
                   QString::number(double(maximum_), 'f', 2));
}

}  // namespace neco::ui

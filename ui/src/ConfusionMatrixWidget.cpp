#include "neco/ui/ConfusionMatrixWidget.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace neco::ui {
namespace {

constexpr double kTitleHeight = 18.0;
constexpr double kSwatch = 6.0;  // class colour strip along each axis
constexpr double kGap = 2.0;
constexpr double kMargin = 4.0;
constexpr double kBottomHeight = 26.0;  // the colour scale
constexpr double kMaxLabelWidth = 110.0;
const QColor kEmptyRow(200, 200, 200);

QColor toQColor(PaletteColor c) {
  return QColor(c.r, c.g, c.b);
}

}  // namespace

ConfusionMatrixWidget::ConfusionMatrixWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ConfusionMatrixWidget::setMatrix(int classes, std::vector<std::int64_t> counts, QStringList names) {
  if (classes <= 0 || counts.size() != static_cast<std::size_t>(classes) * static_cast<std::size_t>(classes)) {
    classes_ = 0;
    counts_.clear();
  } else {
    classes_ = classes;
    counts_ = std::move(counts);
  }
  names_ = std::move(names);
  rowTotals_.assign(static_cast<std::size_t>(classes_), 0);
  for (int g = 0; g < classes_; ++g)
    for (int p = 0; p < classes_; ++p) rowTotals_[static_cast<std::size_t>(g)] += count(g, p);
  selected_.reset();
  renderCells();
  update();
}

void ConfusionMatrixWidget::setClassColours(std::vector<QColor> colours) {
  colours_ = std::move(colours);
  update();
}

void ConfusionMatrixWidget::setSelectedCell(std::optional<Cell> cell) {
  selected_ = cell;
  update();
}

std::int64_t ConfusionMatrixWidget::count(int gt, int prediction) const {
  if (gt < 0 || prediction < 0 || gt >= classes_ || prediction >= classes_) return 0;
  return counts_[static_cast<std::size_t>(gt) * static_cast<std::size_t>(classes_) +
                 static_cast<std::size_t>(prediction)];
}

double ConfusionMatrixWidget::rowShare(int gt, int prediction) const {
  if (gt < 0 || gt >= classes_) return 0.0;
  const std::int64_t total = rowTotals_[static_cast<std::size_t>(gt)];
  return total > 0 ? static_cast<double>(count(gt, prediction)) / static_cast<double>(total) : 0.0;
}

void ConfusionMatrixWidget::renderCells() {
  if (classes_ == 0) {
    image_ = QImage();
    return;
  }
  image_ = QImage(classes_, classes_, QImage::Format_RGB888);
  for (int g = 0; g < classes_; ++g) {
    uchar* line = image_.scanLine(g);
    const bool empty = rowTotals_[static_cast<std::size_t>(g)] == 0;
    for (int p = 0; p < classes_; ++p) {
      const QColor c = empty ? kEmptyRow : toQColor(colormap_.at(static_cast<float>(rowShare(g, p))));
      line[3 * p] = static_cast<uchar>(c.red());
      line[3 * p + 1] = static_cast<uchar>(c.green());
      line[3 * p + 2] = static_cast<uchar>(c.blue());
    }
  }
}

double ConfusionMatrixWidget::labelWidth() const {
  if (classes_ == 0 || names_.isEmpty()) return 0.0;
  const double room = std::min(width() - kMaxLabelWidth, height() - kTitleHeight - kBottomHeight) - kSwatch - kGap;
  if (room / classes_ < fontMetrics().height() * 0.9) return 0.0;  // rows too thin for text
  double widest = 0;
  for (const QString& n : names_) widest = std::max<double>(widest, fontMetrics().horizontalAdvance(n));
  return std::min(kMaxLabelWidth, widest + 4);
}

QRectF ConfusionMatrixWidget::matrixRect() const {
  if (classes_ == 0) return {};
  const double left = kMargin + labelWidth() + kSwatch + kGap;
  const double top = kTitleHeight + kSwatch + kGap;
  const double room = std::floor(std::min(width() - left - kMargin, height() - top - kBottomHeight));
  if (room < classes_) return {};
  const double side = room >= 4 * classes_ ? std::floor(room / classes_) * classes_ : room;  // whole-pixel cells
  return {left, top, side, side};
}

QRectF ConfusionMatrixWidget::cellRect(int gt, int prediction) const {
  const QRectF m = matrixRect();
  if (m.isEmpty() || gt < 0 || prediction < 0 || gt >= classes_ || prediction >= classes_) return {};
  const double cell = m.width() / classes_;
  return {m.left() + prediction * cell, m.top() + gt * cell, cell, cell};
}

std::optional<ConfusionMatrixWidget::Cell> ConfusionMatrixWidget::cellAt(QPointF position) const {
  const QRectF m = matrixRect();
  if (m.isEmpty() || !m.contains(position)) return std::nullopt;
  const double cell = m.width() / classes_;
  return Cell{std::min(classes_ - 1, static_cast<int>((position.y() - m.top()) / cell)),
              std::min(classes_ - 1, static_cast<int>((position.x() - m.left()) / cell))};
}

QString ConfusionMatrixWidget::cellToolTip(Cell cell) const {
  if (cell.gt < 0 || cell.prediction < 0 || cell.gt >= classes_ || cell.prediction >= classes_) return {};
  const auto name = [this](int c) { return c < names_.size() ? names_[c] : tr("class %1").arg(c); };
  return tr("ground truth: %1\npredicted: %2\n%3 pixels (%4 % of the row)\nclick to list its images")
      .arg(name(cell.gt), name(cell.prediction))
      .arg(count(cell.gt, cell.prediction))
      .arg(100.0 * rowShare(cell.gt, cell.prediction), 0, 'f', 1);
}

bool ConfusionMatrixWidget::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    if (const auto cell = cellAt(help->pos())) {
      QToolTip::showText(help->globalPos(), cellToolTip(*cell), this, cellRect(cell->gt, cell->prediction).toRect());
    } else {
      QToolTip::hideText();
      event->ignore();
    }
    return true;
  }
  return QWidget::event(event);
}

void ConfusionMatrixWidget::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
  if (const auto cell = cellAt(event->position())) {
    setSelectedCell(cell);
    Q_EMIT cellClicked(cell->gt, cell->prediction);
  }
}

void ConfusionMatrixWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(QRectF(kMargin, 0, width() - 2 * kMargin, kTitleHeight), Qt::AlignLeft | Qt::AlignVCenter,
             tr("ground truth (rows) × predicted (columns), row-normalised"));
  const QRectF m = matrixRect();
  if (m.isEmpty()) {
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, classes_ == 0 ? tr("No evaluation yet") : tr("Too small"));
    return;
  }
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // one flat colour per cell
  p.drawImage(m, image_);
  const double cell = m.width() / classes_;
  const double labels = labelWidth();
  for (int c = 0; c < classes_; ++c) {
    const QColor colour =
        static_cast<std::size_t>(c) < colours_.size() ? colours_[static_cast<std::size_t>(c)] : Qt::gray;
    p.fillRect(QRectF(m.left() - kGap - kSwatch, m.top() + c * cell, kSwatch, cell), colour);
    p.fillRect(QRectF(m.left() + c * cell, m.top() - kGap - kSwatch, cell, kSwatch), colour);
    if (labels > 0 && c < names_.size()) {
      const QRectF box(kMargin, m.top() + c * cell, labels - 2, cell);
      p.drawText(box, Qt::AlignRight | Qt::AlignVCenter,
                 fontMetrics().elidedText(names_[c], Qt::ElideRight, int(box.width())));
    }
  }
  p.setPen(palette().color(QPalette::Mid));
  p.drawRect(m.adjusted(-0.5, -0.5, 0.5, 0.5));
  if (selected_) {
    p.setPen(QPen(QColor(255, 0, 255), 2));
    p.setBrush(Qt::NoBrush);
    p.drawRect(cellRect(selected_->gt, selected_->prediction).adjusted(-1, -1, 1, 1));
  }
  // the colour scale, the same for every matrix
  p.setPen(palette().color(QPalette::WindowText));
  const QRectF bar(m.left() + 14, m.bottom() + 8, std::max(10.0, m.width() - 28), 8);
  const int steps = std::max(1, static_cast<int>(bar.width()));
  for (int i = 0; i < steps; ++i)
    p.fillRect(QRectF(bar.left() + bar.width() * i / steps, bar.top(), bar.width() / steps + 0.5, bar.height()),
               toQColor(colormap_.at(static_cast<float>(i) / static_cast<float>(std::max(1, steps - 1)))));
  p.drawText(QRectF(m.left(), bar.top() - 4, 12, 16), Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("0"));
  p.drawText(QRectF(bar.right() + 3, bar.top() - 4, 12, 16), Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("1"));
}

}  // namespace neco::ui

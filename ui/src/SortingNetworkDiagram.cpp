#include "neco/ui/SortingNetworkDiagram.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <array>
#include <cmath>

namespace neco::ui {
namespace {

// Natural geometry (zoom 1): a comparator column is kSlotUnits wide, layers are kGapUnits apart, wires
// kWirePixels apart. Zoom scales all of it; the label margins do not scale.
constexpr double kSlotUnits = 6.0;
constexpr double kGapUnits = 10.0;
constexpr double kWirePixels = 14.0;
constexpr double kTopMargin = 6.0;
constexpr double kBottomMargin = 16.0;  // layer numbers
constexpr double kMinZoom = 0.15;
constexpr double kMaxZoom = 8.0;

struct Stop {
  double t;
  int r, g, b;
};
// matplotlib's "coolwarm" (Moreland's diverging map) at five stops.
constexpr std::array<Stop, 5> kCoolWarm{
    {{0.0, 58, 76, 192}, {0.25, 141, 175, 253}, {0.5, 221, 220, 219}, {0.75, 244, 152, 122}, {1.0, 179, 3, 38}}};

}  // namespace

SortingNetworkDiagram::SortingNetworkDiagram(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  measureLabels();
}

void SortingNetworkDiagram::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::FontChange || event->type() == QEvent::StyleChange) {
    measureLabels();
    applyZoom();
  }
}

QColor SortingNetworkDiagram::alphaColour(double alpha) {
  const double t = std::isfinite(alpha) ? std::clamp(alpha, 0.0, 1.0) : 0.5;
  for (std::size_t i = 1; i < kCoolWarm.size(); ++i) {
    const Stop& lo = kCoolWarm[i - 1];
    const Stop& hi = kCoolWarm[i];
    if (t <= hi.t) {
      const double f = (t - lo.t) / (hi.t - lo.t);
      auto mix = [f](int a, int b) { return static_cast<int>(std::lround(a + f * (b - a))); };
      return QColor(mix(lo.r, hi.r), mix(lo.g, hi.g), mix(lo.b, hi.b));
    }
  }
  return QColor(kCoolWarm.back().r, kCoolWarm.back().g, kCoolWarm.back().b);
}

QColor SortingNetworkDiagram::plotBackground() {
  return QColor(38, 40, 46);
}

void SortingNetworkDiagram::setNetwork(SortNetworkLayout layout, SoftSortRow row) {
  layout_ = std::move(layout);
  row_ = std::move(row);
  hasWeights_ = row_.n == layout_.n && row_.swapWeights.size() == layout_.layers.size() &&
                static_cast<int>(row_.input.size()) == layout_.n && static_cast<int>(row_.sorted.size()) == layout_.n;
  for (std::size_t l = 0; hasWeights_ && l < layout_.layers.size(); ++l)
    hasWeights_ = row_.swapWeights[l].size() == layout_.layers[l].size();
  hovered_.reset();
  assignSlots();
  applyZoom();
  update();
}

void SortingNetworkDiagram::clear() {
  setNetwork({}, {});
}

void SortingNetworkDiagram::assignSlots() {
  // Greedy interval colouring per layer: a comparator goes into the first column whose last wire span
  // ends above its own, so comparators that share a column never overlap.
  slot_.assign(layout_.layers.size(), {});
  layerSlots_.assign(layout_.layers.size(), 1);
  layerStart_.assign(layout_.layers.size(), 0.0);
  double x = kGapUnits;
  for (std::size_t l = 0; l < layout_.layers.size(); ++l) {
    const auto& layer = layout_.layers[l];
    std::vector<int> order(layer.size());
    for (std::size_t c = 0; c < layer.size(); ++c) order[c] = static_cast<int>(c);
    std::sort(order.begin(), order.end(),
              [&layer](int i, int j) { return std::min(layer[i].a, layer[i].b) < std::min(layer[j].a, layer[j].b); });
    std::vector<int> columnEnd;  // highest wire used in each column so far
    slot_[l].assign(layer.size(), 0);
    for (int c : order) {
      const int lo = std::min(layer[c].a, layer[c].b), hi = std::max(layer[c].a, layer[c].b);
      std::size_t column = 0;
      while (column < columnEnd.size() && columnEnd[column] >= lo) ++column;
      if (column == columnEnd.size())
        columnEnd.push_back(hi);
      else
        columnEnd[column] = hi;
      slot_[l][c] = static_cast<int>(column);
    }
    layerSlots_[l] = std::max<int>(1, static_cast<int>(columnEnd.size()));
    layerStart_[l] = x;
    x += layerSlots_[l] * kSlotUnits + kGapUnits;
  }
  totalUnits_ = layout_.layers.empty() ? 0.0 : x;
}

void SortingNetworkDiagram::measureLabels() {
  labelWidth_ = fontMetrics().horizontalAdvance(QStringLiteral("r 4095  -0.000")) + 6;
}

QSize SortingNetworkDiagram::naturalSize() const {
  if (layout_.n == 0) return {200, 120};
  return {static_cast<int>(std::ceil(2 * labelWidth() + totalUnits_)),
          static_cast<int>(std::ceil(kTopMargin + kBottomMargin + layout_.n * kWirePixels))};
}

QSize SortingNetworkDiagram::sizeHint() const {
  return naturalSize();
}

void SortingNetworkDiagram::setZoom(double zoom) {
  zoom = zoom <= 0.0 ? 0.0 : std::clamp(zoom, kMinZoom, kMaxZoom);
  if (zoom == zoom_) return;
  zoom_ = zoom;
  applyZoom();
  Q_EMIT zoomChanged(zoom_);
}

void SortingNetworkDiagram::applyZoom() {
  if (zoom_ <= 0.0 || layout_.n == 0) {
    setMinimumSize(minimumSizeHint());
  } else {
    setMinimumSize(static_cast<int>(std::ceil(2 * labelWidth() + totalUnits_ * zoom_)),
                   static_cast<int>(std::ceil(kTopMargin + kBottomMargin + layout_.n * kWirePixels * zoom_)));
  }
  update();
}

double SortingNetworkDiagram::effectiveZoom() const {
  if (layout_.n == 0 || totalUnits_ <= 0.0) return 1.0;
  const QRectF plot = plotRect();
  return std::min(plot.width() / totalUnits_, plot.height() / (layout_.n * kWirePixels));
}

QRectF SortingNetworkDiagram::plotRect() const {
  const int label = labelWidth();
  return QRectF(label, kTopMargin, std::max(1, width() - 2 * label),
                std::max(1.0, height() - kTopMargin - kBottomMargin));
}

double SortingNetworkDiagram::unitX(double unit) const {
  const QRectF plot = plotRect();
  return plot.left() + unit * plot.width() / std::max(1.0, totalUnits_);
}

double SortingNetworkDiagram::wireY(int wire) const {
  const QRectF plot = plotRect();
  return plot.top() + (wire + 0.5) * plot.height() / std::max(1, layout_.n);
}

double SortingNetworkDiagram::comparatorX(ComparatorId id) const {
  const double unit = layerStart_[id.layer] + (slot_[id.layer][id.index] + 0.5) * kSlotUnits;
  return std::floor(unitX(unit)) + 0.5;  // pixel centre: crisp, aliased segments
}

float SortingNetworkDiagram::swapWeight(ComparatorId id) const {
  if (!hasWeights_) return 0.5f;
  return row_.swapWeights[static_cast<std::size_t>(id.layer)][static_cast<std::size_t>(id.index)];
}

QLineF SortingNetworkDiagram::comparatorLine(ComparatorId id) const {
  if (id.layer < 0 || id.layer >= layerCount() || id.index < 0 ||
      id.index >= static_cast<int>(layout_.layers[id.layer].size()))
    return {};
  const NetworkComparator& c = layout_.layers[id.layer][id.index];
  const double x = comparatorX(id);
  return {x, wireY(c.a), x, wireY(c.b)};
}

std::optional<SortingNetworkDiagram::ComparatorId> SortingNetworkDiagram::comparatorAt(QPointF position,
                                                                                       double tolerance) const {
  std::optional<ComparatorId> best;
  double bestDistance = tolerance;
  for (int l = 0; l < layerCount(); ++l) {
    for (int c = 0; c < static_cast<int>(layout_.layers[l].size()); ++c) {
      const QLineF line = comparatorLine({l, c});
      const double dx = std::abs(position.x() - line.x1());
      if (dx > bestDistance) continue;
      const double top = std::min(line.y1(), line.y2()) - tolerance,
                   bottom = std::max(line.y1(), line.y2()) + tolerance;
      if (position.y() < top || position.y() > bottom) continue;
      bestDistance = dx;
      best = ComparatorId{l, c};
    }
  }
  return best;
}

QString SortingNetworkDiagram::comparatorToolTip(ComparatorId id) const {
  if (comparatorLine(id).isNull()) return {};
  const NetworkComparator& c = layout_.layers[id.layer][id.index];
  const double alpha = swapWeight(id);
  const double certainty = std::abs(alpha - 0.5);
  const QString state = !hasWeights_       ? tr("no weights")
                        : certainty > 0.45 ? (alpha > 0.5 ? tr("decided: keeps wire %1 as the min").arg(c.a)
                                                          : tr("decided: swaps, wire %1 becomes the min").arg(c.b))
                        : certainty < 0.1  ? tr("undecided")
                                           : tr("soft");
  return tr("layer %1, comparator %2\nwires %3 ↔ %4, min → wire %5, max → wire %6\nalpha = %7 (%8)")
      .arg(id.layer)
      .arg(id.index)
      .arg(c.a)
      .arg(c.b)
      .arg(c.minTo)
      .arg(c.maxTo)
      .arg(alpha, 0, 'f', 4)
      .arg(state);
}

QString SortingNetworkDiagram::wireToolTip(QPointF position) const {
  if (!hasWeights_ || layout_.n == 0) return {};
  const QRectF plot = plotRect();
  const int wire = static_cast<int>((position.y() - plot.top()) / (plot.height() / layout_.n));
  if (wire < 0 || wire >= layout_.n) return {};
  if (position.x() < plot.left())
    return tr("input element e = %1: %2").arg(wire).arg(double(row_.input[wire]), 0, 'f', 4);
  if (position.x() > plot.right())
    return tr("rank r = %1: soft-sorted value %2").arg(wire).arg(double(row_.sorted[wire]), 0, 'f', 4);
  return {};
}

bool SortingNetworkDiagram::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    QString text;
    if (const auto id = comparatorAt(help->pos()))
      text = comparatorToolTip(*id);
    else
      text = wireToolTip(help->pos());
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(help->globalPos(), text, this);
    return true;
  }
  return QWidget::event(event);
}

void SortingNetworkDiagram::wheelEvent(QWheelEvent* event) {
  if (!(event->modifiers() & Qt::ControlModifier) || layout_.n == 0) return QWidget::wheelEvent(event);
  const double current = zoom_ > 0.0 ? zoom_ : effectiveZoom();
  setZoom(current * (event->angleDelta().y() > 0 ? 1.25 : 0.8));
  event->accept();
}

void SortingNetworkDiagram::mouseMoveEvent(QMouseEvent* event) {
  const auto id = comparatorAt(event->position());
  const bool changed =
      id.has_value() != hovered_.has_value() || (id && (id->layer != hovered_->layer || id->index != hovered_->index));
  if (!changed) return;
  hovered_ = id;
  update();
}

void SortingNetworkDiagram::leaveEvent(QEvent*) {
  if (!hovered_) return;
  hovered_.reset();
  update();
}

int SortingNetworkDiagram::labelStep() const {
  const double rowHeight = plotRect().height() / std::max(1, layout_.n);
  return std::max(1, static_cast<int>(std::ceil((fontMetrics().height() - 2) / std::max(0.1, rowHeight))));
}

void SortingNetworkDiagram::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (layout_.n == 0) {
    painter.setPen(palette().color(QPalette::WindowText));
    painter.drawText(rect(), Qt::AlignCenter, tr("Click a patch to see its sorting network"));
    return;
  }
  const QRectF plot = plotRect();
  painter.fillRect(plot, plotBackground());
  drawWires(painter, plot);
  drawComparators(painter);
  drawLabels(painter, plot);
}

void SortingNetworkDiagram::drawWires(QPainter& painter, const QRectF& plot) const {
  painter.setRenderHint(QPainter::Antialiasing, false);
  painter.setPen(QPen(QColor(105, 108, 120), 1.0));
  for (int w = 0; w < layout_.n; ++w) painter.drawLine(QPointF(plot.left(), wireY(w)), QPointF(plot.right(), wireY(w)));
}

void SortingNetworkDiagram::drawComparators(QPainter& painter) const {
  const double columnPixels = kSlotUnits * plotRect().width() / std::max(1.0, totalUnits_);
  const double rowPixels = plotRect().height() / layout_.n;
  const int lineWidth = std::clamp(static_cast<int>(std::lround(columnPixels * 0.6)), 1, 4);
  const double dot = std::clamp(std::min(columnPixels, rowPixels) * 0.45, 1.5, 4.0);
  for (int l = 0; l < layerCount(); ++l) {
    for (int c = 0; c < static_cast<int>(layout_.layers[l].size()); ++c) {
      const ComparatorId id{l, c};
      const QLineF line = comparatorLine(id);
      const QColor colour = alphaColour(swapWeight(id));
      const bool hovered = hovered_ && hovered_->layer == l && hovered_->index == c;
      painter.setRenderHint(QPainter::Antialiasing, false);
      if (hovered) {
        painter.setPen(QPen(Qt::white, lineWidth + 4, Qt::SolidLine, Qt::FlatCap));
        painter.drawLine(line);
      }
      painter.setPen(QPen(colour, lineWidth, Qt::SolidLine, Qt::FlatCap));
      painter.drawLine(line);
      // The wire that receives the soft minimum.
      painter.setRenderHint(QPainter::Antialiasing, true);
      painter.setPen(Qt::NoPen);
      painter.setBrush(colour);
      painter.drawEllipse(QPointF(line.x1(), wireY(layout_.layers[l][c].minTo)), dot, dot);
    }
  }
  painter.setBrush(Qt::NoBrush);
}

void SortingNetworkDiagram::drawLabels(QPainter& painter, const QRectF& plot) const {
  QFont small = font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1.0));
  painter.setFont(small);
  painter.setPen(palette().color(QPalette::WindowText));
  const int step = labelStep();
  const double rowHeight = plot.height() / layout_.n;
  const double labelHeight = std::max(rowHeight, double(painter.fontMetrics().height()));
  for (int w = 0; w < layout_.n; w += step) {
    const double y = wireY(w) - labelHeight / 2;
    const QString left = hasWeights_ ? QStringLiteral("e %1  %2").arg(w).arg(double(row_.input[w]), 0, 'f', 3)
                                     : QStringLiteral("%1").arg(w);
    painter.drawText(QRectF(0, y, plot.left() - 4, labelHeight), Qt::AlignRight | Qt::AlignVCenter, left);
    if (hasWeights_)
      painter.drawText(QRectF(plot.right() + 4, y, width() - plot.right() - 4, labelHeight),
                       Qt::AlignLeft | Qt::AlignVCenter,
                       QStringLiteral("r %1  %2").arg(w).arg(double(row_.sorted[w]), 0, 'f', 3));
  }
  // Layer numbers under the plot, as many as fit.
  const int layerStepPixels = painter.fontMetrics().horizontalAdvance(QStringLiteral("000"));
  double lastRight = -1e9;
  for (int l = 0; l < layerCount(); ++l) {
    const double centre = unitX(layerStart_[l] + layerSlots_[l] * kSlotUnits / 2);
    if (centre - layerStepPixels / 2.0 < lastRight) continue;
    painter.drawText(QRectF(centre - layerStepPixels / 2.0, plot.bottom() + 1, layerStepPixels, kBottomMargin - 2),
                     Qt::AlignCenter, QString::number(l));
    lastRight = centre + layerStepPixels / 2.0 + 4;
  }
}

}  // namespace neco::ui

#include "neco/ui/TrainingCurves.h"

#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>
#include <limits>

namespace neco::ui {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// About `count` round tick values (1, 2 or 5 times a power of ten) within [lo, hi].
std::vector<double> niceTicks(double lo, double hi, int count) {
  const double span = hi - lo;
  if (!(span > 0) || !std::isfinite(span)) return {lo};
  const double raw = span / std::max(1, count);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-6; t += step)
    ticks.push_back(std::fabs(t) < step * 1e-6 ? 0.0 : t);
  return ticks;
}

QString tickText(double v) {
  return QString::number(v, 'g', 3);
}

// [min, max] of the finite values, padded by 5 %; [0, 1] without any.
template <typename Values>
std::pair<double, double> paddedRange(const Values& values) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return {0.0, 1.0};
  if (hi - lo < 1e-12) return {lo - 0.5 * std::max(std::fabs(lo), 1e-3), hi + 0.5 * std::max(std::fabs(hi), 1e-3)};
  const double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad};
}

void drawFrame(QPainter& p, const QRect& plot, const QPalette& palette) {
  p.setPen(QPen(palette.color(QPalette::Mid), 1));
  p.setBrush(Qt::NoBrush);
  p.drawRect(plot);
}

}  // namespace

TrainingCurves::TrainingCurves(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("trainingCurves"));
  setAttribute(Qt::WA_OpaquePaintEvent);
}

void TrainingCurves::clear() {
  samples_.clear();
  monitors_.clear();
  evaluations_.clear();
  window_.clear();
  windowSum_ = 0;
  update();
}

double TrainingCurves::latestAverage() const noexcept {
  return samples_.empty() ? kNaN : samples_.back().average;
}

void TrainingCurves::addStep(const TrainingProgress& progress) {
  Sample s;
  s.step = progress.stepsDone;
  s.loss = progress.skipped ? kNaN : progress.loss;
  s.lrBackbone = progress.lrBackbone;
  s.lrHead = progress.lrHead;
  if (std::isfinite(s.loss)) {
    window_.push_back(s.loss);
    windowSum_ += s.loss;
    if (window_.size() > kAverageWindow) {
      windowSum_ -= window_.front();
      window_.pop_front();
    }
  }
  s.average = window_.empty() ? kNaN : windowSum_ / static_cast<double>(window_.size());
  samples_.push_back(s);
  if (progress.monitored) monitors_.push_back({progress.stepsDone, progress.heldOutLoss, progress.agreement});
  update();
}

void TrainingCurves::addEvaluation(const TrainingEvaluation& evaluation) {
  // a resumed run replays its rows: one point per step, the newest wins
  const auto at = std::find_if(evaluations_.begin(), evaluations_.end(),
                               [&](const TrainingEvaluation& e) { return e.step >= evaluation.step; });
  if (at != evaluations_.end() && at->step == evaluation.step) {
    *at = evaluation;
  } else {
    evaluations_.insert(at, evaluation);
  }
  update();
}

void TrainingCurves::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Base));
  p.setRenderHint(QPainter::Antialiasing);
  QFont small = font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1));
  p.setFont(small);
  const QFontMetrics fm(small);
  const int text = fm.height();
  const int left = fm.horizontalAdvance(QStringLiteral("0.0000")) + 10;
  const int right = fm.horizontalAdvance(QStringLiteral("-0.5")) + 12;
  const QRect legend(left, 2, width() - left - right, text + 4);
  const int top = legend.bottom() + 4, bottom = height() - text - 8;
  const bool evaluated = !evaluations_.empty();
  const int lossHeight = (bottom - top - 8) * (evaluated ? 1 : 2) / (evaluated ? 2 : 3);
  const QRect lossPlot(left, top, width() - left - right, lossHeight);
  const int lower = bottom - lossPlot.bottom() - 8;  // what is left for the evaluation and lr plots
  const QRect evalPlot(left, lossPlot.bottom() + 8, lossPlot.width(), evaluated ? (lower - 8) / 2 : 0);
  const QRect lrPlot(left, evaluated ? evalPlot.bottom() + 8 : lossPlot.bottom() + 8, lossPlot.width(),
                     evaluated ? bottom - evalPlot.bottom() - 8 : lower);
  if (samples_.empty() || lossPlot.width() < 20 || lossPlot.height() < 20) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter, tr("Loss and learning-rate curves appear here once training runs."));
    return;
  }
  Axis x{static_cast<double>(samples_.front().step), static_cast<double>(samples_.back().step)};
  if (evaluated) {  // the evaluation before the first step sits at 0
    x.lo = std::min(x.lo, static_cast<double>(evaluations_.front().step));
    x.hi = std::max(x.hi, static_cast<double>(evaluations_.back().step));
  }
  if (x.hi <= x.lo) x.hi = x.lo + 1;
  // x ticks: grid lines through both plots, labels under the lower one.
  for (double t : niceTicks(x.lo, x.hi, std::max(2, lossPlot.width() / 90))) {
    const qreal px = x.map(t, lossPlot.left(), lossPlot.right());
    p.setPen(QPen(palette().color(QPalette::Midlight), 1));
    p.drawLine(QPointF(px, lossPlot.top()), QPointF(px, lossPlot.bottom()));
    p.drawLine(QPointF(px, lrPlot.top()), QPointF(px, lrPlot.bottom()));
    if (evaluated) p.drawLine(QPointF(px, evalPlot.top()), QPointF(px, evalPlot.bottom()));
    p.setPen(palette().color(QPalette::Text));
    const QString label = QString::number(static_cast<qint64>(std::llround(t)));
    p.drawText(QRectF(px - 40, lrPlot.bottom() + 2, 80, text + 2), Qt::AlignHCenter | Qt::AlignTop, label);
  }
  paintLossPlot(p, lossPlot, x);
  if (evaluated) paintEvaluationPlot(p, evalPlot, x);
  paintLrPlot(p, lrPlot, x);
  paintLegend(p, legend,
              {{lossColor(), tr("loss")},
               {averageColor(), tr("average of %1").arg(kAverageWindow)},
               {heldOutColor(), tr("held-out loss")},
               {agreementColor(), tr("agreement (right)")}});
}

void TrainingCurves::paintLossPlot(QPainter& p, const QRect& plot, const Axis& x) const {
  std::vector<double> values;
  values.reserve(samples_.size() * 2 + monitors_.size());
  for (const Sample& s : samples_) values.insert(values.end(), {s.loss, s.average});
  for (const Monitor& m : monitors_) values.push_back(m.heldOut);
  const auto [lo, hi] = paddedRange(values);
  const Axis y{lo, hi};
  // Agreement is a Spearman correlation: the right axis runs from 0 (or below, to a tenth) up to 1.
  double lowestAgreement = 0;
  for (const Monitor& m : monitors_)
    if (std::isfinite(m.agreement)) lowestAgreement = std::min(lowestAgreement, std::floor(10 * m.agreement) / 10);
  const Axis agreement{std::max(-1.0, lowestAgreement), 1.0};
  const int fontHeight = p.fontMetrics().height();
  for (double t : niceTicks(y.lo, y.hi, std::max(2, plot.height() / 40))) {
    const qreal py = y.map(t, plot.bottom(), plot.top());
    p.setPen(QPen(palette().color(QPalette::Midlight), 1));
    p.drawLine(QPointF(plot.left(), py), QPointF(plot.right(), py));
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRectF(0, py - fontHeight / 2.0, plot.left() - 4, fontHeight), Qt::AlignRight | Qt::AlignVCenter,
               tickText(t));
  }
  if (!monitors_.empty()) {
    p.setPen(agreementColor().darker(120));
    for (double t : niceTicks(agreement.lo, agreement.hi, std::max(2, plot.height() / 50))) {
      const qreal py = agreement.map(t, plot.bottom(), plot.top());
      p.drawText(QRectF(plot.right() + 4, py - fontHeight / 2.0, 60, fontHeight), Qt::AlignLeft | Qt::AlignVCenter,
                 tickText(t));
    }
  }
  drawFrame(p, plot, palette());
  p.save();
  p.setClipRect(plot.adjusted(1, 1, 0, 0));
  paintSeries(p, plot, x, y, &Sample::loss, lossColor(), 1.0);
  paintSeries(p, plot, x, y, &Sample::average, averageColor(), 2.5);
  p.setPen(Qt::NoPen);
  for (const Monitor& m : monitors_) {
    const qreal px = x.map(static_cast<double>(m.step), plot.left(), plot.right());
    p.setBrush(heldOutColor());
    if (std::isfinite(m.heldOut)) p.drawEllipse(QPointF(px, y.map(m.heldOut, plot.bottom(), plot.top())), 3.5, 3.5);
    if (!std::isfinite(m.agreement)) continue;
    const qreal py = agreement.map(m.agreement, plot.bottom(), plot.top());
    p.setBrush(agreementColor());
    p.drawPolygon(QPolygonF({QPointF(px, py - 4), QPointF(px + 4, py), QPointF(px, py + 4), QPointF(px - 4, py)}));
  }
  // Skipped steps: short red marks on the x axis (at most one per pixel column).
  p.setPen(QPen(skippedColor(), 2));
  int lastColumn = -1;
  for (const Sample& s : samples_) {
    if (std::isfinite(s.loss)) continue;
    const int column = static_cast<int>(x.map(static_cast<double>(s.step), plot.left(), plot.right()));
    if (column == lastColumn) continue;
    lastColumn = column;
    p.drawLine(QPointF(column, plot.bottom() - 6), QPointF(column, plot.bottom()));
  }
  p.restore();
}

void TrainingCurves::paintFrameWithTicks(QPainter& p, const QRect& plot, const Axis& y) const {
  const int fontHeight = p.fontMetrics().height();
  for (double t : niceTicks(y.lo, y.hi, std::max(2, plot.height() / 35))) {
    const qreal py = y.map(t, plot.bottom(), plot.top());
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRectF(0, py - fontHeight / 2.0, plot.left() - 4, fontHeight), Qt::AlignRight | Qt::AlignVCenter,
               tickText(t));
  }
  drawFrame(p, plot, palette());
}

void TrainingCurves::paintLrPlot(QPainter& p, const QRect& plot, const Axis& x) const {
  std::vector<double> values;
  for (const Sample& s : samples_) values.insert(values.end(), {s.lrBackbone, s.lrHead});
  double hi = 0;
  for (double v : values)
    if (std::isfinite(v)) hi = std::max(hi, v);
  const Axis y{0.0, hi > 0 ? 1.2 * hi : 1.0};  // from 0, with room above the top line
  const int fontHeight = p.fontMetrics().height();
  paintFrameWithTicks(p, plot, y);
  p.save();
  p.setClipRect(plot.adjusted(1, 1, 0, 0));
  paintSeries(p, plot, x, y, &Sample::lrBackbone, lrBackboneColor(), 1.5);
  paintSeries(p, plot, x, y, &Sample::lrHead, lrHeadColor(), 1.5);
  p.restore();
  const int fontWidth = p.fontMetrics().horizontalAdvance(tr("learning rate")) + 12;
  p.setPen(palette().color(QPalette::Text));
  p.drawText(plot.adjusted(4, 2, -4, -2), Qt::AlignLeft | Qt::AlignTop, tr("learning rate"));
  paintLegend(p, QRect(plot.left() + 4 + fontWidth, plot.top() + 2, plot.width() - fontWidth - 8, fontHeight),
              {{lrBackboneColor(), tr("backbone")}, {lrHeadColor(), tr("heads")}});
}

void TrainingCurves::paintEvaluationPlot(QPainter& p, const QRect& plot, const Axis& x) const {
  // mIoU in percent, the axis fitted to the values with a little room (never a min-max stretch of noise)
  double lo = 100, hi = 0;
  for (const TrainingEvaluation& e : evaluations_) {
    if (!std::isfinite(e.miou)) continue;
    lo = std::min(lo, 100 * e.miou);
    hi = std::max(hi, 100 * e.miou);
  }
  if (lo > hi) lo = 0, hi = 100;  // no finite value yet
  const Axis y{std::max(0.0, std::floor(lo / 5) * 5 - 5), std::min(100.0, std::ceil(hi / 5) * 5 + 5)};
  paintFrameWithTicks(p, plot, y);
  p.save();
  p.setClipRect(plot.adjusted(1, 1, 0, 0));
  QPolygonF line;
  for (const TrainingEvaluation& e : evaluations_) {
    if (std::isfinite(e.miou)) line << QPointF(x.map(static_cast<double>(e.step), plot.left(), plot.right()),
                                               y.map(100 * e.miou, plot.bottom(), plot.top()));
  }
  p.setPen(QPen(evaluationColor(), 1.5));
  p.drawPolyline(line);
  p.setBrush(evaluationColor());
  for (const QPointF& point : line) p.drawEllipse(point, 3.0, 3.0);
  p.restore();
  const TrainingEvaluation& last = evaluations_.back();
  const QString title = last.protocol == "overcluster"
                            ? tr("mIoU %, overclustering K=%1 (%2)").arg(last.k).arg(QString::fromStdString(last.part))
                            : tr("mIoU %, %1 (%2)").arg(QString::fromStdString(last.protocol), QString::fromStdString(last.part));
  p.setPen(palette().color(QPalette::Text));
  p.drawText(plot.adjusted(4, 2, -4, -2), Qt::AlignLeft | Qt::AlignTop,
             tr("%1: %2 at step %3").arg(title).arg(100 * last.miou, 0, 'f', 1).arg(last.step));
}

void TrainingCurves::paintSeries(QPainter& p, const QRect& plot, const Axis& x, const Axis& y, double Sample::*field,
                                 const QColor& colour, qreal width) const {
  p.setPen(QPen(colour, width, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
  p.setBrush(Qt::NoBrush);
  const bool dense = samples_.size() > static_cast<std::size_t>(2 * plot.width());
  QPolygonF line;
  auto flush = [&] {
    if (line.size() == 1)
      p.drawPoint(line.front());
    else if (line.size() > 1)
      p.drawPolyline(line);
    line.clear();
  };
  int column = std::numeric_limits<int>::min();
  double first = 0, low = 0, high = 0, last = 0;
  auto emitColumn = [&] {
    if (column == std::numeric_limits<int>::min()) return;
    for (double v : {first, low, high, last}) line << QPointF(column, y.map(v, plot.bottom(), plot.top()));
  };
  for (const Sample& s : samples_) {
    const double v = s.*field;
    const qreal px = x.map(static_cast<double>(s.step), plot.left(), plot.right());
    if (!std::isfinite(v)) {
      if (!dense) flush();  // a skipped step breaks the line; too small to see when dense
      continue;
    }
    if (!dense) {
      line << QPointF(px, y.map(v, plot.bottom(), plot.top()));
      continue;
    }
    const int c = static_cast<int>(px);
    if (c != column) {
      emitColumn();
      column = c;
      first = low = high = v;
    }
    low = std::min(low, v);
    high = std::max(high, v);
    last = v;
  }
  emitColumn();
  flush();
}

void TrainingCurves::paintLegend(QPainter& p, const QRect& area,
                                 const std::vector<std::pair<QColor, QString>>& entries) const {
  const QFontMetrics fm = p.fontMetrics();
  int at = area.left();
  for (const auto& [colour, label] : entries) {
    const int w = 14 + fm.horizontalAdvance(label) + 12;
    if (at + w - 12 > area.right()) break;  // no room: the rest is left out
    p.fillRect(QRect(at, area.center().y() - 2, 10, 5), colour);
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(at + 14, area.top(), w, area.height()), Qt::AlignLeft | Qt::AlignVCenter, label);
    at += w;
  }
}

}  // namespace neco::ui

#pragma once
// Live training curves painted with QPainter: the training loss of every step (thin) with its
// moving average (bold), the held-out loss and the student/teacher ordering agreement measured by
// the monitor (points; agreement on the right axis), and below a small plot of the learning rates
// (backbone and heads). Skipped steps (NaN loss) break the line and are marked on the x axis.
// When the run evaluates itself (neco.eval_every), a third plot shows the dense evaluation's mIoU.
// Any number of steps: beyond about two per pixel a line is drawn as a per-column min/max band.

#include "neco/core/Training.h"

#include <QColor>
#include <QString>
#include <QWidget>

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

class QPainter;

namespace neco::ui {

class TrainingCurves : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingCurves(QWidget* parent = nullptr);

  void clear();
  /// Appends a step (its stepsDone is the x coordinate); schedules a repaint.
  void addStep(const TrainingProgress& progress);
  /// Adds a dense evaluation point (mIoU in [0, 1] at evaluation.step); schedules a repaint.
  void addEvaluation(const TrainingEvaluation& evaluation);
  int evaluationCount() const noexcept { return static_cast<int>(evaluations_.size()); }
  int stepCount() const noexcept { return static_cast<int>(samples_.size()); }
  int monitorCount() const noexcept { return static_cast<int>(monitors_.size()); }
  /// The moving average of the finite losses over the last `window` steps (NaN before any).
  double latestAverage() const noexcept;

  static QColor lossColor() { return {160, 190, 225}; }
  static QColor averageColor() { return {31, 119, 180}; }
  static QColor heldOutColor() { return {255, 127, 14}; }
  static QColor agreementColor() { return {44, 160, 44}; }
  static QColor lrBackboneColor() { return {148, 103, 189}; }
  static QColor lrHeadColor() { return {140, 86, 75}; }
  static QColor skippedColor() { return {214, 39, 40}; }
  static QColor evaluationColor() { return {23, 190, 207}; }
  static constexpr int kAverageWindow = 20;

  QSize sizeHint() const override { return {420, 280}; }
  QSize minimumSizeHint() const override { return {240, 200}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  struct Sample {
    std::int64_t step = 0;
    double loss = 0, average = 0, lrBackbone = 0, lrHead = 0;
  };
  struct Monitor {
    std::int64_t step = 0;
    double heldOut = 0, agreement = 0;
  };
  struct Axis {
    double lo = 0, hi = 1;
    double map(double v, double from, double to) const { return from + (v - lo) / (hi - lo) * (to - from); }
  };
  void paintLossPlot(QPainter& p, const QRect& plot, const Axis& x) const;
  void paintLrPlot(QPainter& p, const QRect& plot, const Axis& x) const;
  void paintEvaluationPlot(QPainter& p, const QRect& plot, const Axis& x) const;
  /// Labels of y's ticks left of the plot, then the plot's frame.
  void paintFrameWithTicks(QPainter& p, const QRect& plot, const Axis& y) const;
  void paintLegend(QPainter& p, const QRect& area, const std::vector<std::pair<QColor, QString>>& entries) const;
  void paintSeries(QPainter& p, const QRect& plot, const Axis& x, const Axis& y, double Sample::*field,
                   const QColor& colour, qreal width) const;

  std::vector<Sample> samples_;
  std::vector<Monitor> monitors_;
  std::vector<TrainingEvaluation> evaluations_;
  std::deque<double> window_;  // the finite losses of the moving average
  double windowSum_ = 0;
};

}  // namespace neco::ui

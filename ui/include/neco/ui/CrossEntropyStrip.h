#pragma once
// The per-reference disagreement of teacher and student: one horizontal bar per element e, the
// cross-entropy -sum_r q[e, r] log p[e, r] (NeCo's loss for the source patch is their mean). Placed
// beside a permutation matrix, its bars line up with the matrix rows.

#include <QWidget>

#include <vector>

namespace neco::ui {

class PermutationMatrixWidget;

class CrossEntropyStrip : public QWidget {
  Q_OBJECT
 public:
  explicit CrossEntropyStrip(QWidget* parent = nullptr);

  /// One value per element; empty clears the strip.
  void setValues(std::vector<float> values);
  const std::vector<float>& values() const noexcept { return values_; }
  /// Draws bar e level with row e of `matrix` (same parent row in a layout); without it the bars
  /// share the widget's height.
  void alignRowsWith(const PermutationMatrixWidget* matrix);

  /// The bar of element e, empty without values.
  QRectF barRect(int element) const;
  QString barToolTip(int element) const;

  QSize sizeHint() const override { return {90, 170}; }
  QSize minimumSizeHint() const override { return {60, 120}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  QRectF rowsRect() const;  // the vertical extent of the rows and the horizontal room for the bars
  int elementAt(QPointF position) const;

  std::vector<float> values_;
  float maximum_ = 0.f;
  const PermutationMatrixWidget* matrix_ = nullptr;
};

}  // namespace neco::ui

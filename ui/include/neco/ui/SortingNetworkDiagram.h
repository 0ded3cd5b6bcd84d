#pragma once
// A differentiable sorting network for one row: n horizontal wires, layers from left to right, each
// comparator a vertical segment between its wires, coloured by its swap weight alpha on a diverging
// scale (0.5 = undecided in neutral grey; towards 0 or 1 = decided), with a dot on the wire that
// receives the soft minimum. Input values label the wires on the left, soft-sorted values on the right.
// Comparators of one layer whose wire spans overlap are drawn side by side, so none hides another.
// Zoom 0 fits the diagram into the widget; a positive zoom asks for a minimum size (scroll bars in a
// QScrollArea); Ctrl + wheel zooms.

#include "neco/core/SoftSort.h"

#include <QColor>
#include <QLineF>
#include <QWidget>

#include <optional>
#include <vector>

namespace neco::ui {

class SortingNetworkDiagram : public QWidget {
  Q_OBJECT
 public:
  struct ComparatorId {
    int layer = 0;
    int index = 0;  ///< into layout().layers[layer]
  };

  explicit SortingNetworkDiagram(QWidget* parent = nullptr);

  /// Draws `layout` with the values and swap weights of `row` (sorted by that layout). When the row
  /// does not match the layout (other n or layer shapes) the comparators are drawn undecided and the
  /// wires unlabelled.
  void setNetwork(SortNetworkLayout layout, SoftSortRow row);
  void clear();

  int wireCount() const noexcept { return layout_.n; }
  int layerCount() const noexcept { return static_cast<int>(layout_.layers.size()); }
  int comparatorCount() const noexcept { return layout_.comparatorCount(); }
  const SortNetworkLayout& layout() const noexcept { return layout_; }
  const SoftSortRow& row() const noexcept { return row_; }
  bool hasWeights() const noexcept { return hasWeights_; }

  /// Alpha of a comparator (0.5 without weights).
  float swapWeight(ComparatorId id) const;
  /// The comparator's segment in widget coordinates (from wire a to wire b).
  QLineF comparatorLine(ComparatorId id) const;
  /// The comparator under a widget position (within `tolerance` pixels of its segment).
  std::optional<ComparatorId> comparatorAt(QPointF position, double tolerance = 3.0) const;
  QString comparatorToolTip(ComparatorId id) const;
  /// The y of a wire's centre line, in widget coordinates.
  double wireY(int wire) const;

  /// Diverging colour of a swap weight: blue (0, swapped) - grey (0.5, undecided) - red (1, kept).
  static QColor alphaColour(double alpha);
  /// The plot's background (dark, so the neutral grey of undecided comparators stays visible).
  static QColor plotBackground();

  /// 0 = fit into the widget; otherwise the scale of the natural size (1 = 14 px per wire).
  void setZoom(double zoom);
  double zoom() const noexcept { return zoom_; }
  /// The scale at which the diagram currently fills the widget.
  double effectiveZoom() const;
  QSize naturalSize() const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override { return {200, 120}; }

 Q_SIGNALS:
  void zoomChanged(double zoom);

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void assignSlots();
  void applyZoom();
  QRectF plotRect() const;
  double unitX(double unit) const;  // natural horizontal units -> widget x
  double comparatorX(ComparatorId id) const;
  int labelWidth() const noexcept { return labelWidth_; }  // measured once per font: every wire's y needs it
  void measureLabels();
  int labelStep() const;  // label every k-th wire so labels never overlap
  QString wireToolTip(QPointF position) const;
  void drawWires(QPainter& painter, const QRectF& plot) const;
  void drawComparators(QPainter& painter) const;
  void drawLabels(QPainter& painter, const QRectF& plot) const;

  SortNetworkLayout layout_;
  int labelWidth_ = 0;
  SoftSortRow row_;
  bool hasWeights_ = false;
  std::vector<std::vector<int>> slot_;  // [layer][comparator]: side-by-side column inside the layer
  std::vector<double> layerStart_;      // natural units
  std::vector<int> layerSlots_;
  double totalUnits_ = 0.0;
  double zoom_ = 0.0;
  std::optional<ComparatorId> hovered_;
};

}  // namespace neco::ui

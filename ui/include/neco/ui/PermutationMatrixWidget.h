#pragma once
// One soft permutation matrix as a heatmap: rows are the reference elements e, columns the ascending
// ranks r (r = 0 the least similar reference, r = n - 1 the nearest neighbour), on a fixed [0, 1]
// colour scale with its legend. Hovering a cell shows e, the reference patch, r and the weight.

#include "neco/core/Colormap.h"

#include <QImage>
#include <QPoint>
#include <QString>
#include <QWidget>

#include <optional>
#include <vector>

namespace neco::ui {

class PermutationMatrixWidget : public QWidget {
  Q_OBJECT
 public:
  struct Cell {
    int element = 0;
    int rank = 0;
  };

  explicit PermutationMatrixWidget(QWidget* parent = nullptr);

  /// Title drawn above the matrix (e.g. "Student  s = 100").
  void setTitle(const QString& title);
  QString title() const { return title_; }
  /// The n x n weights, weights[e * n + r]; n == 0 (or a size mismatch) clears the view.
  void setMatrix(int n, std::vector<float> weights);
  void clear() { setMatrix(0, {}); }
  /// Reference patch of each element, for the tooltips (optional).
  void setElementPatches(std::vector<QPoint> patches);
  void setColormap(ColormapKind kind);

  int n() const noexcept { return n_; }
  const std::vector<float>& matrix() const noexcept { return weights_; }
  float weight(int element, int rank) const { return weights_[static_cast<std::size_t>(element * n_ + rank)]; }
  /// The n x n colour image that is drawn (one pixel per cell), null when empty.
  const QImage& cellImage() const noexcept { return image_; }

  /// Where the matrix is drawn (square, widget coordinates), empty when there is none.
  QRectF matrixRect() const;
  QRectF cellRect(int element, int rank) const;
  std::optional<Cell> cellAt(QPointF position) const;
  /// The hover text of a cell: element, its patch, rank and weight.
  QString cellToolTip(Cell cell) const;

  /// Square matrix plus title and legend: the height follows the width.
  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int width) const override;
  QSize sizeHint() const override { return {240, heightForWidth(240)}; }
  QSize minimumSizeHint() const override { return {120, heightForWidth(120)}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void renderCells();
  void drawLegend(QPainter& painter, const QRectF& matrix) const;

  QString title_;
  int n_ = 0;
  std::vector<float> weights_;
  std::vector<QPoint> patches_;
  Colormap colormap_{ColormapKind::Viridis};
  QImage image_;
};

}  // namespace neco::ui

#pragma once
// A classes x classes confusion matrix, ground truth rows x predicted columns, each row normalised
// (the share of the class's pixels that went to each prediction) on a fixed [0, 1] colour scale; a
// row without ground-truth pixels is drawn grey. The class colours run along both axes, names too
// when the rows are tall enough. Hovering a cell shows its pixel count and share; clicking it
// selects it (outlined) and emits cellClicked.

#include "neco/core/Colormap.h"

#include <QColor>
#include <QImage>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <optional>
#include <vector>

namespace neco::ui {

class ConfusionMatrixWidget : public QWidget {
  Q_OBJECT
 public:
  struct Cell {
    int gt = 0;
    int prediction = 0;
  };

  explicit ConfusionMatrixWidget(QWidget* parent = nullptr);

  /// counts[gt * classes + prediction]; a size mismatch (or classes 0) clears the view.
  void setMatrix(int classes, std::vector<std::int64_t> counts, QStringList names);
  void setClassColours(std::vector<QColor> colours);  ///< indexed by class (axis swatches)
  void setSelectedCell(std::optional<Cell> cell);
  void clear() { setMatrix(0, {}, {}); }

  int classes() const noexcept { return classes_; }
  std::int64_t count(int gt, int prediction) const;
  double rowShare(int gt, int prediction) const;  ///< count / the row's pixels (0 for an empty row)
  std::optional<Cell> selectedCell() const noexcept { return selected_; }
  const QImage& cellImage() const noexcept { return image_; }  ///< one pixel per cell, as drawn

  QRectF matrixRect() const;  ///< widget coordinates; empty when there is no matrix or no room
  QRectF cellRect(int gt, int prediction) const;
  std::optional<Cell> cellAt(QPointF position) const;
  QString cellToolTip(Cell cell) const;

  QSize sizeHint() const override { return {320, 320}; }
  QSize minimumSizeHint() const override { return {160, 160}; }

 Q_SIGNALS:
  void cellClicked(int gt, int prediction);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void renderCells();
  double labelWidth() const;  ///< room for the row names (0 when the rows are too thin for text)

  int classes_ = 0;
  std::vector<std::int64_t> counts_;
  std::vector<std::int64_t> rowTotals_;
  QStringList names_;
  std::vector<QColor> colours_;
  std::optional<Cell> selected_;
  QImage image_;
  Colormap colormap_{ColormapKind::Viridis};
};

}  // namespace neco::ui

#pragma once
// Shows an image fitted to the widget with its ViT patch grid, a per-patch heatmap overlay and the
// selected patch. Pure presentation: it knows nothing about models; the window feeds it images,
// grids and colour overlays, and it reports clicks in patch coordinates.

#include <QImage>
#include <QPixmap>
#include <QList>
#include <QPoint>
#include <QRectF>
#include <QWidget>

#include <optional>

namespace neco::ui {

class PatchCanvas : public QWidget {
  Q_OBJECT
 public:
  explicit PatchCanvas(QWidget* parent = nullptr);

  /// Replaces the image; clears the heatmap and the selection (the grid is kept).
  void setImage(const QImage& image);
  const QImage& image() const noexcept { return image_; }

  /// The patch grid laid over the image: columns across its width, rows across its height (the
  /// model sees a square resize of the image, so each patch covers width/cols x height/rows pixels).
  void setGrid(int columns, int rows);
  int gridColumns() const noexcept { return columns_; }
  int gridRows() const noexcept { return rows_; }
  void setGridVisible(bool visible);
  bool gridVisible() const noexcept { return gridVisible_; }

  /// A columns x rows colour image drawn over the image with nearest-neighbour scaling.
  void setOverlay(const QImage& perPatchColours);
  void clearOverlay();
  bool hasOverlay() const noexcept { return !overlay_.isNull(); }
  void setOverlayOpacity(double opacity);  ///< 0 (invisible) .. 1
  double overlayOpacity() const noexcept { return opacity_; }

  void setSelectedPatch(std::optional<QPoint> patch);
  std::optional<QPoint> selectedPatch() const noexcept { return selected_; }

  /// Patches marked with a small dot in their top-left corner (the permutation view's references);
  /// the patch centres stay untouched. Cleared by setImage.
  void setMarkedPatches(const QList<QPoint>& patches);
  const QList<QPoint>& markedPatches() const noexcept { return marked_; }

  /// Where the image is drawn, in widget coordinates (aspect preserved, centred).
  QRectF imageRect() const;
  /// The widget rectangle of patch (column, row); empty when there is no grid.
  QRectF patchRect(QPoint patch) const;
  /// The patch under a widget position, if any.
  std::optional<QPoint> patchAt(QPointF position) const;

  QSize sizeHint() const override { return {640, 480}; }

 Q_SIGNALS:
  void patchClicked(QPoint patch);
  void patchHovered(QPoint patch);  ///< (-1, -1) when the cursor leaves the grid

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  void drawGrid(QPainter& painter, const QRectF& target) const;
  void drawSelection(QPainter& painter) const;
  void drawMarks(QPainter& painter) const;

  QImage image_;
  QPixmap scaled_;        // image_ smoothly scaled to the canvas (device pixels)
  qint64 scaledKey_ = 0;  // image_.cacheKey() that scaled_ shows
  QImage overlay_;
  int columns_ = 0;
  int rows_ = 0;
  bool gridVisible_ = true;
  double opacity_ = 0.6;
  std::optional<QPoint> selected_;
  QList<QPoint> marked_;
  QPoint hovered_{-1, -1};
};

}  // namespace neco::ui

#pragma once
// Shows an image fitted to the widget with its ViT patch grid, a per-patch heatmap overlay and the
// selected patch. Pure presentation: it knows nothing about models; the window feeds it images,
// grids and colour overlays, and it reports clicks in patch coordinates.
//
// Zoom and pan: the wheel zooms about the cursor (1 = the whole image fitted, up to kMaxZoom), a
// left drag pans when zoomed (a click without movement still pins a patch), a double click
// fits again. From kPixelExactScale screen pixels per image pixel on, image pixels are drawn as
// sharp squares and the grid lines fall on the exact patch boundaries, so a patch can be checked
// pixel by pixel.

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
  /// Further query patches (shift-click), outlined dashed; cleared by setImage.
  void setExtraSelections(const QList<QPoint>& patches);
  const QList<QPoint>& extraSelections() const noexcept { return extra_; }

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

  static constexpr double kMaxZoom = 64.0;
  static constexpr double kWheelStep = 1.25;        ///< zoom factor per wheel notch
  static constexpr double kPixelExactScale = 3.0;   ///< screen pixels per image pixel

  /// 1 = fitted; clamped to [1, kMaxZoom]. The image point under `anchor` (widget coordinates;
  /// default: the widget centre) stays where it is.
  void setZoom(double zoom, std::optional<QPointF> anchor = std::nullopt);
  void zoomBy(double factor, std::optional<QPointF> anchor = std::nullopt);
  void resetZoom();  ///< fit the whole image
  double zoom() const noexcept { return zoom_; }
  /// Moves the view by `delta` widget pixels (the image follows the pointer); clamped so the image
  /// always covers the widget along the axes where it is larger than the widget.
  void panBy(QPointF delta);
  /// The image point (normalised to [0, 1] x [0, 1]) at the centre of the view.
  QPointF viewCentre() const noexcept { return centre_; }
  /// Screen pixels per image pixel at the current zoom.
  double pixelScale() const;

  QSize sizeHint() const override { return {640, 480}; }

 Q_SIGNALS:
  void patchClicked(QPoint patch);
  void patchShiftClicked(QPoint patch);  ///< shift + click: add (or remove) a query
  void patchHovered(QPoint patch);  ///< (-1, -1) when the cursor leaves the grid
  void zoomChanged(double zoom);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  QRectF fittedRect() const;  // the whole image fitted (zoom 1)
  void emitClick(QPoint patch, Qt::KeyboardModifiers modifiers);
  void clampCentre();
  void drawImage(QPainter& painter, const QRectF& target);
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
  QList<QPoint> extra_;
  QPoint hovered_{-1, -1};
  double zoom_ = 1.0;
  QPointF centre_{0.5, 0.5};
  std::optional<QPointF> pressAt_;  // a left press that becomes a click or a drag
  Qt::KeyboardModifiers pressModifiers_;
  QPointF lastDrag_;
  bool dragging_ = false;
};

}  // namespace neco::ui

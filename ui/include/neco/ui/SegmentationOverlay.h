#pragma once
// A label map drawn over its image, and the widget that shows the result.
//
// The label map (any size; the evaluations score at maskSize² or inputSize²) is scaled to the image
// with nearest-neighbour lookup, so every overlay pixel shows exactly one scored label. A class pixel
// is its palette colour blended over the image at the overlay opacity:
//   out = round(image * (1 - opacity) + colour * opacity), per channel.
// Ignored pixels (the data's ignore index, 255, or any value >= classes in the ground truth) are
// never a class colour: they get a diagonal hatch, kIgnoreColour blended on the stripes
// (isIgnoreStripe) and the bare image between them. Errors mode draws kErrorColour where the
// prediction differs from the ground truth, the bare image where they agree, and the hatch where the
// ground truth is ignored.

#include "neco/core/Image.h"

#include <QColor>
#include <QImage>
#include <QWidget>

#include <vector>

namespace neco::ui {

enum class OverlayMode { GroundTruth = 0, Prediction = 1, Errors = 2 };

inline const QColor kIgnoreColour{255, 255, 255};
inline const QColor kErrorColour{255, 0, 64};

/// Whether image pixel (x, y) lies on a stripe of the ignore hatch (3 px wide, every 6 px, diagonal).
constexpr bool isIgnoreStripe(int x, int y) noexcept {
  return (x + y) % 6 < 3;
}

/// `colour` over `under` at `opacity` in [0, 1], rounded per channel.
QColor blendColour(const QColor& under, const QColor& colour, double opacity);

struct OverlayInput {
  QImage image;                            ///< any format; the result is RGB888 of its size
  const LabelImage* target = nullptr;      ///< the ground truth as scored
  const LabelImage* prediction = nullptr;  ///< same size as target; needed by Prediction and Errors
  OverlayMode mode = OverlayMode::GroundTruth;
  const std::vector<QColor>* colours = nullptr;  ///< indexed by label value (256 entries)
  double opacity = 0.6;
  int classes = 0;
  int ignoreIndex = 255;
};

/// The image with its overlay. Returns the bare image (RGB888) when a map the mode needs is missing.
QImage composeOverlay(const OverlayInput& input);

/// Shows one overlay image scaled to fit (aspect kept) with a caption above it.
class OverlayCanvas : public QWidget {
  Q_OBJECT
 public:
  explicit OverlayCanvas(QWidget* parent = nullptr);
  void setImage(const QImage& image, const QString& caption);
  const QImage& image() const noexcept { return image_; }
  QRectF imageRect() const;  ///< where the image is drawn (widget coordinates)
  QSize sizeHint() const override { return {360, 340}; }
  QSize minimumSizeHint() const override { return {160, 160}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QImage image_;
  QString caption_;
};

}  // namespace neco::ui

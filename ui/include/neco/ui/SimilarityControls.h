#pragma once
// The similarity view's controls: patch grid toggle, overlay opacity (down to 0), colour map,
// model input size, and the fixed [-1, 1] colour scale legend.

#include "neco/core/Colormap.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;

namespace neco::ui {

class ColorScaleBar;

class SimilarityControls : public QWidget {
  Q_OBJECT
 public:
  explicit SimilarityControls(QWidget* parent = nullptr);

  bool gridVisible() const;
  double opacity() const;           ///< 0..1
  ColormapKind colormap() const;
  int inputSize() const;            ///< pixels, a multiple of 14

  void setGridVisible(bool visible);
  void setOpacity(double opacity);
  void setColormap(ColormapKind kind);
  void setInputSize(int pixels);    ///< adds the size to the list when it is not there
  /// Shows the value under the cursor / at the selected patch on the legend (NaN hides it).
  void setProbeValue(double value);

  QSlider* opacitySlider() const noexcept { return opacity_; }
  QCheckBox* gridCheckBox() const noexcept { return grid_; }
  QComboBox* colormapBox() const noexcept { return colormap_; }

 Q_SIGNALS:
  void gridVisibleChanged(bool visible);
  void opacityChanged(double opacity);
  void colormapChanged(neco::ColormapKind kind);
  void inputSizeChanged(int pixels);

 private:
  QCheckBox* grid_;
  QSlider* opacity_;
  QLabel* opacityValue_;
  QComboBox* colormap_;
  QComboBox* inputSize_;
  ColorScaleBar* scale_;
};

}  // namespace neco::ui

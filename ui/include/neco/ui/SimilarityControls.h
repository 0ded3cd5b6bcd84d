#pragma once
// The similarity view's controls: patch grid toggle, overlay opacity (down to 0), colour map,
// model input size, the block whose output is read (layer), and the fixed [-1, 1] colour scale legend.

#include "neco/core/Colormap.h"

#include <QWidget>

#include <optional>

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
  /// The block whose output (after the final norm) the views read: 1-based, 0 for the last block.
  int layer() const;

  void setGridVisible(bool visible);
  void setOpacity(double opacity);
  void setColormap(ColormapKind kind);
  void setInputSize(int pixels);    ///< adds the size to the list when it is not there
  /// Lists the blocks of a `depth`-block model. The chosen block is kept when the model has it, else
  /// the choice falls back to the last block; a block asked for earlier that an earlier model lacked
  /// (setLayer) is chosen once a model has it. Emits nothing (the caller is changing the model).
  void setDepth(int depth);
  /// 0 or the depth: the last block; 1..depth-1: that block. A block deeper than the current model
  /// waits for a model that has it (a restored session whose checkpoint is still loading), until
  /// the user picks a block.
  void setLayer(int layer);
  std::optional<int> pendingLayer() const noexcept { return pendingLayer_; }
  QComboBox* layerBox() const noexcept { return layer_; }
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
  void layerChanged(int layer);     ///< as layer(): 0 for the last block

 private:
  QCheckBox* grid_;
  QSlider* opacity_;
  QLabel* opacityValue_;
  QComboBox* colormap_;
  QComboBox* inputSize_;
  QComboBox* layer_;
  std::optional<int> pendingLayer_;
  ColorScaleBar* scale_;
};

}  // namespace neco::ui

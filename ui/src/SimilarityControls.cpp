#include "neco/ui/SimilarityControls.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QPainter>
#include <QSignalBlocker>
#include <QSlider>
#include <QVBoxLayout>

#include <cmath>
#include <utility>

namespace neco::ui {

/// Vertical legend of the fixed similarity scale: +1 at the top, -1 at the bottom.
class ColorScaleBar : public QWidget {
 public:
  explicit ColorScaleBar(QWidget* parent) : QWidget(parent), cmap_(ColormapKind::Viridis) {
    setMinimumSize(64, 160);
    setToolTip(tr("Cosine similarity, fixed scale [-1, 1]"));
  }
  void setColormap(ColormapKind kind) {
    cmap_ = Colormap(kind);
    update();
  }
  void setProbe(double value) {
    probe_ = value;
    update();
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    const QRect bar(4, 8, 18, height() - 16);
    for (int y = 0; y < bar.height(); ++y) {
      const PaletteColor c = cmap_.at(1.0f - float(y) / std::max(1, bar.height() - 1));
      p.setPen(QColor(c.r, c.g, c.b));
      p.drawLine(bar.left(), bar.top() + y, bar.right(), bar.top() + y);
    }
    p.setPen(palette().color(QPalette::WindowText));
    p.drawRect(bar.adjusted(0, 0, -1, -1));
    const int tx = bar.right() + 6;
    p.drawText(tx, bar.top() + 5, QStringLiteral("+1"));
    p.drawText(tx, bar.center().y() + 5, QStringLiteral("0"));
    p.drawText(tx, bar.bottom() + 4, QStringLiteral("-1"));
    if (!std::isnan(probe_)) {
      const int y = bar.top() + static_cast<int>(std::lround((1.0 - (probe_ + 1.0) / 2.0) * (bar.height() - 1)));
      p.setPen(QPen(palette().color(QPalette::Highlight), 2));
      p.drawLine(bar.left() - 3, y, bar.right() + 3, y);
    }
  }

 private:
  Colormap cmap_;
  double probe_ = std::nan("");
};

SimilarityControls::SimilarityControls(QWidget* parent) : QWidget(parent) {
  grid_ = new QCheckBox(tr("Show patch grid"), this);
  grid_->setChecked(true);
  opacity_ = new QSlider(Qt::Horizontal, this);
  opacity_->setRange(0, 100);
  opacity_->setValue(60);
  opacity_->setToolTip(tr("Heatmap opacity (0 hides it)"));
  opacityValue_ = new QLabel(QStringLiteral("60 %"), this);
  colormap_ = new QComboBox(this);
  for (const auto& name : colormapNames()) colormap_->addItem(QString::fromStdString(name));
  inputSize_ = new QComboBox(this);
  for (int s : {112, 224, 336, 448, 518}) inputSize_->addItem(QString::number(s), s);
  inputSize_->setCurrentIndex(1);
  inputSize_->setToolTip(tr("Square input size of the model (the image is resized to it)"));
  layer_ = new QComboBox(this);
  layer_->setToolTip(tr("The block whose output the views read (after the model's final norm); "
                        "earlier blocks show lower-level features"));
  scale_ = new ColorScaleBar(this);

  auto* opacityRow = new QHBoxLayout;
  opacityRow->addWidget(opacity_, 1);
  opacityRow->addWidget(opacityValue_);
  auto* form = new QFormLayout;
  form->addRow(grid_);
  form->addRow(tr("Opacity"), opacityRow);
  form->addRow(tr("Colour map"), colormap_);
  form->addRow(tr("Input size"), inputSize_);
  form->addRow(tr("Layer"), layer_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(new QLabel(tr("Similarity scale"), this));
  layout->addWidget(scale_, 1);

  connect(grid_, &QCheckBox::toggled, this, &SimilarityControls::gridVisibleChanged);
  connect(opacity_, &QSlider::valueChanged, this, [this](int v) {
    opacityValue_->setText(QStringLiteral("%1 %").arg(v));
    Q_EMIT opacityChanged(v / 100.0);
  });
  connect(colormap_, &QComboBox::currentIndexChanged, this, [this](int index) {
    const auto kind = static_cast<ColormapKind>(index);
    scale_->setColormap(kind);
    Q_EMIT colormapChanged(kind);
  });
  connect(inputSize_, &QComboBox::currentIndexChanged, this,
          [this](int index) { Q_EMIT inputSizeChanged(inputSize_->itemData(index).toInt()); });
  connect(layer_, &QComboBox::currentIndexChanged, this,
          [this](int index) { Q_EMIT layerChanged(layer_->itemData(index).toInt()); });
  connect(layer_, &QComboBox::activated, this, [this] { pendingLayer_.reset(); });  // the user's own choice
}

bool SimilarityControls::gridVisible() const { return grid_->isChecked(); }
double SimilarityControls::opacity() const { return opacity_->value() / 100.0; }
ColormapKind SimilarityControls::colormap() const { return static_cast<ColormapKind>(colormap_->currentIndex()); }
int SimilarityControls::inputSize() const { return inputSize_->currentData().toInt(); }

void SimilarityControls::setGridVisible(bool visible) { grid_->setChecked(visible); }
void SimilarityControls::setOpacity(double opacity) { opacity_->setValue(static_cast<int>(std::lround(opacity * 100))); }
void SimilarityControls::setColormap(ColormapKind kind) { colormap_->setCurrentIndex(static_cast<int>(kind)); }

void SimilarityControls::setInputSize(int pixels) {
  int index = inputSize_->findData(pixels);
  if (index < 0) {
    inputSize_->addItem(QString::number(pixels), pixels);
    index = inputSize_->count() - 1;
  }
  inputSize_->setCurrentIndex(index);
}

int SimilarityControls::layer() const { return layer_->count() == 0 ? 0 : layer_->currentData().toInt(); }

void SimilarityControls::setDepth(int depth) {
  const QSignalBlocker quiet(layer_);
  const int chosen = layer();
  layer_->clear();
  if (depth <= 0) return;
  layer_->addItem(tr("Last (block %1)").arg(depth), 0);
  for (int block = depth - 1; block >= 1; --block) layer_->addItem(tr("Block %1").arg(block), block);
  if (pendingLayer_ && *pendingLayer_ <= depth) {
    const int wanted = *std::exchange(pendingLayer_, std::nullopt);
    layer_->setCurrentIndex(layer_->findData(wanted == depth ? 0 : wanted));
    return;
  }
  const int index = layer_->findData(chosen);
  layer_->setCurrentIndex(index < 0 ? 0 : index);
}

void SimilarityControls::setLayer(int layer) {
  if (layer < 0) return;
  pendingLayer_.reset();
  const int index = layer_->findData(layer == layer_->count() ? 0 : layer);  // the depth: the last block
  if (index >= 0) layer_->setCurrentIndex(index);
  else if (layer > layer_->count()) pendingLayer_ = layer;
}

void SimilarityControls::setProbeValue(double value) { scale_->setProbe(value); }

}  // namespace neco::ui

#include "neco/ui/SortingNetworkView.h"

#include "neco/ui/SortingNetworkDiagram.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace neco::ui {

/// The swap-weight scale: 0 (swap) .. 0.5 (undecided) .. 1 (keep), and the min marker.
class SwapWeightLegend : public QWidget {
 public:
  explicit SwapWeightLegend(QWidget* parent) : QWidget(parent) {
    setMinimumSize(230, 30);
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    setToolTip(
        tr("Swap weight alpha of a comparator: the weight with which it keeps its first wire's value as the "
           "minimum. 0.5 = undecided; near 0 or 1 = decided. The dot marks the wire that receives the min."));
  }
  QSize sizeHint() const override { return {300, 30}; }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1.0));
    p.setFont(small);
    const QRect bar(4, 2, width() - 70, 10);
    p.fillRect(bar, SortingNetworkDiagram::plotBackground());
    for (int x = 0; x < bar.width(); ++x) {
      p.setPen(SortingNetworkDiagram::alphaColour(double(x) / std::max(1, bar.width() - 1)));
      p.drawLine(bar.left() + x, bar.top() + 1, bar.left() + x, bar.bottom() - 1);
    }
    p.setPen(palette().color(QPalette::WindowText));
    const QRect text(bar.left(), bar.bottom() + 1, bar.width(), height() - bar.bottom() - 1);
    p.drawText(text, Qt::AlignLeft | Qt::AlignTop, tr("0 swap"));
    p.drawText(text, Qt::AlignHCenter | Qt::AlignTop, tr("0.5 undecided"));
    p.drawText(text, Qt::AlignRight | Qt::AlignTop, tr("1 keep"));
    // The min marker, as drawn on a comparator.
    const QRect marker(bar.right() + 8, 0, width() - bar.right() - 8, height());
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setPen(QPen(SortingNetworkDiagram::alphaColour(1.0), 2));
    p.drawLine(marker.left() + 5, 4, marker.left() + 5, 22);
    p.setPen(Qt::NoPen);
    p.setBrush(SortingNetworkDiagram::alphaColour(1.0));
    p.drawEllipse(QPointF(marker.left() + 5, 5), 3.5, 3.5);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(marker.adjusted(12, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, tr("= min"));
  }
};

SortingNetworkView::SortingNetworkView(QWidget* parent)
    : QWidget(parent),
      summary_(new QLabel(this)),
      warning_(new QLabel(this)),
      fit_(new QToolButton(this)),
      zoomOut_(new QToolButton(this)),
      zoomIn_(new QToolButton(this)),
      scroll_(new QScrollArea(this)),
      diagram_(new SortingNetworkDiagram) {
  summary_->setObjectName(QStringLiteral("networkSummary"));
  summary_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  warning_->setWordWrap(true);
  warning_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  warning_->setStyleSheet(QStringLiteral("QLabel { color: #b00020; font-weight: bold; }"));
  warning_->hide();
  fit_->setText(tr("Fit"));
  fit_->setCheckable(true);
  fit_->setChecked(true);
  fit_->setToolTip(tr("Fit the whole network into the view (Ctrl + wheel zooms)"));
  zoomOut_->setText(QStringLiteral("−"));
  zoomOut_->setToolTip(tr("Zoom out"));
  zoomIn_->setText(QStringLiteral("+"));
  zoomIn_->setToolTip(tr("Zoom in"));
  scroll_->setWidgetResizable(true);
  scroll_->setWidget(diagram_);
  scroll_->setFrameShape(QFrame::NoFrame);

  auto* header = new QHBoxLayout;
  header->addWidget(summary_, 1);
  header->addWidget(new SwapWeightLegend(this));
  header->addWidget(fit_);
  header->addWidget(zoomOut_);
  header->addWidget(zoomIn_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 2, 4, 2);
  layout->addLayout(header);
  layout->addWidget(warning_);
  layout->addWidget(scroll_, 1);

  auto zoomBy = [this](double factor) {
    const double current = diagram_->zoom() > 0.0 ? diagram_->zoom() : diagram_->effectiveZoom();
    diagram_->setZoom(current * factor);
  };
  connect(zoomIn_, &QToolButton::clicked, this, [zoomBy] { zoomBy(1.25); });
  connect(zoomOut_, &QToolButton::clicked, this, [zoomBy] { zoomBy(0.8); });
  connect(fit_, &QToolButton::toggled, this, [this](bool fit) {
    if (fit)
      diagram_->setZoom(0.0);
    else if (diagram_->zoom() <= 0.0)
      diagram_->setZoom(1.0);
  });
  connect(diagram_, &SortingNetworkDiagram::zoomChanged, this, [this](double zoom) {
    const QSignalBlocker block(fit_);
    fit_->setChecked(zoom <= 0.0);
  });
  clear();
}

void SortingNetworkView::setNetwork(const SortNetworkLayout& layout, const SoftSortRow& row,
                                    const SoftSortSettings& settings) {
  diagram_->setNetwork(layout, row);
  summary_->setText(tr("%1, n = %2: %3 layers, %4 comparators — student, %5, steepness %6")
                        .arg(QString::fromLatin1(sortNetworkName(layout.kind)))
                        .arg(layout.n)
                        .arg(layout.layers.size())
                        .arg(layout.comparatorCount())
                        .arg(QString::fromLatin1(sortRelaxationName(settings.relaxation)))
                        .arg(settings.steepness, 0, 'g', 4));
  warning_->setText(layout.valid ? QString() : QString::fromStdString(layout.warning));
  warning_->setVisible(!layout.valid);
}

void SortingNetworkView::clear() {
  diagram_->clear();
  summary_->setText(tr("No row: click a patch."));
  warning_->clear();
  warning_->hide();
}

}  // namespace neco::ui

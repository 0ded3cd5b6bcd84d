// SegmentationQualityView's widgets, their layout and their wiring; the behaviour is in
// SegmentationQualityView.cpp.
#include "SegmentationQualityDetail.h"
#include "SlotGuard.h"
#include "neco/ui/ConfusionMatrixWidget.h"
#include "neco/ui/SegmentationQualityView.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>

namespace neco::ui {

using detail::expectedClasses;
using detail::kMaxK;

namespace {
constexpr int kReclusterDelayMs = 250;  // the K slider's debounce
}  // namespace

QWidget* SegmentationQualityView::buildControls() {
  auto* box = new QWidget(this);
  auto* grid = new QVBoxLayout(box);
  grid->setContentsMargins(0, 0, 0, 0);
  auto* row = new QHBoxLayout;
  protocolBox_ = new QComboBox(box);
  for (auto p : {SegmentationProtocol::Overcluster, SegmentationProtocol::Retrieval, SegmentationProtocol::LinearProbe})
    protocolBox_->addItem(tr(protocolName(p)), static_cast<int>(p));
  protocolBox_->setToolTip(
      tr("Overclustering: k-means on the patch tokens, clusters matched to classes.\n"
         "NN retrieval: labels from the nearest training patches (Hummingbird).\n"
         "Linear probe: a 1x1 head trained on the frozen tokens."));
  dataBox_ = new QComboBox(box);
  dataBox_->addItems({tr("Demo scenes"), tr("Pascal VOC…"), tr("ADE20K…"), tr("Cityscapes…")});
  dataBox_->setToolTip(tr("The labelled images: the built-in demo scenes, or a dataset folder in its official layout"));
  limit_ = new QSpinBox(box);
  limit_->setRange(0, 100000);
  limit_->setValue(100);
  limit_->setSpecialValueText(tr("all"));
  limit_->setPrefix(tr("first "));
  limit_->setToolTip(tr("Images per split of a dataset on disk (the demo always uses its 16 validation scenes)"));
  limit_->setEnabled(false);
  kSlider_ = new QSlider(Qt::Horizontal, box);
  kSlider_->setRange(expectedClasses(data_.kind), kMaxK);
  kSlider_->setPageStep(5);
  kSlider_->setMinimumWidth(80);
  kSlider_->setToolTip(tr("Clusters of the overclustering: K = classes is Hungarian matching, more is many-to-one"));
  kLabel_ = new QLabel(box);
  kLabel_->setMinimumWidth(kLabel_->fontMetrics().horizontalAdvance(QStringLiteral("K = 000")));
  kTimer_ = new QTimer(this);
  kTimer_->setSingleShot(true);
  kTimer_->setInterval(kReclusterDelayMs);
  evaluate_ = new QPushButton(tr("Evaluate"), box);
  evaluate_->setToolTip(tr("Score the current model with the chosen protocol (runs in the background)"));
  evaluate_->setEnabled(false);
  keepBase_ = new QPushButton(tr("Keep as Base"), box);
  keepBase_->setToolTip(tr("Compare later results of this protocol and data with this one"));
  keepBase_->setEnabled(false);
  overlayBox_ = new QComboBox(box);
  overlayBox_->addItems({tr("Ground truth"), tr("Prediction"), tr("Errors")});
  overlayBox_->setCurrentIndex(static_cast<int>(mode_));
  opacitySlider_ = new QSlider(Qt::Horizontal, box);
  opacitySlider_->setRange(0, 100);
  opacitySlider_->setValue(static_cast<int>(std::lround(opacity_ * 100)));
  opacitySlider_->setFixedWidth(110);
  opacitySlider_->setToolTip(tr("Overlay opacity"));
  row->addWidget(protocolBox_);
  row->addWidget(dataBox_);
  row->addWidget(limit_);
  row->addWidget(kLabel_);
  row->addWidget(kSlider_, 1);
  row->addWidget(evaluate_);
  row->addWidget(keepBase_);
  grid->addLayout(row);
  // the second row: how the image is drawn, then how the evaluation went
  auto* second = new QHBoxLayout;
  second->addWidget(new QLabel(tr("Overlay"), box));
  second->addWidget(overlayBox_);
  second->addWidget(opacitySlider_);
  second->addSpacing(8);
  progress_ = new QProgressBar(box);
  progress_->setMinimumWidth(120);
  progress_->setMaximumWidth(240);
  progress_->setFormat(tr("idle"));
  progress_->setValue(0);
  status_ = new QLabel(box);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  status_->setWordWrap(true);
  status_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // a long line never widens the dock
  second->addWidget(progress_);
  second->addWidget(status_, 1);
  grid->addLayout(second);
  errorLabel_ = new QLabel(box);
  errorLabel_->setWordWrap(true);
  errorLabel_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  errorLabel_->setStyleSheet(QStringLiteral("color: #c00000;"));
  errorLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  errorLabel_->hide();
  grid->addWidget(errorLabel_);

  connect(protocolBox_, &QComboBox::currentIndexChanged, this,
          [this](int index) { setProtocol(static_cast<SegmentationProtocol>(protocolBox_->itemData(index).toInt())); });
  connect(dataBox_, &QComboBox::activated, this, &SegmentationQualityView::onDataChosen);
  connect(limit_, &QSpinBox::valueChanged, this, [this](int limit) { data_.limit = limit; });
  connect(kSlider_, &QSlider::valueChanged, this, [this](int k) {
    kLabel_->setText(tr("K = %1").arg(k));
    kTimer_->start();
  });
  connect(kTimer_, &QTimer::timeout, this, [this] { guardSlot("re-cluster", [this] { recluster(); }); });
  connect(evaluate_, &QPushButton::clicked, this, [this] { guardSlot("evaluate", [this] { evaluate(); }); });
  connect(keepBase_, &QPushButton::clicked, this, &SegmentationQualityView::keepAsBase);
  connect(overlayBox_, &QComboBox::currentIndexChanged, this,
          [this](int index) { setOverlayMode(static_cast<OverlayMode>(index)); });
  connect(opacitySlider_, &QSlider::valueChanged, this, [this](int v) { setOpacity(v / 100.0); });
  kLabel_->setText(tr("K = %1").arg(kSlider_->value()));
  return box;
}

QWidget* SegmentationQualityView::buildViews() {
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->setChildrenCollapsible(false);

  auto* listPane = new QWidget(splitter);
  auto* listLayout = new QVBoxLayout(listPane);
  listLayout->setContentsMargins(0, 0, 0, 0);
  auto* titleRow = new QHBoxLayout;
  listTitle_ = new QLabel(listPane);
  listTitle_->setWordWrap(true);
  showAll_ = new QPushButton(tr("Show All"), listPane);
  showAll_->setToolTip(tr("Back to every image, worst first"));
  showAll_->hide();
  titleRow->addWidget(listTitle_, 1);
  titleRow->addWidget(showAll_);
  images_ = new QTreeWidget(listPane);
  images_->setRootIsDecorated(false);
  images_->setUniformRowHeights(true);
  images_->setHeaderLabels({tr("Image"), tr("mIoU")});
  images_->header()->setStretchLastSection(false);
  images_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  images_->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  images_->header()->setMinimumSectionSize(40);
  listLayout->addLayout(titleRow);
  listLayout->addWidget(images_, 1);
  connect(showAll_, &QPushButton::clicked, this, &SegmentationQualityView::clearCellFilter);
  connect(images_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
    if (item) guardSlot("select image", [&] { selectImage(item->data(0, Qt::UserRole).toInt()); });
  });

  auto* imagePane = new QWidget(splitter);
  auto* imageLayout = new QVBoxLayout(imagePane);
  imageLayout->setContentsMargins(0, 0, 0, 0);
  canvas_ = new OverlayCanvas(imagePane);
  legend_ = new QListWidget(imagePane);
  legend_->setFlow(QListView::LeftToRight);
  legend_->setWrapping(true);
  legend_->setResizeMode(QListView::Adjust);
  legend_->setSpacing(2);
  legend_->setMaximumHeight(72);
  legend_->setToolTip(tr("Click a class to recolour it"));
  imageLayout->addWidget(canvas_, 1);
  imageLayout->addWidget(legend_);
  connect(legend_, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
    const int c = item->data(Qt::UserRole).toInt();
    if (c >= 0) pickClassColour(c);
  });

  classes_ = new QTableWidget(0, 4, splitter);
  classes_->setHorizontalHeaderLabels({tr("Class"), tr("IoU"), tr("Base"), tr("Δ")});
  classes_->verticalHeader()->hide();
  classes_->setWordWrap(false);
  classes_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  classes_->setSelectionBehavior(QAbstractItemView::SelectRows);
  classes_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  for (int c = 1; c < 4; ++c) classes_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  classes_->setSortingEnabled(true);
  classes_->sortByColumn(0, Qt::AscendingOrder);

  confusion_ = new ConfusionMatrixWidget(splitter);
  connect(confusion_, &ConfusionMatrixWidget::cellClicked, this, [this](int gt, int prediction) {
    guardSlot("confusion cell", [&] { selectConfusionCell(gt, prediction); });
  });
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 4);
  splitter->setStretchFactor(2, 2);
  splitter->setStretchFactor(3, 3);
  splitter->setSizes({250, 520, 330, 400});  // ids, numbers and names readable from the start
  return splitter;
}

}  // namespace neco::ui

#include "neco/ui/SegmentationQualityView.h"

#include "SegmentationQualityDetail.h"
#include "SlotGuard.h"
#include "neco/ui/ConfusionMatrixWidget.h"
#include "neco/ui/ImageConversion.h"

#include <QColorDialog>
#include <QComboBox>
#include <QFileDialog>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace neco::ui {

using detail::expectedClasses;
using detail::kMaxK;

namespace {

const char* const kDataKinds[] = {"demo", "voc", "ade20k", "cityscapes"};  // the data combo's order

// A table cell that sorts by the number in Qt::UserRole, not by its text.
class NumericItem : public QTableWidgetItem {
 public:
  NumericItem(const QString& text, double key) : QTableWidgetItem(text) { setData(Qt::UserRole, key); }
  bool operator<(const QTableWidgetItem& other) const override {
    return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
  }
};

QString percent(double v) {
  return std::isnan(v) ? QStringLiteral("—") : QStringLiteral("%1 %").arg(100.0 * v, 0, 'f', 1);
}

QIcon swatch(const QColor& colour) {
  QPixmap pixmap(14, 14);
  pixmap.fill(colour);
  QPainter p(&pixmap);
  p.setPen(QColor(60, 60, 60));
  p.drawRect(0, 0, 13, 13);
  return QIcon(pixmap);
}

QIcon ignoreSwatch() {
  QImage image(14, 14, QImage::Format_RGB888);
  for (int y = 0; y < 14; ++y)
    for (int x = 0; x < 14; ++x) image.setPixelColor(x, y, isIgnoreStripe(x, y) ? kIgnoreColour : QColor(90, 90, 90));
  return QIcon(QPixmap::fromImage(image));
}

}  // namespace

SegmentationQualityView::SegmentationQualityView(QWidget* parent)
    : QWidget(parent), evaluator_(new SegmentationEvaluator(this)), options_(studioSegmentationDefaults()) {
  palette_ = neco::ui::classPalette(data_.kind, 0);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(buildControls());
  layout->addWidget(buildViews(), 1);
  connect(evaluator_, &SegmentationEvaluator::finished, this,
          [this](quint64 id, const OutcomePtr& o) { guardSlot("evaluation finished", [&] { onFinished(id, o); }); });
  connect(evaluator_, &SegmentationEvaluator::failed, this, &SegmentationQualityView::onFailed);
  connect(evaluator_, &SegmentationEvaluator::progress, this, &SegmentationQualityView::onProgress);
  refreshStatus();
}

SegmentationQualityView::~SegmentationQualityView() {
  delete evaluator_;  // stops a running job and joins while this view is still whole
}

void SegmentationQualityView::setModel(std::shared_ptr<const FeatureExtractor> model, const QString& label) {
  if (!model) return;
  model_ = std::move(model);
  modelLabel_ = label;
  evaluate_->setEnabled(true);
  refreshStatus();
}

void SegmentationQualityView::setDataChoice(const EvaluationDataChoice& choice) {
  data_ = choice;
  const auto* kind = std::find_if(std::begin(kDataKinds), std::end(kDataKinds),
                                  [&](const char* k) { return choice.kind == QLatin1String(k); });
  dataBox_->setCurrentIndex(kind == std::end(kDataKinds) ? 0 : static_cast<int>(kind - std::begin(kDataKinds)));
  limit_->setEnabled(choice.kind != QLatin1String("demo"));
  {
    const QSignalBlocker block(limit_);
    limit_->setValue(choice.limit);
  }
  {
    const QSignalBlocker block(kSlider_);  // K = classes of the new data, until a result says otherwise
    const int classes = expectedClasses(choice.kind);
    kSlider_->setRange(classes, std::max(kMaxK, 2 * classes));
    kLabel_->setText(tr("K = %1").arg(kSlider_->value()));
  }
  refreshStatus();
}

void SegmentationQualityView::onDataChosen(int index) {
  EvaluationDataChoice choice;
  choice.kind = QString::fromLatin1(kDataKinds[std::clamp(index, 0, 3)]);
  choice.limit = limit_->value();
  if (choice.kind != QLatin1String("demo")) {
    choice.root = QFileDialog::getExistingDirectory(this, tr("%1 dataset folder").arg(dataBox_->itemText(index)),
                                                    data_.kind == choice.kind ? data_.root : QString());
    if (choice.root.isEmpty()) return setDataChoice(data_);  // cancelled: the previous data stays
  }
  setDataChoice(choice);
}

void SegmentationQualityView::setProtocol(SegmentationProtocol protocol) {
  protocol_ = protocol;
  {
    const QSignalBlocker block(protocolBox_);
    protocolBox_->setCurrentIndex(static_cast<int>(protocol));
  }
  kSlider_->setEnabled(protocol == SegmentationProtocol::Overcluster);
  const OutcomePtr& latest = latestOutcomes_[static_cast<std::size_t>(protocol)];
  if (latest != outcome_) showOutcome(latest);
  refreshStatus();
}

void SegmentationQualityView::setK(int k) {
  kSlider_->setValue(k);
}

int SegmentationQualityView::k() const {
  return kSlider_->value();
}

void SegmentationQualityView::setOverlayMode(OverlayMode mode) {
  mode_ = mode;
  {
    const QSignalBlocker block(overlayBox_);
    overlayBox_->setCurrentIndex(static_cast<int>(mode));
  }
  refreshOverlay();
}

void SegmentationQualityView::setOpacity(double opacity) {
  opacity_ = std::clamp(opacity, 0.0, 1.0);
  {
    const QSignalBlocker block(opacitySlider_);
    opacitySlider_->setValue(static_cast<int>(std::lround(opacity_ * 100)));
  }
  refreshOverlay();
}

SegmentationRequest SegmentationQualityView::makeRequest(SegmentationProtocol protocol) const {
  SegmentationRequest r = options_;
  r.protocol = protocol;
  r.model = model_;
  r.modelLabel = modelLabel_;
  r.data = data_;
  r.k = kSlider_->value();
  return r;
}

void SegmentationQualityView::evaluate() {
  if (!model_) {
    error_ = tr("No model to evaluate yet.");
    return refreshStatus();
  }
  kTimer_->stop();  // this evaluation already takes the slider's K
  latest_ = evaluator_->request(makeRequest(protocol_));
  evaluating_ = true;
  error_.clear();
  progress_->setRange(0, 0);  // busy until the first report
  progress_->setFormat(tr("starting…"));
  refreshStatus();
}

void SegmentationQualityView::recluster() {
  // Only a shown overclustering result follows the slider; before one, K waits for Evaluate.
  const OutcomePtr& shown = latestOutcomes_[static_cast<std::size_t>(SegmentationProtocol::Overcluster)];
  if (protocol_ != SegmentationProtocol::Overcluster || !shown || shown->k == kSlider_->value()) return;
  evaluate();
}

void SegmentationQualityView::onProgress(quint64 id, qint64 done, qint64 total, const QString& stage) {
  if (id != latest_) return;
  progress_->setRange(0, static_cast<int>(std::max<qint64>(1, total)));
  progress_->setValue(static_cast<int>(std::min(done, total)));
  progress_->setFormat(QStringLiteral("%1  %p%").arg(stage));
}

void SegmentationQualityView::onFinished(quint64 id, const OutcomePtr& outcome) {
  if (id != latest_ || !outcome) return;  // superseded
  evaluating_ = false;
  progress_->setRange(0, 1);
  progress_->setValue(1);
  progress_->setFormat(tr("done in %1 s").arg(outcome->seconds, 0, 'f', 1));
  latestOutcomes_[static_cast<std::size_t>(outcome->protocol)] = outcome;
  const QString key = baseKey(*outcome);
  if (!bases_.contains(key)) bases_.insert(key, outcome);  // the first result is the base until replaced
  if (outcome->protocol == protocol_) showOutcome(outcome);
  refreshStatus();
}

void SegmentationQualityView::onFailed(quint64 id, const QString& message) {
  if (id != latest_) return;
  evaluating_ = false;
  error_ = message;
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setFormat(tr("failed"));
  refreshStatus();
  Q_EMIT evaluationFailed(message);
}

QString SegmentationQualityView::baseKey(const SegmentationOutcome& o) const {
  return QStringLiteral("%1|%2|%3")
      .arg(static_cast<int>(o.protocol))
      .arg(QString::fromStdString(o.dataset), QString::fromStdString(o.data));
}

OutcomePtr SegmentationQualityView::baseOutcome() const {
  return outcome_ ? bases_.value(baseKey(*outcome_)) : nullptr;
}

void SegmentationQualityView::keepAsBase() {
  if (!outcome_) return;
  bases_.insert(baseKey(*outcome_), outcome_);
  refreshClassTable();
  refreshStatus();
}

void SegmentationQualityView::showOutcome(OutcomePtr outcome) {
  const bool sameImages = outcome && outcome_ && outcome->imageIds == outcome_->imageIds;
  outcome_ = std::move(outcome);
  cellFilter_.reset();
  keepBase_->setEnabled(outcome_ != nullptr);
  if (!outcome_) {
    image_ = -1;
    imagePixels_ = QImage();
    confusion_->clear();
    refreshImageList();
    refreshClassTable();
    refreshLegend();
    refreshOverlay();
    Q_EMIT outcomeChanged();
    return;
  }
  const QString dataset = QString::fromStdString(outcome_->dataset);
  palette_ = neco::ui::classPalette(dataset, outcome_->classes, outcome_->classNames);
  for (auto it = recoloured_[dataset].cbegin(); it != recoloured_[dataset].cend(); ++it)
    palette_.colours[static_cast<std::size_t>(it.key())] = it.value();
  if (outcome_->protocol == SegmentationProtocol::Overcluster) {
    const QSignalBlocker block(kSlider_);  // showing a result is no request for another K
    kSlider_->setRange(outcome_->classes, std::max(kMaxK, 2 * outcome_->classes));
    kSlider_->setValue(outcome_->k);
    kLabel_->setText(tr("K = %1").arg(outcome_->k));
  }
  confusion_->setMatrix(outcome_->classes, outcome_->confusion, palette_.names);
  confusion_->setClassColours(palette_.colours);
  refreshLegend();
  refreshClassTable();
  refreshImageList();
  const int count = static_cast<int>(outcome_->predictions.size());
  if (sameImages && image_ >= 0 && image_ < count) {
    const int keep = image_;
    image_ = -1;  // re-read: the outcome changed
    selectImage(keep);
  } else {
    image_ = -1;
    if (imageListCount() > 0) selectImage(imageListEntry(0));  // the worst image
  }
  Q_EMIT outcomeChanged();
}

void SegmentationQualityView::selectImage(int image) {
  if (!outcome_ || image < 0 || image >= static_cast<int>(outcome_->predictions.size())) return;
  if (image != image_) {
    image_ = image;
    const LabelImage& target = outcome_->targets[static_cast<std::size_t>(image)];
    try {
      imagePixels_ = outcome_->images ? toQImage(outcome_->images->image(static_cast<std::size_t>(image))) : QImage();
    } catch (const std::exception& e) {
      error_ = tr("Cannot read image %1: %2")
                   .arg(QString::fromStdString(outcome_->imageIds[static_cast<std::size_t>(image)]),
                        QString::fromStdString(e.what()));
      imagePixels_ = QImage();
      refreshStatus();
    }
    if (imagePixels_.isNull()) {  // still show the maps, over grey
      imagePixels_ = QImage(target.width, target.height, QImage::Format_RGB888);
      imagePixels_.fill(QColor(128, 128, 128));
    }
  }
  for (int row = 0; row < images_->topLevelItemCount(); ++row) {
    QTreeWidgetItem* item = images_->topLevelItem(row);
    if (item->data(0, Qt::UserRole).toInt() == image && images_->currentItem() != item) {
      const QSignalBlocker block(images_);
      images_->setCurrentItem(item);
      images_->scrollToItem(item);
    }
  }
  refreshOverlay();
}

void SegmentationQualityView::selectConfusionCell(int gt, int prediction) {
  if (!outcome_ || gt < 0 || prediction < 0 || gt >= outcome_->classes || prediction >= outcome_->classes) return;
  cellFilter_ = std::make_pair(gt, prediction);
  confusion_->setSelectedCell(ConfusionMatrixWidget::Cell{gt, prediction});
  refreshImageList();
  if (imageListCount() > 0) selectImage(imageListEntry(0));
}

void SegmentationQualityView::clearCellFilter() {
  cellFilter_.reset();
  confusion_->setSelectedCell(std::nullopt);
  refreshImageList();
  selectImage(image_);
}

std::vector<std::pair<int, std::int64_t>> SegmentationQualityView::confusionCellImages(int gt, int prediction) const {
  return outcome_ ? cellImages(*outcome_, gt, prediction) : std::vector<std::pair<int, std::int64_t>>{};
}

int SegmentationQualityView::imageListCount() const {
  return images_->topLevelItemCount();
}

int SegmentationQualityView::imageListEntry(int row) const {
  const QTreeWidgetItem* item = images_->topLevelItem(row);
  return item ? item->data(0, Qt::UserRole).toInt() : -1;
}

void SegmentationQualityView::refreshImageList() {
  const QSignalBlocker block(images_);
  images_->clear();
  showAll_->setVisible(cellFilter_.has_value());
  if (!outcome_) {
    listTitle_->setText(tr("Images"));
    return;
  }
  const auto add = [this](int image, const QString& extra) {
    const std::size_t i = static_cast<std::size_t>(image);
    auto* item = new QTreeWidgetItem(images_);
    item->setText(0, QString::fromStdString(outcome_->imageIds[i]));
    item->setText(1, percent(outcome_->imageMiou[i]));
    item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
    if (!extra.isEmpty()) item->setText(2, extra);
    item->setData(0, Qt::UserRole, image);
  };
  if (cellFilter_) {
    const auto [gt, prediction] = *cellFilter_;
    const auto hits = cellImages(*outcome_, gt, prediction);
    images_->setColumnCount(3);
    images_->setHeaderLabels({tr("Image"), tr("mIoU"), tr("Pixels")});
    for (const auto& [image, pixels] : hits) add(image, QString::number(pixels));
    listTitle_->setText(tr("%1 → predicted %2: %n image(s), most pixels first", nullptr, static_cast<int>(hits.size()))
                            .arg(palette_.names.value(gt), palette_.names.value(prediction)));
  } else {
    images_->setColumnCount(2);  // no pixel counts
    images_->setHeaderLabels({tr("Image"), tr("mIoU")});
    for (int image : worstFirst(*outcome_)) add(image, {});
    listTitle_->setText(tr("%n image(s), worst first", nullptr, images_->topLevelItemCount()));
  }
}

void SegmentationQualityView::refreshClassTable() {
  classes_->setSortingEnabled(false);
  classes_->setRowCount(0);
  if (outcome_) {
    const OutcomePtr base = baseOutcome();
    const bool comparable = base && base->classes == outcome_->classes && base->iou.size() == outcome_->iou.size();
    classes_->setRowCount(outcome_->classes);
    for (int c = 0; c < outcome_->classes; ++c) {
      const std::size_t i = static_cast<std::size_t>(c);
      const double iou = i < outcome_->iou.size() ? outcome_->iou[i] : std::nan("");
      const double was = comparable ? base->iou[i] : std::nan("");
      const double delta = iou - was;
      auto* name = new NumericItem(palette_.names.value(c), c);
      name->setIcon(swatch(classColor(c)));
      classes_->setItem(c, 0, name);
      classes_->setItem(c, 1, new NumericItem(percent(iou), std::isnan(iou) ? -1.0 : iou));
      classes_->setItem(c, 2, new NumericItem(percent(was), std::isnan(was) ? -1.0 : was));
      const QString deltaText = std::isnan(delta)
                                    ? QStringLiteral("—")
                                    : QStringLiteral("%1%2").arg(delta >= 0 ? "+" : "").arg(100.0 * delta, 0, 'f', 1);
      auto* change = new NumericItem(deltaText, std::isnan(delta) ? 0.0 : delta);
      if (delta > 5e-4) change->setForeground(QColor(0, 140, 0));
      if (delta < -5e-4) change->setForeground(QColor(200, 0, 0));
      classes_->setItem(c, 3, change);
      for (int col = 1; col < 4; ++col) classes_->item(c, col)->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
  }
  classes_->setSortingEnabled(true);
}

void SegmentationQualityView::refreshLegend() {
  legend_->clear();
  if (!outcome_) return;
  for (int c = 0; c < outcome_->classes; ++c) {
    if (c == outcome_->ignoreIndex) continue;  // ADE20K's "other": drawn as ignore
    auto* item = new QListWidgetItem(swatch(classColor(c)), palette_.names.value(c), legend_);
    item->setData(Qt::UserRole, c);
    item->setToolTip(tr("%1 (class %2): click to recolour").arg(palette_.names.value(c)).arg(c));
  }
  auto* ignore = new QListWidgetItem(ignoreSwatch(), tr("ignore"), legend_);
  ignore->setData(Qt::UserRole, -1);
  ignore->setToolTip(tr("Pixels the ground truth leaves out (value %1 or 255): not scored").arg(outcome_->ignoreIndex));
}

QColor SegmentationQualityView::classColor(int classIndex) const {
  if (classIndex < 0 || static_cast<std::size_t>(classIndex) >= palette_.colours.size()) return {};
  return palette_.colours[static_cast<std::size_t>(classIndex)];
}

void SegmentationQualityView::setClassColor(int classIndex, const QColor& colour) {
  if (classIndex < 0 || classIndex > 254 || !colour.isValid()) return;  // 255 is never a class
  recoloured_[palette_.dataset].insert(classIndex, colour);
  palette_.colours[static_cast<std::size_t>(classIndex)] = colour;
  refreshLegend();
  refreshClassTable();
  confusion_->setClassColours(palette_.colours);
  refreshOverlay();
}

void SegmentationQualityView::pickClassColour(int classIndex) {
  // A non-modal dialog: no nested event loop inside a slot.
  auto* dialog = new QColorDialog(classColor(classIndex), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setWindowTitle(tr("Colour of %1").arg(palette_.names.value(classIndex)));
  connect(dialog, &QColorDialog::colorSelected, this,
          [this, classIndex](const QColor& colour) { setClassColor(classIndex, colour); });
  dialog->open();
}

void SegmentationQualityView::refreshOverlay() {
  if (!outcome_ || image_ < 0) {
    overlay_ = QImage();
    canvas_->setImage(overlay_, outcome_ ? QString() : tr("Press Evaluate to score the current model"));
    return;
  }
  const std::size_t i = static_cast<std::size_t>(image_);
  OverlayInput in;
  in.image = imagePixels_;
  in.target = &outcome_->targets[i];
  in.prediction = &outcome_->predictions[i];
  in.mode = mode_;
  in.colours = &palette_.colours;
  in.opacity = opacity_;
  in.classes = outcome_->classes;
  in.ignoreIndex = outcome_->ignoreIndex;
  overlay_ = composeOverlay(in);
  const QString what = mode_ == OverlayMode::GroundTruth  ? tr("ground truth")
                       : mode_ == OverlayMode::Prediction ? tr("prediction")
                                                          : tr("errors (prediction ≠ ground truth)");
  canvas_->setImage(overlay_,
                    tr("%1 — mIoU %2 — %3")
                        .arg(QString::fromStdString(outcome_->imageIds[i]), percent(outcome_->imageMiou[i]), what));
}

QString SegmentationQualityView::statusText() const {
  return status_->text();
}

QString SegmentationQualityView::errorText() const {
  return error_;
}

void SegmentationQualityView::refreshStatus() {
  errorLabel_->setText(error_);
  errorLabel_->setVisible(!error_.isEmpty());
  if (!outcome_) {
    status_->setText(model_ ? tr("Press Evaluate to score %1 with %2.").arg(modelLabel_, tr(protocolName(protocol_)))
                            : tr("No model yet."));
    return;
  }
  const SegmentationOutcome& o = *outcome_;
  QString how = tr(protocolName(o.protocol));
  if (o.protocol == SegmentationProtocol::Overcluster)
    how += tr(", K = %1 (%2)").arg(o.k).arg(QString::fromStdString(o.matching));
  QString text = tr("mIoU %1 (all classes) · %2 (present classes) · pixel accuracy %3   |   %4 · %5 · %6")
                     .arg(percent(o.miou), percent(o.miouPresent), percent(o.pixelAccuracy), how,
                          QString::fromStdString(o.data), QString::fromStdString(o.modelLabel));
  if (const OutcomePtr base = baseOutcome(); base && base != outcome_)
    text += tr("   |   Δ mIoU vs base %1%2 points")
                .arg(o.miou >= base->miou ? "+" : "")
                .arg(100.0 * (o.miou - base->miou), 0, 'f', 1);
  if (model_ && modelLabel_ != QString::fromStdString(o.modelLabel))
    text += tr("   |   the current model is %1").arg(modelLabel_);
  if (evaluating_) text += tr("   |   evaluating…");
  status_->setText(text);
}

}  // namespace neco::ui

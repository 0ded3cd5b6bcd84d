#include "neco/ui/PermutationView.h"

#include "SlotGuard.h"
#include "neco/ui/CrossEntropyStrip.h"
#include "neco/ui/PermutationMatrixWidget.h"
#include "neco/ui/ReferencePatches.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace neco::ui {
namespace {

constexpr int kSliderSteps = 300;  // 10^0 .. 10^3, 100 steps per decade
constexpr double kDefaultSteepness = 100.0;

QString steepnessText(double steepness) {
  return QString::number(steepness, 'f', steepness >= 100 ? 0 : steepness >= 10 ? 1 : 2);
}

QSlider* makeSteepnessSlider(QWidget* parent, const QString& who) {
  auto* slider = new QSlider(Qt::Horizontal, parent);
  slider->setRange(0, kSliderSteps);
  slider->setValue(PermutationView::positionOf(kDefaultSteepness));
  slider->setPageStep(50);
  slider->setToolTip(QObject::tr("%1 steepness, log scale 1 … 1000 (NeCo uses 100)").arg(who));
  return slider;
}

}  // namespace

PermutationView::PermutationView(QWidget* parent)
    : QWidget(parent),
      caption_(new QLabel(this)),
      studentSlider_(makeSteepnessSlider(this, tr("Student"))),
      teacherSlider_(makeSteepnessSlider(this, tr("Teacher"))),
      studentValue_(new QLabel(steepnessText(kDefaultSteepness), this)),
      teacherValue_(new QLabel(steepnessText(kDefaultSteepness), this)),
      network_(new QComboBox(this)),
      relaxation_(new QComboBox(this)),
      warning_(new QLabel(this)),
      studentMatrix_(new PermutationMatrixWidget(this)),
      teacherMatrix_(new PermutationMatrixWidget(this)),
      strip_(new CrossEntropyStrip(this)),
      loss_(new QLabel(this)),
      meanCrossEntropy_(std::numeric_limits<double>::quiet_NaN()),
      studentSteepness_(kDefaultSteepness),
      teacherSteepness_(kDefaultSteepness) {
  studentMatrix_->setObjectName(QStringLiteral("studentMatrix"));
  teacherMatrix_->setObjectName(QStringLiteral("teacherMatrix"));
  strip_->alignRowsWith(studentMatrix_);
  buildControls();
  showResult();
}

PermutationView::~PermutationView() = default;

void PermutationView::buildControls() {
  caption_->setWordWrap(true);
  caption_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // wraps instead of widening the dock
  caption_->setToolTip(
      tr("NeCo sorts, for every source patch, its cosine similarities to 7 × 7 = 49 reference patches (in training "
         "drawn from a queue of teacher features). Here the references are an evenly spaced 7 × 7 sub-grid of this "
         "image's patch grid (bin centres; an axis with fewer than 7 patches uses all of them, so n can be smaller "
         "than 49). They are marked with dots on the image.\n\nThe studio holds one model: the teacher sorts the same "
         "features as the student and differs only by its steepness."));
  for (SortNetworkKind kind : {SortNetworkKind::Bitonic, SortNetworkKind::OddEven})
    network_->addItem(QString::fromLatin1(sortNetworkName(kind)), static_cast<int>(kind));
  network_->setToolTip(
      tr("Sorting network: bitonic (NeCo's, 21 layers for n = 49) or odd-even transposition (n layers)"));
  for (SortRelaxation r : allSortRelaxations())
    relaxation_->addItem(QString::fromLatin1(sortRelaxationName(r)), static_cast<int>(r));
  relaxation_->setToolTip(tr("How a comparator's swap weight follows the difference of its inputs (NeCo: cauchy)"));
  warning_->setWordWrap(true);
  warning_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  warning_->setStyleSheet(QStringLiteral("QLabel { color: #b00020; font-weight: bold; }"));
  warning_->setObjectName(QStringLiteral("permutationWarning"));
  loss_->setWordWrap(true);
  loss_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  loss_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  loss_->setObjectName(QStringLiteral("permutationLoss"));

  auto sliderRow = [this](QSlider* slider, QLabel* value) {
    value->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("0000.0")));
    value->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    auto* row = new QHBoxLayout;
    row->addWidget(slider, 1);
    row->addWidget(value);
    return row;
  };
  auto* choices = new QHBoxLayout;
  choices->addWidget(network_, 1);
  choices->addWidget(new QLabel(tr("Relaxation"), this));
  choices->addWidget(relaxation_, 1);
  auto* form = new QFormLayout;
  form->addRow(tr("Student steepness"), sliderRow(studentSlider_, studentValue_));
  form->addRow(tr("Teacher steepness"), sliderRow(teacherSlider_, teacherValue_));
  form->addRow(tr("Network"), choices);
  auto* matrices = new QHBoxLayout;
  matrices->setSpacing(4);
  matrices->addWidget(studentMatrix_, 1);
  matrices->addWidget(teacherMatrix_, 1);
  matrices->addWidget(strip_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(caption_);
  layout->addLayout(form);
  layout->addWidget(warning_);
  layout->addLayout(matrices);
  layout->addWidget(loss_);
  layout->addStretch(1);  // the matrices stay square; spare height goes below

  connect(studentSlider_, &QSlider::valueChanged, this, [this](int position) {
    studentSteepness_ = steepnessAt(position);
    studentValue_->setText(steepnessText(studentSteepness_));
    resort();
  });
  connect(teacherSlider_, &QSlider::valueChanged, this, [this](int position) {
    teacherSteepness_ = steepnessAt(position);
    teacherValue_->setText(steepnessText(teacherSteepness_));
    resort();
  });
  connect(network_, &QComboBox::currentIndexChanged, this, [this] { resort(); });
  connect(relaxation_, &QComboBox::currentIndexChanged, this, [this] { resort(); });
}

double PermutationView::steepnessAt(int position) {
  return std::pow(10.0, std::clamp(position, 0, kSliderSteps) / 100.0);
}

int PermutationView::positionOf(double steepness) {
  if (!(steepness > 0.0)) return 0;
  return std::clamp(static_cast<int>(std::lround(100.0 * std::log10(steepness))), 0, kSliderSteps);
}

// The exact value is kept (the slider has 100 steps per decade); the slider only follows it.
void PermutationView::setStudentSteepness(double steepness) {
  studentSteepness_ = std::clamp(steepness, steepnessAt(0), steepnessAt(kSliderSteps));
  const QSignalBlocker block(studentSlider_);
  studentSlider_->setValue(positionOf(studentSteepness_));
  studentValue_->setText(steepnessText(studentSteepness_));
  resort();
}

void PermutationView::setTeacherSteepness(double steepness) {
  teacherSteepness_ = std::clamp(steepness, steepnessAt(0), steepnessAt(kSliderSteps));
  const QSignalBlocker block(teacherSlider_);
  teacherSlider_->setValue(positionOf(teacherSteepness_));
  teacherValue_->setText(steepnessText(teacherSteepness_));
  resort();
}

void PermutationView::setNetwork(SortNetworkKind kind) {
  network_->setCurrentIndex(network_->findData(static_cast<int>(kind)));
}
void PermutationView::setRelaxation(SortRelaxation relaxation) {
  relaxation_->setCurrentIndex(relaxation_->findData(static_cast<int>(relaxation)));
}
double PermutationView::studentSteepness() const {
  return studentSteepness_;
}
double PermutationView::teacherSteepness() const {
  return teacherSteepness_;
}
SortNetworkKind PermutationView::network() const {
  return static_cast<SortNetworkKind>(network_->currentData().toInt());
}
SortRelaxation PermutationView::relaxation() const {
  return static_cast<SortRelaxation>(relaxation_->currentData().toInt());
}

SoftSortSettings PermutationView::studentSettings() const {
  SoftSortSettings s;
  s.network = network();
  s.relaxation = relaxation();
  s.steepness = studentSteepness();
  return s;
}

SoftSortSettings PermutationView::teacherSettings() const {
  SoftSortSettings s = studentSettings();
  s.steepness = teacherSteepness();
  return s;
}

void PermutationView::setColormap(ColormapKind kind) {
  studentMatrix_->setColormap(kind);
  teacherMatrix_->setColormap(kind);
}

void PermutationView::setSource(FeaturesPtr features, std::optional<QPoint> patch) {
  if (features == features_ && patch == patch_) return;
  features_ = std::move(features);
  patch_ = features_ ? patch : std::nullopt;
  const std::vector<QPoint> previous = references_;
  rebuildRow();
  if (references_ != previous) Q_EMIT referencePatchesChanged(QList<QPoint>(references_.begin(), references_.end()));
  resort();
}

void PermutationView::rebuildRow() {
  references_.clear();
  similarities_.clear();
  error_.clear();
  if (!features_ || !patch_) return;
  references_ = referencePatchGrid(features_->gridW, features_->gridH);
  try {
    similarities_ = referenceSimilarities(*features_, *patch_, references_);
  } catch (const std::exception& e) {
    error_ = QString::fromStdString(e.what());
  }
}

void PermutationView::resort() {
  guardSlot("permutation view", [this] { sortRow(); });
  showResult();
  Q_EMIT sorted();
}

void PermutationView::sortRow() {
  student_.reset();
  teacher_.reset();
  crossEntropy_.clear();
  meanCrossEntropy_ = std::numeric_limits<double>::quiet_NaN();
  layout_ = SortNetworkLayout{};
  const int n = static_cast<int>(similarities_.size());
  if (n == 0) return;
  if (n < 2) {
    error_ = tr("The patch grid has a single patch: there is no row to sort (n = 1).");
    return;
  }
  try {
    error_.clear();
    layout_ = sortNetworkLayout(network(), n);
    student_ = softSortRow(similarities_, studentSettings());
    teacher_ = softSortRow(similarities_, teacherSettings());
    crossEntropy_ = rankCrossEntropy(*teacher_, *student_);
    meanCrossEntropy_ = std::accumulate(crossEntropy_.begin(), crossEntropy_.end(), 0.0) / n;
  } catch (const std::exception& e) {
    error_ = tr("Cannot sort the row: %1").arg(QString::fromStdString(e.what()));
    student_.reset();
    teacher_.reset();
    crossEntropy_.clear();
    meanCrossEntropy_ = std::numeric_limits<double>::quiet_NaN();
  }
}

QString PermutationView::warningText() const {
  QStringList parts;
  if (!error_.isEmpty()) parts << error_;
  if (layout_.n > 0 && !layout_.valid) {
    parts << (layout_.warning.empty() ? tr("The %1 network does not sort every input of size %2.")
                                            .arg(QString::fromLatin1(sortNetworkName(layout_.kind)))
                                            .arg(layout_.n)
                                      : QString::fromStdString(layout_.warning));
  }
  return parts.join(QLatin1Char('\n'));
}

void PermutationView::showResult() {
  updateCaption();
  const QString warning = warningText();
  warning_->setText(warning);
  warning_->setVisible(!warning.isEmpty());
  studentMatrix_->setTitle(tr("Student p   s = %1").arg(steepnessText(studentSteepness())));
  teacherMatrix_->setTitle(tr("Teacher q   s = %1").arg(steepnessText(teacherSteepness())));
  studentMatrix_->setElementPatches(references_);
  teacherMatrix_->setElementPatches(references_);
  if (student_ && teacher_) {
    studentMatrix_->setMatrix(student_->n, student_->permutation);
    teacherMatrix_->setMatrix(teacher_->n, teacher_->permutation);
    strip_->setValues(crossEntropy_);
    loss_->setText(tr("NeCo loss for patch (%1, %2): mean cross-entropy %3 over n = %4 references")
                       .arg(patch_->x())
                       .arg(patch_->y())
                       .arg(meanCrossEntropy_, 0, 'f', 4)
                       .arg(student_->n));
  } else {
    studentMatrix_->clear();
    teacherMatrix_->clear();
    strip_->setValues({});
    loss_->setText(features_ ? tr("Click a patch to sort its row.") : tr("No features yet."));
  }
}

void PermutationView::updateCaption() {
  if (!features_ || !patch_ || references_.empty()) {
    caption_->setText(tr("Rows = reference e, columns = ascending rank r (nearest neighbour in the last column)."));
    return;
  }
  const int side = kReferenceGridSide;
  caption_->setText(tr("Patch (%1, %2) vs n = %3 references: an evenly spaced %4 × %5 sub-grid of the %6 × %7 patch "
                       "grid (dots). Rows = reference e, columns = rank r, nearest last. Teacher = same model, own "
                       "steepness.")
                        .arg(patch_->x())
                        .arg(patch_->y())
                        .arg(references_.size())
                        .arg(std::min(side, features_->gridW))
                        .arg(std::min(side, features_->gridH))
                        .arg(features_->gridW)
                        .arg(features_->gridH));
}

}  // namespace neco::ui

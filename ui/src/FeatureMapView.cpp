#include "neco/ui/FeatureMapView.h"

#include "FeatureMapWorker.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/SegmentationPalette.h"
#include "neco/core/Error.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace neco::ui {
namespace {

constexpr int kPercentScale = 100;          // sliders run over whole percents
constexpr int kDefaultThresholdPercent = 50;
constexpr int kDefaultOpacityPercent = 80;
constexpr std::uint64_t kClusterSeed = 0;   // a fixed seed: the same features always give the same map
constexpr int kControlsWidth = 260;

QString channelName(int channel) {
  static const char* const names[] = {"R", "G", "B"};
  return QString::fromLatin1(names[channel]);
}

}  // namespace

FeatureMapView::FeatureMapView(QWidget* parent) : QWidget(parent) {
  canvas_ = new PatchCanvas(this);
  canvas_->setOverlayOpacity(double(kDefaultOpacityPercent) / kPercentScale);
  worker_ = new FeatureMapWorker(this);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(canvas_, 1);
  layout->addWidget(buildControls());
  connectControls();
  refresh();
}

FeatureMapView::~FeatureMapView() {
  delete worker_;  // joins the thread while the view is whole (a child would outlive ~FeatureMapView)
}

QWidget* FeatureMapView::buildControls() {
  auto* panel = new QWidget(this);
  panel->setFixedWidth(kControlsWidth);
  mode_ = new QComboBox(panel);
  mode_->addItem(tr("PCA-RGB"), int(FeatureMapMode::PcaRgb));
  mode_->addItem(tr("k-means"), int(FeatureMapMode::KMeans));
  auto* channelRow = new QHBoxLayout;
  for (int ch = 0; ch < 3; ++ch) {
    auto* box = new QSpinBox(panel);
    box->setRange(1, kBasisComponents);
    box->setValue(ch + 1);
    box->setPrefix(channelName(ch) + QStringLiteral(" "));
    box->setToolTip(tr("Principal component shown in %1 (1 = largest variance)").arg(channelName(ch)));
    channels_[static_cast<std::size_t>(ch)] = box;
    channelRow->addWidget(box);
  }
  background_ = new QCheckBox(tr("Background threshold"), panel);
  background_->setToolTip(tr("Hide patches whose first component is below the threshold (DINOv2's foreground trick)"));
  threshold_ = new QSlider(Qt::Horizontal, panel);
  threshold_->setRange(0, kPercentScale);
  threshold_->setValue(kDefaultThresholdPercent);
  threshold_->setEnabled(false);
  lock_ = new QCheckBox(tr("Lock basis"), panel);
  lock_->setToolTip(tr("Keep the current PCA basis for new images and models (colours stay comparable)"));
  clusters_ = new QSlider(Qt::Horizontal, panel);
  clusters_->setRange(kMinClusters, kMaxClusters);
  clusters_->setValue(kDefaultClusters);
  clustersValue_ = new QLabel(QString::number(kDefaultClusters), panel);
  opacity_ = new QSlider(Qt::Horizontal, panel);
  opacity_->setRange(0, kPercentScale);
  opacity_->setValue(kDefaultOpacityPercent);
  opacity_->setToolTip(tr("Map opacity (0 shows the image alone)"));
  status_ = new QLabel(panel);
  status_->setWordWrap(true);

  auto* clusterRow = new QHBoxLayout;
  clusterRow->addWidget(clusters_, 1);
  clusterRow->addWidget(clustersValue_);
  auto* form = new QFormLayout;
  form->addRow(tr("Map"), mode_);
  form->addRow(tr("Components"), channelRow);
  form->addRow(background_);
  form->addRow(tr("Threshold"), threshold_);
  form->addRow(lock_);
  form->addRow(tr("K"), clusterRow);
  form->addRow(tr("Opacity"), opacity_);
  auto* column = new QVBoxLayout(panel);
  column->addLayout(form);
  column->addWidget(status_);
  column->addStretch(1);
  return panel;
}

void FeatureMapView::connectControls() {
  connect(mode_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  for (QSpinBox* box : channels_) {
    connect(box, &QSpinBox::valueChanged, this, [this] { refresh(); });
  }
  connect(background_, &QCheckBox::toggled, this, [this](bool on) {
    threshold_->setEnabled(on);
    refresh();
  });
  connect(threshold_, &QSlider::valueChanged, this, [this] { refresh(); });
  connect(lock_, &QCheckBox::toggled, this, [this] { refresh(); });  // unlocking refits on the current source
  connect(clusters_, &QSlider::valueChanged, this, [this](int k) {
    clustersValue_->setText(QString::number(k));
    refresh();
  });
  connect(opacity_, &QSlider::valueChanged, this,
          [this](int percent) { canvas_->setOverlayOpacity(double(percent) / kPercentScale); });
  connect(worker_, &FeatureMapWorker::basisReady, this, [this](quint64 id, BasisPtr basis) {
    if (id != fitId_) return;  // a newer fit was requested since
    if (basisLocked() && basis_) return;  // asked for before the lock: the locked basis stays
    basis_ = std::move(basis);
    basisId_ = id;
    refresh();
  });
  connect(worker_, &FeatureMapWorker::labelsReady, this, [this](quint64 id, LabelsPtr labels) {
    if (id != clusterId_) return;
    labels_ = std::move(labels);
    labelsFor_ = clusterFor_;
    labelsK_ = clusterK_;
    refresh();
  });
  connect(worker_, &FeatureMapWorker::failed, this, [this](quint64 id, const QString& message) {
    if (id != fitId_ && id != clusterId_) return;
    spdlog::warn("feature map: {}", message.toStdString());
    (id == fitId_ ? fitError_ : clusterError_) = message;
    refresh();
  });
}

void FeatureMapView::setImage(const QImage& image) {
  canvas_->setImage(image);
  features_.reset();  // the previous image's tokens do not describe this one
  refresh();
}

void FeatureMapView::setFeatures(FeaturesPtr features) {
  features_ = std::move(features);
  if (features_) canvas_->setGrid(features_->gridW, features_->gridH);
  refresh();
}

void FeatureMapView::setBasisImages(std::vector<FeaturesPtr> images) {
  images.erase(std::remove(images.begin(), images.end(), nullptr), images.end());
  basisImages_ = std::move(images);
  refresh();
}

FeatureMapMode FeatureMapView::mode() const { return static_cast<FeatureMapMode>(mode_->currentData().toInt()); }

std::array<int, 3> FeatureMapView::components() const {
  return {channels_[0]->value() - 1, channels_[1]->value() - 1, channels_[2]->value() - 1};
}

std::optional<float> FeatureMapView::backgroundThreshold() const {
  if (!background_->isChecked()) return std::nullopt;
  return static_cast<float>(threshold_->value()) / kPercentScale;
}

bool FeatureMapView::basisLocked() const { return lock_->isChecked(); }
int FeatureMapView::clusterCount() const { return clusters_->value(); }
double FeatureMapView::opacity() const { return double(opacity_->value()) / kPercentScale; }
bool FeatureMapView::busy() const { return worker_->busy(); }

void FeatureMapView::setMode(FeatureMapMode mode) { mode_->setCurrentIndex(mode_->findData(int(mode))); }

void FeatureMapView::setComponents(std::array<int, 3> zeroBased) {
  for (std::size_t ch = 0; ch < 3; ++ch) channels_[ch]->setValue(zeroBased[ch] + 1);  // the box clamps
}

void FeatureMapView::setBackgroundThreshold(std::optional<float> threshold) {
  if (threshold) threshold_->setValue(static_cast<int>(std::lround(*threshold * kPercentScale)));
  background_->setChecked(threshold.has_value());
}

void FeatureMapView::setBasisLocked(bool locked) { lock_->setChecked(locked); }
void FeatureMapView::setClusterCount(int k) { clusters_->setValue(k); }
void FeatureMapView::setOpacity(double opacity) { opacity_->setValue(static_cast<int>(std::lround(opacity * kPercentScale))); }

void FeatureMapView::setBasis(PcaRgbBasis basis, bool lock) {
  const std::size_t dim = static_cast<std::size_t>(std::max(basis.dim, 0));
  const std::size_t count = static_cast<std::size_t>(basis.count());
  if (dim == 0 || count < 3 || basis.components.size() != count * dim || basis.mean.size() != dim ||
      basis.variances.size() != count || basis.low.size() != count || basis.high.size() != count)
    throw InvalidArgumentError("FeatureMapView::setBasis: inconsistent PCA basis (dim " + std::to_string(basis.dim) +
                               ", " + std::to_string(basis.components.size()) + " component values)");
  basis_ = std::make_shared<const PcaRgbBasis>(std::move(basis));
  // Counts as the answer to the newest request, fitted on the current source: no refit until it changes.
  // An id no worker request has (they count up from 0): a fit still in flight is stale now.
  static quint64 given = 0;
  fitId_ = basisId_ = (quint64(1) << 63) | ++given;
  fitSource_ = basisSource();
  fitError_.clear();
  const QSignalBlocker block(lock_);
  lock_->setChecked(lock);
  refresh();
}

std::vector<FeaturesPtr> FeatureMapView::basisSource() const {
  if (!basisImages_.empty()) return basisImages_;
  if (features_) return {features_};
  return {};
}

void FeatureMapView::refresh() {
  const bool pca = mode() == FeatureMapMode::PcaRgb;
  for (QSpinBox* box : channels_) box->setEnabled(pca);
  background_->setEnabled(pca);
  threshold_->setEnabled(pca && background_->isChecked());
  lock_->setEnabled(pca);
  clusters_->setEnabled(!pca);
  if (pca) {
    requestFitIfNeeded();
    drawPca();
  } else {
    requestClusters();
    drawClusters();
  }
}

void FeatureMapView::requestFitIfNeeded() {
  if (basisLocked() && basis_) return;  // locked: the last fitted basis stays
  const std::vector<FeaturesPtr> source = basisSource();
  if (source.empty() || source == fitSource_) return;  // nothing to fit, or fitted / in flight already
  PcaRgbOptions options;
  options.components = std::min(kBasisComponents, source.front()->dim);
  fitSource_ = source;
  fitError_.clear();
  fitId_ = worker_->requestBasis(source, options);
}

void FeatureMapView::requestClusters() {
  if (!features_) return;
  const int k = clusterCount();
  if (features_ == clusterFor_ && k == clusterK_) return;  // clustered or in flight already
  clusterFor_ = features_;
  clusterK_ = k;
  clusterError_.clear();
  clusterId_ = worker_->requestLabels(features_, k, kClusterSeed);
}

void FeatureMapView::drawPca() {
  if (!features_) return showOverlay(QImage(), tr("No features yet"));
  // Unlocked, only a basis of the newest request is shown: an older one would flash wrong colours.
  const bool current = basis_ && (basisLocked() || basisId_ == fitId_);
  if (!current) return showOverlay(QImage(), fitError_.isEmpty() ? tr("Fitting the PCA basis…") : fitError_);
  try {
    const PatchRgbMap map = projectPcaRgb(*features_, *basis_, components(),
                                          backgroundThreshold() ? std::optional(PcaBackground{*backgroundThreshold(), 0})
                                                                : std::nullopt);
    QImage overlay(map.width, map.height, QImage::Format_ARGB32);
    for (int y = 0; y < map.height; ++y) {
      for (int x = 0; x < map.width; ++x) {
        const std::size_t p = static_cast<std::size_t>(y) * map.width + x;
        const std::uint8_t* c = map.rgb.data() + p * 3;
        overlay.setPixel(x, y, map.background[p] != 0 ? qRgba(0, 0, 0, 0) : qRgb(c[0], c[1], c[2]));
      }
    }
    showOverlay(std::move(overlay), tr("PCA basis: %1 components of %2-d tokens, %3 image(s)%4")
                                        .arg(basis_->count())
                                        .arg(basis_->dim)
                                        .arg(fitSource_.size())
                                        .arg(basisLocked() ? tr(", locked") : QString()));
  } catch (const std::exception& e) {  // e.g. a locked basis of another model's dimension
    showOverlay(QImage(), QString::fromStdString(e.what()));
  }
}

void FeatureMapView::drawClusters() {
  if (!features_) return showOverlay(QImage(), tr("No features yet"));
  if (!labels_ || labelsFor_ != features_ || labelsK_ != clusterCount()) {
    return showOverlay(QImage(), clusterError_.isEmpty() ? tr("Clustering…") : clusterError_);
  }
  // The VOC palette from 1: entry 0 is black, which would read as "background".
  static const std::vector<QColor> palette = vocColours();
  QImage overlay(features_->gridW, features_->gridH, QImage::Format_ARGB32);
  for (int y = 0; y < overlay.height(); ++y) {
    for (int x = 0; x < overlay.width(); ++x) {
      const int label = (*labels_)[static_cast<std::size_t>(y) * overlay.width() + x];
      overlay.setPixel(x, y, palette[static_cast<std::size_t>(label + 1) % palette.size()].rgb());
    }
  }
  showOverlay(std::move(overlay), tr("k-means: %1 clusters").arg(labelsK_));
}

void FeatureMapView::showOverlay(QImage overlay, const QString& status) {
  overlay_ = std::move(overlay);
  if (overlay_.isNull()) {
    canvas_->clearOverlay();
  } else {
    canvas_->setOverlay(overlay_);
  }
  status_->setText(status);
  Q_EMIT mapUpdated();
}

}  // namespace neco::ui

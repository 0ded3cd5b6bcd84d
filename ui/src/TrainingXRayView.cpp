#include "neco/ui/TrainingXRayView.h"

#include "neco/core/Colormap.h"
#include "neco/core/SoftSort.h"
#include "neco/ui/CrossEntropyStrip.h"
#include "neco/ui/ImageConversion.h"
#include "neco/ui/PermutationMatrixWidget.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <spdlog/spdlog.h>

namespace neco::ui {
namespace {

constexpr double kTitleHeight = 18.0;

/// One colour per crop index: the two globals first, then the locals.
QColor cropColour(int crop) {
  static const QColor colours[] = {QColor(255, 127, 14), QColor(31, 119, 180), QColor(44, 160, 44),
                                   QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75),
                                   QColor(227, 119, 194), QColor(188, 189, 34), QColor(23, 190, 207)};
  return colours[static_cast<std::size_t>(crop) % (sizeof colours / sizeof colours[0])];
}

QString cropName(const XRayImage& image, int crop) {
  int globals = 0;
  for (const XRayCrop& c : image.crops) globals += c.global ? 1 : 0;
  return crop < globals ? QObject::tr("global %1").arg(crop + 1) : QObject::tr("local %1").arg(crop - globals + 1);
}

QString referenceName(const XRayReference& r) {
  if (r.fromQueue) return QObject::tr("queue slot %1").arg(r.slot);
  return QObject::tr("batch image %1, cell (%2, %3)").arg(r.image).arg(r.cellY).arg(r.cellX);
}

/// Ranks by descending value: rank[i] = 1 for the largest.
std::vector<int> ranksOf(const std::vector<float>& values) {
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return values[static_cast<std::size_t>(a)] > values[static_cast<std::size_t>(b)];
  });
  std::vector<int> rank(values.size());
  for (std::size_t i = 0; i < order.size(); ++i) rank[static_cast<std::size_t>(order[i])] = static_cast<int>(i) + 1;
  return rank;
}

}  // namespace

// ---- XRayCanvas -----------------------------------------------------------------------------------

XRayCanvas::XRayCanvas(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setCursor(Qt::CrossCursor);
}

void XRayCanvas::setTitle(const QString& title) {
  title_ = title;
  update();
}

void XRayCanvas::setImage(const QImage& image) {
  image_ = image;
  update();
}

void XRayCanvas::setBoxes(std::vector<Box> boxes) {
  boxes_ = std::move(boxes);
  update();
}

void XRayCanvas::setGrid(const XRayBox& box, int k, std::vector<float> heat) {
  grid_ = box;
  k_ = k;
  heat_ = std::move(heat);
  update();
}

void XRayCanvas::setSelectedCell(std::optional<int> cell) {
  selected_ = cell;
  update();
}

void XRayCanvas::clear() {
  image_ = QImage();
  boxes_.clear();
  grid_.reset();
  heat_.clear();
  selected_.reset();
  update();
}

QRectF XRayCanvas::imageRect() const {
  if (image_.isNull()) return {};
  const QRectF area(0, kTitleHeight, width(), std::max(0.0, height() - kTitleHeight));
  const double scale = std::min(area.width() / image_.width(), area.height() / image_.height());
  const QSizeF size(image_.width() * scale, image_.height() * scale);
  return {area.center().x() - size.width() / 2, area.top() + (area.height() - size.height()) / 2, size.width(), size.height()};
}

QPointF XRayCanvas::toWidget(double x, double y) const {
  const QRectF r = imageRect();
  if (r.isEmpty()) return {};
  return {r.left() + x * r.width() / image_.width(), r.top() + y * r.height() / image_.height()};
}

QRectF XRayCanvas::cellRect(int cell) const {
  if (!grid_ || k_ <= 0 || cell < 0 || cell >= k_ * k_ || image_.isNull()) return {};
  const double w = grid_->width() / k_, h = grid_->height() / k_;
  const int y = cell / k_, x = cell % k_;
  return QRectF(toWidget(grid_->x1 + x * w, grid_->y1 + y * h), toWidget(grid_->x1 + (x + 1) * w, grid_->y1 + (y + 1) * h));
}

std::optional<int> XRayCanvas::cellAt(QPointF position) const {
  for (int cell = 0; cell < k_ * k_; ++cell) {
    if (cellRect(cell).contains(position)) return cell;
  }
  return std::nullopt;
}

void XRayCanvas::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  if (const auto cell = cellAt(event->position())) Q_EMIT cellClicked(*cell);
}

void XRayCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  p.setPen(palette().windowText().color());
  p.drawText(QRectF(0, 0, width(), kTitleHeight), Qt::AlignLeft | Qt::AlignVCenter, title_);
  if (image_.isNull()) return;
  const QRectF target = imageRect();
  p.setRenderHint(QPainter::SmoothPixmapTransform, true);
  p.drawImage(target, image_);
  p.setRenderHint(QPainter::Antialiasing, true);
  for (const Box& b : boxes_) {
    QPen pen(b.colour, b.dashed ? 1.5 : 2.5, b.dashed ? Qt::DashLine : Qt::SolidLine);
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    const QRectF r(toWidget(b.box.x1, b.box.y1), toWidget(b.box.x2, b.box.y2));
    p.drawRect(r);
    if (!b.label.isEmpty()) p.drawText(r.topLeft() + QPointF(3, 12), b.label);
  }
  if (grid_ && k_ > 0) {
    const Colormap map(ColormapKind::Inferno);
    for (int cell = 0; cell < k_ * k_; ++cell) {
      const QRectF r = cellRect(cell);
      if (static_cast<std::size_t>(cell) < heat_.size()) {
        const float h = heat_[static_cast<std::size_t>(cell)];
        if (std::isnan(h)) {
          p.fillRect(r, QColor(128, 128, 128, 150));  // not in the loss mask
        } else {
          const PaletteColor c = map.at(h);
          p.fillRect(r, QColor(c.r, c.g, c.b, 120));
        }
      }
    }
    p.setPen(QPen(QColor(255, 255, 255, 200), 1.0));
    for (int cell = 0; cell < k_ * k_; ++cell) p.drawRect(cellRect(cell));
    if (selected_) {
      p.setPen(QPen(QColor(0, 255, 255), 3.0));
      p.drawRect(cellRect(*selected_));
    }
  }
}

// ---- XRayMatrix -----------------------------------------------------------------------------------

XRayMatrix::XRayMatrix(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void XRayMatrix::setTitle(const QString& title) {
  title_ = title;
  update();
}

void XRayMatrix::setMatrix(int rows, int columns, std::vector<float> values, float lo, float hi) {
  rows_ = rows;
  columns_ = columns;
  image_ = QImage();
  if (rows > 0 && columns > 0 && values.size() == static_cast<std::size_t>(rows) * static_cast<std::size_t>(columns)) {
    image_ = QImage(columns, rows, QImage::Format_RGB888);
    const Colormap map(ColormapKind::Viridis);
    for (int y = 0; y < rows; ++y) {
      auto* line = image_.scanLine(y);
      for (int x = 0; x < columns; ++x) {
        const PaletteColor c = map.map(values[static_cast<std::size_t>(y) * static_cast<std::size_t>(columns) + static_cast<std::size_t>(x)], lo, hi);
        line[3 * x] = c.r;
        line[3 * x + 1] = c.g;
        line[3 * x + 2] = c.b;
      }
    }
  }
  update();
}

void XRayMatrix::setSelectedRow(std::optional<int> row) {
  selected_ = row;
  update();
}

QRectF XRayMatrix::matrixRect() const {
  if (image_.isNull()) return {};
  const double side = std::max(0.0, std::min<double>(width(), height() - kTitleHeight) - 4);
  return {(width() - side) / 2, kTitleHeight + 2, side, side};
}

void XRayMatrix::mousePressEvent(QMouseEvent* event) {
  const QRectF r = matrixRect();
  if (r.isEmpty() || !r.contains(event->position())) return;
  Q_EMIT rowClicked(std::clamp(static_cast<int>((event->position().y() - r.top()) / r.height() * rows_), 0, rows_ - 1));
}

void XRayMatrix::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  p.setPen(palette().windowText().color());
  p.drawText(QRectF(0, 0, width(), kTitleHeight), Qt::AlignLeft | Qt::AlignVCenter, title_);
  const QRectF r = matrixRect();
  if (r.isEmpty()) return;
  p.drawImage(r, image_);  // nearest: one block per cell
  if (selected_ && rows_ > 0) {
    const double h = r.height() / rows_;
    p.setPen(QPen(QColor(0, 255, 255), 2.0));
    p.drawRect(QRectF(r.left(), r.top() + *selected_ * h, r.width(), h));
  }
}

// ---- TrainingXRayView -----------------------------------------------------------------------------

TrainingXRayView::TrainingXRayView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  summary_ = new QLabel(tr("Pause training, then take an X-ray of the next step."), this);
  summary_->setObjectName(QStringLiteral("xraySummary"));
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  request_ = new QPushButton(tr("X-ray the next step"), this);
  request_->setObjectName(QStringLiteral("xrayRequest"));
  request_->setToolTip(tr("Computes the loss of the step about to run on its batch, without changing the run"));
  request_->setEnabled(false);
  top->addWidget(summary_, 1);
  top->addWidget(request_);
  layout->addLayout(top);

  auto* pick = new QHBoxLayout;
  images_ = new QComboBox(this);
  images_->setObjectName(QStringLiteral("xrayImage"));
  pairs_ = new QComboBox(this);
  pairs_->setObjectName(QStringLiteral("xrayPair"));
  patchInfo_ = new QLabel(this);
  patchInfo_->setObjectName(QStringLiteral("xrayPatch"));
  pick->addWidget(new QLabel(tr("Image"), this));
  pick->addWidget(images_, 1);
  pick->addWidget(new QLabel(tr("Pair"), this));
  pick->addWidget(pairs_, 1);
  layout->addLayout(pick);
  layout->addWidget(patchInfo_);

  auto* splitter = new QSplitter(Qt::Vertical, this);
  auto* canvases = new QWidget(splitter);
  auto* row = new QHBoxLayout(canvases);
  row->setContentsMargins(0, 0, 0, 0);
  source_ = new XRayCanvas(canvases);
  global_ = new XRayCanvas(canvases);
  other_ = new XRayCanvas(canvases);
  for (XRayCanvas* c : {source_, global_, other_}) row->addWidget(c);
  auto* matrices = new QWidget(splitter);
  auto* grid = new QGridLayout(matrices);
  grid->setContentsMargins(0, 0, 0, 0);
  studentSim_ = new XRayMatrix(matrices);
  teacherSim_ = new XRayMatrix(matrices);
  studentPerm_ = new PermutationMatrixWidget(matrices);
  teacherPerm_ = new PermutationMatrixWidget(matrices);
  strip_ = new CrossEntropyStrip(matrices);
  strip_->alignRowsWith(studentPerm_);
  references_ = new QTableWidget(0, 5, matrices);
  references_->setObjectName(QStringLiteral("xrayReferences"));
  references_->setHorizontalHeaderLabels({tr("teacher rank"), tr("reference"), tr("teacher sim"), tr("student sim"), tr("student rank")});
  references_->verticalHeader()->setVisible(false);
  references_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  references_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  grid->addWidget(studentSim_, 0, 0);
  grid->addWidget(teacherSim_, 0, 1);
  grid->addWidget(studentPerm_, 0, 2);
  grid->addWidget(teacherPerm_, 0, 3);
  grid->addWidget(strip_, 0, 4);
  grid->addWidget(references_, 0, 5);
  grid->setColumnStretch(5, 2);
  splitter->addWidget(canvases);
  splitter->addWidget(matrices);
  layout->addWidget(splitter, 1);

  connect(request_, &QPushButton::clicked, this, &TrainingXRayView::xrayRequested);
  connect(images_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (i >= 0) selectImage(i);
  });
  connect(pairs_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (i >= 0) selectPair(i);
  });
  for (XRayCanvas* c : {global_, other_}) connect(c, &XRayCanvas::cellClicked, this, &TrainingXRayView::selectPatch);
  for (XRayMatrix* m : {studentSim_, teacherSim_}) connect(m, &XRayMatrix::rowClicked, this, &TrainingXRayView::selectPatch);
  setXRay(nullptr);
}

void TrainingXRayView::setRequestEnabled(bool enabled) { request_->setEnabled(enabled); }

void TrainingXRayView::showMessage(const QString& message) { summary_->setText(message); }

const XRayImage* TrainingXRayView::image() const {
  if (!xray_ || image_ < 0 || image_ >= static_cast<int>(xray_->images.size())) return nullptr;
  return &xray_->images[static_cast<std::size_t>(image_)];
}

const XRayPair* TrainingXRayView::pair() const {
  const XRayImage* im = image();
  if (im == nullptr || pair_ < 0 || pair_ >= static_cast<int>(im->pairs.size())) return nullptr;
  return &im->pairs[static_cast<std::size_t>(pair_)];
}

QString TrainingXRayView::summary() const { return summary_->text(); }

void TrainingXRayView::setXRay(XRayPtr xray) {
  xray_ = std::move(xray);
  image_ = 0;
  pair_ = 0;
  patch_ = xray_ ? (xray_->roiSize * xray_->roiSize) / 2 : 0;
  if (xray_) {
    const TrainingXRay& x = *xray_;
    QString refs = x.references == "queue"
                       ? tr("references from the queue (%1 of %2 rows filled, %3 pushed per crop and step)")
                             .arg(x.queueFill).arg(x.queueCapacity).arg(x.queueRowsPerPush)
                       : tr("references from the batch");
    summary_->setText(tr("Step %1 (next): loss %2 · batch %3 · %4×%4 RoI grids · %5 · loss mask %6 · student %7 s=%8, teacher %9 s=%10")
                          .arg(x.step)
                          .arg(x.stepLoss, 0, 'f', 4)
                          .arg(x.batchSize)
                          .arg(x.roiSize)
                          .arg(refs)
                          .arg(QString::fromStdString(x.lossMask))
                          .arg(QString::fromLatin1(sortRelaxationName(x.student.relaxation)))
                          .arg(x.student.steepness)
                          .arg(QString::fromLatin1(sortRelaxationName(x.teacher.relaxation)))
                          .arg(x.teacher.steepness));
  }
  {
    const QSignalBlocker block(images_);
    images_->clear();
    if (xray_) {
      for (std::size_t i = 0; i < xray_->images.size(); ++i) {
        const XRayImage& im = xray_->images[i];
        images_->addItem(tr("%1: sample %2 — %3").arg(i).arg(im.sample).arg(QString::fromStdString(im.name)));
      }
    }
  }
  refreshImages();
}

void TrainingXRayView::selectImage(int image) {
  if (!xray_ || image < 0 || image >= static_cast<int>(xray_->images.size())) return;
  image_ = image;
  const QSignalBlocker block(images_);
  images_->setCurrentIndex(image);
  refreshImages();
}

void TrainingXRayView::refreshImages() {
  const XRayImage* im = image();
  {
    const QSignalBlocker block(pairs_);
    pairs_->clear();
    if (im != nullptr) {
      for (const XRayPair& p : im->pairs) {
        pairs_->addItem(tr("%1 ↔ %2 · image loss %3 · batch %4")
                            .arg(cropName(*im, p.global), cropName(*im, p.other))
                            .arg(p.imageLoss, 0, 'f', 4)
                            .arg(p.batchLoss, 0, 'f', 4));
      }
      pair_ = std::clamp(pair_, 0, std::max(0, static_cast<int>(im->pairs.size()) - 1));
      pairs_->setCurrentIndex(pair_);
    }
  }
  if (im == nullptr) {
    for (XRayCanvas* c : {source_, global_, other_}) c->clear();
    studentSim_->setMatrix(0, 0, {}, 0, 1);
    teacherSim_->setMatrix(0, 0, {}, 0, 1);
    studentPerm_->clear();
    teacherPerm_->clear();
    strip_->setValues({});
    references_->setRowCount(0);
    patchInfo_->clear();
    return;
  }
  source_->setImage(toQImage(im->source));
  source_->setTitle(tr("Image %1 × %2").arg(im->source.width).arg(im->source.height));
  refreshPairs();
}

void TrainingXRayView::selectPair(int pair) {
  const XRayImage* im = image();
  if (im == nullptr || pair < 0 || pair >= static_cast<int>(im->pairs.size())) return;
  pair_ = pair;
  const QSignalBlocker block(pairs_);
  pairs_->setCurrentIndex(pair);
  refreshPairs();
}

void TrainingXRayView::refreshPairs() {
  const XRayImage* im = image();
  const XRayPair* p = pair();
  if (im == nullptr || p == nullptr) return;
  const int K = xray_->roiSize;
  std::vector<XRayCanvas::Box> boxes;
  for (std::size_t v = 0; v < im->crops.size(); ++v) {
    const int crop = static_cast<int>(v);
    const bool chosen = crop == p->global || crop == p->other;
    boxes.push_back({im->crops[v].inImage, cropColour(crop), !chosen, chosen ? cropName(*im, crop) : QString()});
  }
  source_->setBoxes(std::move(boxes));
  source_->setGrid(p->inImage, K);
  // the other crop's cells are tinted by each source patch's loss (brightest = highest)
  std::vector<float> heat(p->patchLoss.size());
  const float top = p->patchLoss.empty() ? 1.f : *std::max_element(p->patchLoss.begin(), p->patchLoss.end());
  for (std::size_t m = 0; m < heat.size(); ++m) {
    heat[m] = !p->inMask.empty() && p->inMask[m] == 0 ? std::numeric_limits<float>::quiet_NaN()
                                                      : (top > 0 ? p->patchLoss[m] / top : 0.f);
  }
  const XRayCrop& g = im->crops[static_cast<std::size_t>(p->global)];
  const XRayCrop& o = im->crops[static_cast<std::size_t>(p->other)];
  global_->setImage(toQImage(g.pixels));
  global_->setTitle(tr("%1 (teacher) · %2").arg(cropName(*im, p->global), QString::fromStdString(g.augmentation)));
  global_->setBoxes({{p->inGlobal, cropColour(p->global), false, {}}});
  global_->setGrid(p->inGlobal, K);
  other_->setImage(toQImage(o.pixels));
  other_->setTitle(tr("%1 (student) · %2").arg(cropName(*im, p->other), QString::fromStdString(o.augmentation)));
  other_->setBoxes({{p->inOther, cropColour(p->other), false, {}}});
  other_->setGrid(p->inOther, K, std::move(heat));
  const int M = K * K;
  float lo = -1.f, hi = 1.f;  // cosine; euclidean distances get their own range
  for (const auto* values : {&p->studentSimilarity, &p->teacherSimilarity}) {
    for (float v : *values) {
      if (v < -1.001f || v > 1.001f) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  studentSim_->setTitle(tr("Student sim. (patch × ref.)"));
  teacherSim_->setTitle(tr("Teacher sim."));
  studentSim_->setMatrix(p->traced ? M : 0, M, p->studentSimilarity, lo, hi);
  teacherSim_->setMatrix(p->traced ? M : 0, M, p->teacherSimilarity, lo, hi);
  refreshPatch();
}

void TrainingXRayView::selectPatch(int patch) {
  if (!xray_ || patch < 0 || patch >= xray_->roiSize * xray_->roiSize) return;
  patch_ = patch;
  refreshPatch();
}

void TrainingXRayView::refreshPatch() {
  const XRayPair* p = pair();
  if (p == nullptr) return;
  const int K = xray_->roiSize, M = K * K;
  for (XRayCanvas* c : {source_, global_, other_}) c->setSelectedCell(patch_);
  studentSim_->setSelectedRow(patch_);
  teacherSim_->setSelectedRow(patch_);
  recomputed_ = std::nan("");
  if (!p->traced || p->studentSimilarity.size() != static_cast<std::size_t>(M) * M) {
    patchInfo_->setText(tr("No patch of this pair is in the loss mask: the pair adds 0 to the loss."));
    studentPerm_->clear();
    teacherPerm_->clear();
    strip_->setValues({});
    references_->setRowCount(0);
    return;
  }
  const auto begin = static_cast<std::ptrdiff_t>(patch_) * M;
  const std::vector<float> studentRow(p->studentSimilarity.begin() + begin, p->studentSimilarity.begin() + begin + M);
  const std::vector<float> teacherRow(p->teacherSimilarity.begin() + begin, p->teacherSimilarity.begin() + begin + M);
  try {
    const SoftSortRow s = softSortRow(studentRow, xray_->student), t = softSortRow(teacherRow, xray_->teacher);
    studentPerm_->setTitle(tr("Student P  s = %1").arg(xray_->student.steepness));
    teacherPerm_->setTitle(tr("Teacher Q  s = %1").arg(xray_->teacher.steepness));
    studentPerm_->setMatrix(M, s.permutation);
    teacherPerm_->setMatrix(M, t.permutation);
    std::vector<float> ce = rankCrossEntropy(t, s);
    recomputed_ = std::accumulate(ce.begin(), ce.end(), 0.0) / static_cast<double>(ce.size());
    strip_->setValues(std::move(ce));
  } catch (const std::exception& e) {
    spdlog::warn("X-ray: cannot sort patch {}: {}", patch_, e.what());
    studentPerm_->clear();
    teacherPerm_->clear();
    strip_->setValues({});
  }
  const bool counted = p->inMask.empty() || p->inMask[static_cast<std::size_t>(patch_)] != 0;
  patchInfo_->setText(tr("Source patch (%1, %2) of the %3×%3 grid · loss in training %4 · recomputed here %5%6")
                          .arg(patch_ / K)
                          .arg(patch_ % K)
                          .arg(K)
                          .arg(p->patchLoss[static_cast<std::size_t>(patch_)], 0, 'f', 4)
                          .arg(recomputed_, 0, 'f', 4)
                          .arg(counted ? QString() : tr(" · outside the loss mask (not counted)")));
  const std::vector<int> teacherRank = ranksOf(teacherRow), studentRank = ranksOf(studentRow);
  std::vector<int> order(static_cast<std::size_t>(M));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return teacherRank[static_cast<std::size_t>(a)] < teacherRank[static_cast<std::size_t>(b)];
  });
  references_->setRowCount(M);
  for (int row = 0; row < M; ++row) {
    const auto r = static_cast<std::size_t>(order[static_cast<std::size_t>(row)]);
    const QString cells[] = {QString::number(teacherRank[r]), referenceName(p->references[r]),
                             QString::number(teacherRow[r], 'f', 3), QString::number(studentRow[r], 'f', 3),
                             QString::number(studentRank[r])};
    for (int column = 0; column < 5; ++column) {
      auto* item = references_->item(row, column);
      if (item == nullptr) {
        item = new QTableWidgetItem;
        references_->setItem(row, column, item);
      }
      item->setText(cells[column]);
    }
  }
}

}  // namespace neco::ui

#include "neco/ui/EmbeddingCloudView.h"

#include "SlotGuard.h"
#include "neco/core/FeatureMaps.h"
#include "neco/ui/SegmentationPalette.h"
#include "neco/ui/VtkOpenGLWidget.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QVBoxLayout>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>
#include <vtkUnsignedCharArray.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace neco::ui {

namespace {

constexpr int kClasses = 6;
constexpr double kPickRadius = 6.0;  // logical pixels
constexpr double kClickSlop = 4.0;   // a press and release closer than this is a click, not a drag

}  // namespace

struct EmbeddingCloudView::Scene {
  vtkNew<vtkPolyData> cloud;
  vtkNew<vtkPolyDataMapper> mapper;
  vtkNew<vtkActor> actor;
  vtkNew<vtkPolyData> marker;
  vtkNew<vtkPolyDataMapper> markerMapper;
  vtkNew<vtkActor> markerActor;
};

EmbeddingCloudView::EmbeddingCloudView(QWidget* parent) : QWidget(parent), scene_(std::make_unique<Scene>()) {
  vtk_ = new VtkOpenGLWidget(this);
  vtk_->setObjectName(QStringLiteral("embeddingVtk"));
  vtk_->setMinimumSize(240, 200);
  vtk_->installEventFilter(this);
  colouringBox_ = new QComboBox(this);
  colouringBox_->setObjectName(QStringLiteral("embeddingColouring"));
  colouringBox_->addItem(tr("PCA-RGB"), int(CloudColouring::PcaRgb));
  colouringBox_->addItem(tr("k-means classes (K = %1)").arg(kClasses), int(CloudColouring::Classes));
  colouringBox_->addItem(tr("Similarity to the query"), int(CloudColouring::Similarity));
  caption_ = new QLabel(this);
  caption_->setWordWrap(true);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Colour by"), this));
  row->addWidget(colouringBox_);
  row->addWidget(caption_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(row);
  layout->addWidget(vtk_, 1);

  Scene& s = *scene_;
  s.mapper->SetInputData(s.cloud);
  s.mapper->SetScalarModeToUsePointData();
  s.mapper->SetColorModeToDirectScalars();
  s.actor->SetMapper(s.mapper);
  s.actor->GetProperty()->SetPointSize(6.0f);
  s.actor->GetProperty()->SetRenderPointsAsSpheres(true);
  s.actor->GetProperty()->LightingOff();
  s.markerMapper->SetInputData(s.marker);
  s.markerActor->SetMapper(s.markerMapper);
  s.markerActor->GetProperty()->SetPointSize(16.0f);
  s.markerActor->GetProperty()->SetRenderPointsAsSpheres(true);
  s.markerActor->GetProperty()->SetColor(1.0, 0.0, 0.0);
  s.markerActor->GetProperty()->LightingOff();
  s.markerActor->PickableOff();
  vtkRenderer* r = vtk_->renderer();
  r->SetBackground(0.12, 0.12, 0.14);
  r->AddActor(s.actor);
  r->AddActor(s.markerActor);

  connect(colouringBox_, &QComboBox::currentIndexChanged, this, [this](int index) {
    colouring_ = static_cast<CloudColouring>(colouringBox_->itemData(index).toInt());
    guardSlot("embedding colours", [this] { recolour(); });
  });
}

EmbeddingCloudView::~EmbeddingCloudView() = default;

void EmbeddingCloudView::setFeatures(FeaturesPtr features) {
  const bool newGrid = !features_ || !features || features->gridW != features_->gridW || features->gridH != features_->gridH;
  features_ = std::move(features);
  rebuild();
  if (newGrid && features_) {
    vtk_->renderer()->ResetCamera();
    vtk_->renderer()->GetActiveCamera()->Zoom(1.4);  // ResetCamera fits the bounding sphere: roomy
  }
  vtk_->update();
}

void EmbeddingCloudView::rebuild() {
  positions_.clear();
  pcaColours_.clear();
  classColours_.clear();
  Scene& s = *scene_;
  vtkNew<vtkPoints> points;
  vtkNew<vtkCellArray> vertices;
  if (features_ && features_->patchCount() >= 2) {
    const PcaRgbBasis basis = fitPcaRgbBasis({features_.get()});
    const int n = features_->patchCount(), d = features_->dim;
    positions_.resize(std::size_t(n));
    for (int p = 0; p < n; ++p) {
      const float* t = features_->row(p);
      for (int c = 0; c < 3; ++c) {
        const float* axis = basis.components.data() + std::size_t(c) * std::size_t(d);
        double v = 0.0;
        for (int k = 0; k < d; ++k) v += double(t[k] - basis.mean[std::size_t(k)]) * axis[k];
        positions_[std::size_t(p)][std::size_t(c)] = v;
      }
      points->InsertNextPoint(positions_[std::size_t(p)].data());
      const vtkIdType id = p;
      vertices->InsertNextCell(1, &id);
    }
    const PatchRgbMap rgb = projectPcaRgb(*features_, basis, {0, 1, 2});
    pcaColours_ = rgb.rgb;
    caption_->setText(tr("%1 patches on the first three principal components (%2 dimensions)").arg(n).arg(d));
  } else {
    caption_->setText(tr("Open an image: its patches appear here"));
  }
  s.cloud->SetPoints(points);
  s.cloud->SetVerts(vertices);
  recolour();
}

void EmbeddingCloudView::recolour() {
  const std::size_t n = positions_.size();
  if (colouring_ == CloudColouring::Classes && classColours_.size() != n * 3 && features_ && n >= 2) {
    // k-means only when the classes are asked for
    const std::vector<int> labels = kmeansPatchLabels(*features_, std::min(kClasses, int(n)));
    const std::vector<QColor> palette = vocColours();
    classColours_.resize(n * 3);
    for (std::size_t p = 0; p < n; ++p) {
      const QColor c = palette[std::size_t(1 + labels[p]) % palette.size()];
      classColours_[3 * p] = static_cast<unsigned char>(c.red());
      classColours_[3 * p + 1] = static_cast<unsigned char>(c.green());
      classColours_[3 * p + 2] = static_cast<unsigned char>(c.blue());
    }
  }
  colours_.assign(n * 3, 200);
  if (colouring_ == CloudColouring::PcaRgb && pcaColours_.size() == n * 3) {
    colours_ = pcaColours_;
  } else if (colouring_ == CloudColouring::Classes && classColours_.size() == n * 3) {
    colours_ = classColours_;
  } else if (colouring_ == CloudColouring::Similarity && similarity_.size() == n) {
    for (std::size_t p = 0; p < n; ++p) {
      const PaletteColor c = colormap_.map(similarity_[p], -1.f, 1.f);
      colours_[3 * p] = c.r;
      colours_[3 * p + 1] = c.g;
      colours_[3 * p + 2] = c.b;
    }
  }
  vtkNew<vtkUnsignedCharArray> scalars;
  scalars->SetNumberOfComponents(3);
  scalars->SetName("colour");
  scalars->SetNumberOfTuples(vtkIdType(n));
  for (std::size_t p = 0; p < n; ++p) scalars->SetTypedTuple(vtkIdType(p), colours_.data() + 3 * p);
  scene_->cloud->GetPointData()->SetScalars(scalars);
  scene_->cloud->Modified();
  updateHighlight();
}

void EmbeddingCloudView::updateHighlight() {
  vtkNew<vtkPoints> points;
  vtkNew<vtkCellArray> vertices;
  if (selected_ && features_ && selected_->x() >= 0 && selected_->x() < features_->gridW && selected_->y() >= 0 &&
      selected_->y() < features_->gridH) {
    const std::size_t p = std::size_t(selected_->y() * features_->gridW + selected_->x());
    if (p < positions_.size()) {
      points->InsertNextPoint(positions_[p].data());
      const vtkIdType id = 0;
      vertices->InsertNextCell(1, &id);
    }
  }
  scene_->marker->SetPoints(points);
  scene_->marker->SetVerts(vertices);
  scene_->marker->Modified();
  vtk_->update();
}

void EmbeddingCloudView::setSelectedPatch(std::optional<QPoint> patch) {
  selected_ = patch;
  updateHighlight();
}

void EmbeddingCloudView::setSimilarity(const std::vector<float>& similarity) {
  similarity_ = similarity;
  if (colouring_ == CloudColouring::Similarity) recolour();
}

void EmbeddingCloudView::setColouring(CloudColouring colouring) {
  colouringBox_->setCurrentIndex(colouringBox_->findData(int(colouring)));
}

void EmbeddingCloudView::setColormap(ColormapKind kind) {
  colormap_ = Colormap(kind);
  if (colouring_ == CloudColouring::Similarity) recolour();
}

std::optional<QPointF> EmbeddingCloudView::displayPosition(QPoint patch) const {
  if (!features_ || !vtk_->renderingReady()) return std::nullopt;
  const int index = patch.y() * features_->gridW + patch.x();
  if (patch.x() < 0 || patch.x() >= features_->gridW || index < 0 || std::size_t(index) >= positions_.size())
    return std::nullopt;
  vtkRenderer* r = vtk_->renderer();
  const auto& w = positions_[std::size_t(index)];
  r->SetWorldPoint(w[0], w[1], w[2], 1.0);
  r->WorldToDisplay();
  double d[3];
  r->GetDisplayPoint(d);
  const double ratio = vtk_->devicePixelRatioF();
  const int heightPx = vtk_->renderWindow()->GetSize()[1];
  return QPointF(d[0] / ratio, (heightPx - 1 - d[1]) / ratio);
}

std::optional<QPoint> EmbeddingCloudView::pick(QPointF at) const {
  if (!features_) return std::nullopt;
  // The projected point nearest `at`, within the radius.
  std::optional<QPoint> best;
  double bestDistance = kPickRadius;
  for (int p = 0; p < int(positions_.size()); ++p) {
    const QPoint patch(p % features_->gridW, p / features_->gridW);
    const std::optional<QPointF> shown = displayPosition(patch);
    if (!shown) return std::nullopt;
    const double distance = std::hypot(shown->x() - at.x(), shown->y() - at.y());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = patch;
    }
  }
  return best;
}

bool EmbeddingCloudView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == vtk_ && event->type() == QEvent::MouseButtonPress) {
    auto* e = static_cast<QMouseEvent*>(event);
    if (e->button() == Qt::LeftButton) {
      pressAt_ = e->position();
      pressed_ = true;
    }
  } else if (watched == vtk_ && event->type() == QEvent::MouseButtonRelease) {
    auto* e = static_cast<QMouseEvent*>(event);
    if (e->button() == Qt::LeftButton && pressed_) {
      pressed_ = false;
      const QPointF delta = e->position() - pressAt_;
      if (std::hypot(delta.x(), delta.y()) < kClickSlop) {
        guardSlot("embedding pick", [&] {
          if (const std::optional<QPoint> patch = pick(e->position())) {
            setSelectedPatch(patch);
            Q_EMIT patchPicked(*patch);
          }
        });
      }
    }
  }
  return QWidget::eventFilter(watched, event);  // the interactor still gets every event (rotate, zoom)
}

}  // namespace neco::ui

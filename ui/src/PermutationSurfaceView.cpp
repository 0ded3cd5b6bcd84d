#include "neco/ui/PermutationSurfaceView.h"

#include "neco/ui/VtkOpenGLWidget.h"

#include <QLabel>
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
#include <vtkRenderer.h>
#include <vtkUnsignedCharArray.h>

namespace neco::ui {

namespace {

// The surfaces span n x n in the x-y plane; a probability of 1 stands kHeight * n tall.
constexpr double kHeight = 0.35;
constexpr double kGap = 0.15;  // between the two surfaces, as a fraction of n

}  // namespace

struct PermutationSurfaceView::Scene {
  vtkNew<vtkPolyData> surface[2];
  vtkNew<vtkPolyDataMapper> mapper[2];
  vtkNew<vtkActor> actor[2];
};

PermutationSurfaceView::PermutationSurfaceView(QWidget* parent)
    : QWidget(parent), scene_(std::make_unique<Scene>()) {
  vtk_ = new VtkOpenGLWidget(this);
  vtk_->setObjectName(QStringLiteral("permutationSurfaceVtk"));
  vtk_->setMinimumSize(240, 200);
  caption_ = new QLabel(tr("Pin a patch: its student (left) and teacher (right) permutation matrices appear here"), this);
  caption_->setWordWrap(true);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(caption_);
  layout->addWidget(vtk_, 1);
  vtkRenderer* r = vtk_->renderer();
  r->SetBackground(0.12, 0.12, 0.14);
  for (int i = 0; i < 2; ++i) {
    scene_->mapper[i]->SetInputData(scene_->surface[i]);
    scene_->mapper[i]->SetScalarModeToUsePointData();
    scene_->mapper[i]->SetColorModeToDirectScalars();
    scene_->actor[i]->SetMapper(scene_->mapper[i]);
    r->AddActor(scene_->actor[i]);
  }
}

PermutationSurfaceView::~PermutationSurfaceView() = default;

void PermutationSurfaceView::setRows(const std::optional<SoftSortRow>& student, const std::optional<SoftSortRow>& teacher) {
  student_ = student;
  teacher_ = teacher;
  rebuild();
}

void PermutationSurfaceView::setColormap(ColormapKind kind) {
  colormap_ = Colormap(kind);
  rebuild();
}

int PermutationSurfaceView::surfacePointCount(bool teacher) const {
  return static_cast<int>(scene_->surface[teacher ? 1 : 0]->GetNumberOfPoints());
}

double PermutationSurfaceView::heightAt(bool teacher, int e, int r) const {
  vtkPolyData* s = scene_->surface[teacher ? 1 : 0];
  const vtkIdType id = vtkIdType(e) * n_ + r;
  if (e < 0 || r < 0 || e >= n_ || r >= n_ || id >= s->GetNumberOfPoints()) return 0.0;
  double p[3];
  s->GetPoint(id, p);
  return p[2];
}

void PermutationSurfaceView::rebuild() {
  const int previous = n_;
  n_ = student_ ? student_->n : teacher_ ? teacher_->n : 0;
  const std::optional<SoftSortRow>* rows[2] = {&student_, &teacher_};
  for (int i = 0; i < 2; ++i) {
    vtkNew<vtkPoints> points;
    vtkNew<vtkCellArray> quads;
    vtkNew<vtkUnsignedCharArray> colours;
    colours->SetNumberOfComponents(3);
    colours->SetName("probability");
    const auto& row = *rows[i];
    if (row && row->n == n_ && n_ >= 2 && row->permutation.size() == std::size_t(n_) * n_) {
      const double offset = i * n_ * (1.0 + kGap);
      for (int e = 0; e < n_; ++e) {
        for (int r = 0; r < n_; ++r) {
          const float p = row->permutation[std::size_t(e) * n_ + r];
          points->InsertNextPoint(offset + r, double(n_ - 1 - e), kHeight * n_ * p);  // row 0 at the back
          const PaletteColor c = colormap_.at(p);
          const unsigned char rgb[3] = {c.r, c.g, c.b};
          colours->InsertNextTypedTuple(rgb);
        }
      }
      for (int e = 0; e + 1 < n_; ++e) {
        for (int r = 0; r + 1 < n_; ++r) {
          const vtkIdType a = vtkIdType(e) * n_ + r;
          const vtkIdType quad[4] = {a, a + 1, a + n_ + 1, a + n_};
          quads->InsertNextCell(4, quad);
        }
      }
    }
    vtkPolyData* s = scene_->surface[i];
    s->SetPoints(points);
    s->SetPolys(quads);
    s->GetPointData()->SetScalars(colours);
    s->Modified();
  }
  if (n_ == 0) {
    caption_->setText(tr("Pin a patch: its student (left) and teacher (right) permutation matrices appear here"));
  } else {
    caption_->setText(tr("Student (left) and teacher (right) soft permutation matrices, n = %1: rows = reference e, "
                         "columns = rank r, height = probability. Drag to rotate, wheel to zoom.")
                          .arg(n_));
  }
  if (n_ != previous && n_ > 0) {
    vtkRenderer* r = vtk_->renderer();
    vtkCamera* camera = r->GetActiveCamera();
    camera->SetFocalPoint(n_ * (1.0 + kGap / 2), n_ / 2.0, 0.0);
    camera->SetPosition(n_ * (1.0 + kGap / 2), -1.4 * n_, 1.6 * n_);  // from the front, above
    camera->SetViewUp(0, 0, 1);
    r->ResetCamera();
    camera->Zoom(1.6);  // ResetCamera fits the bounding sphere, far more than the flat surfaces need
  }
  vtk_->update();
}

}  // namespace neco::ui

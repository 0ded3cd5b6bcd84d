#pragma once
// The "Permutation 3-D" dock: the student's and the teacher's soft permutation matrices of the
// pinned patch as two height fields side by side (VTK), rows = reference e, columns = rank r,
// height and colour = probability. A hard permutation is a row of single spikes; a soft one is a
// ridge. Drag to rotate, wheel to zoom (VTK's trackball camera).

#include "neco/core/Colormap.h"
#include "neco/core/SoftSort.h"

#include <QWidget>

#include <memory>
#include <optional>

class QLabel;

namespace neco::ui {

class VtkOpenGLWidget;

class PermutationSurfaceView : public QWidget {
  Q_OBJECT

 public:
  explicit PermutationSurfaceView(QWidget* parent = nullptr);
  ~PermutationSurfaceView() override;

  /// The two matrices to draw (either may be empty: its surface is removed). Resets the camera when
  /// n changes.
  void setRows(const std::optional<SoftSortRow>& student, const std::optional<SoftSortRow>& teacher);
  void setColormap(ColormapKind kind);
  /// Points of the student's / teacher's surface (n * n each, x = rank, y = reference, z = height).
  int surfacePointCount(bool teacher) const;
  /// The height of cell (e, r) of one surface, as drawn.
  double heightAt(bool teacher, int e, int r) const;
  VtkOpenGLWidget* vtkWidget() const noexcept { return vtk_; }

 private:
  struct Scene;
  void rebuild();

  std::unique_ptr<Scene> scene_;
  VtkOpenGLWidget* vtk_;
  QLabel* caption_;
  std::optional<SoftSortRow> student_, teacher_;
  Colormap colormap_{ColormapKind::Viridis};
  int n_ = 0;
};

}  // namespace neco::ui

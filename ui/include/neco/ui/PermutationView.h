#pragma once
// The soft permutation view: NeCo's row for the selected patch, sorted by the differentiable sorting
// network for the student and for the teacher, side by side, with their per-reference cross-entropy
// and its mean (NeCo's loss for that source patch). Steepness, network and relaxation re-sort the
// current features at once, on the GUI thread (a 49-wide row sorts in microseconds).
//
// The row: cosine similarities of the source patch to the evenly spaced 7 x 7 reference sub-grid of
// the image (ReferencePatches.h). The studio holds one model, so student and teacher sort the same
// features and differ only by their steepness (NeCo gives them separate steepness values).

#include "neco/core/Colormap.h"
#include "neco/core/SoftSort.h"
#include "neco/ui/FeatureService.h"

#include <QList>
#include <QPoint>
#include <QWidget>

#include <optional>
#include <vector>

class QComboBox;
class QLabel;
class QSlider;

namespace neco::ui {

class CrossEntropyStrip;
class PermutationMatrixWidget;

class PermutationView : public QWidget {
  Q_OBJECT
 public:
  explicit PermutationView(QWidget* parent = nullptr);
  ~PermutationView() override;

  /// The features and the selected patch of the row; null features or no patch clear the view.
  /// Re-sorts unless both are unchanged.
  void setSource(FeaturesPtr features, std::optional<QPoint> patch);
  void setColormap(ColormapKind kind);

  /// Steepness values are clamped to the sliders' range [1, 1000] (log scale) and kept exactly (the
  /// slider shows the nearest of its 100 steps per decade).
  void setStudentSteepness(double steepness);
  void setTeacherSteepness(double steepness);
  void setNetwork(SortNetworkKind kind);
  void setRelaxation(SortRelaxation relaxation);
  double studentSteepness() const;
  double teacherSteepness() const;
  SortNetworkKind network() const;
  SortRelaxation relaxation() const;
  SoftSortSettings studentSettings() const;
  SoftSortSettings teacherSettings() const;

  std::optional<QPoint> sourcePatch() const noexcept { return patch_; }
  /// The reference patches (row-major sub-grid) and the row being sorted.
  const std::vector<QPoint>& referencePatches() const noexcept { return references_; }
  const std::vector<float>& similarities() const noexcept { return similarities_; }
  /// The sorted rows, empty without a source (or when sorting failed: see warningText()).
  const std::optional<SoftSortRow>& studentRow() const noexcept { return student_; }
  const std::optional<SoftSortRow>& teacherRow() const noexcept { return teacher_; }
  /// The student's network for the current n (n == 0 without a row).
  const SortNetworkLayout& networkLayout() const noexcept { return layout_; }
  const std::vector<float>& crossEntropy() const noexcept { return crossEntropy_; }
  double meanCrossEntropy() const noexcept { return meanCrossEntropy_; }  ///< NaN without a row
  /// The visible warning (invalid network for n, a failed sort), empty when none.
  QString warningText() const;

  PermutationMatrixWidget* studentMatrix() const noexcept { return studentMatrix_; }
  PermutationMatrixWidget* teacherMatrix() const noexcept { return teacherMatrix_; }
  CrossEntropyStrip* crossEntropyStrip() const noexcept { return strip_; }
  QSlider* studentSteepnessSlider() const noexcept { return studentSlider_; }
  QSlider* teacherSteepnessSlider() const noexcept { return teacherSlider_; }
  QComboBox* networkBox() const noexcept { return network_; }
  QComboBox* relaxationBox() const noexcept { return relaxation_; }
  QLabel* warningLabel() const noexcept { return warning_; }
  QLabel* lossLabel() const noexcept { return loss_; }

  /// Slider position <-> steepness: position p in [0, 300] is 10^(p / 100).
  static double steepnessAt(int position);
  static int positionOf(double steepness);

 Q_SIGNALS:
  /// The reference patches changed (empty when the view was cleared).
  void referencePatchesChanged(QList<QPoint> patches);
  /// Emitted after every re-sort and after clearing.
  void sorted();

 private:
  void buildControls();
  void rebuildRow();
  void resort();
  void sortRow();
  void showResult();
  void updateCaption();

  QLabel* caption_;
  QSlider* studentSlider_;
  QSlider* teacherSlider_;
  QLabel* studentValue_;
  QLabel* teacherValue_;
  QComboBox* network_;
  QComboBox* relaxation_;
  QLabel* warning_;
  PermutationMatrixWidget* studentMatrix_;
  PermutationMatrixWidget* teacherMatrix_;
  CrossEntropyStrip* strip_;
  QLabel* loss_;

  FeaturesPtr features_;
  std::optional<QPoint> patch_;
  std::vector<QPoint> references_;
  std::vector<float> similarities_;
  SortNetworkLayout layout_;
  std::optional<SoftSortRow> student_;
  std::optional<SoftSortRow> teacher_;
  std::vector<float> crossEntropy_;
  double meanCrossEntropy_;
  double studentSteepness_;
  double teacherSteepness_;
  QString error_;
};

}  // namespace neco::ui

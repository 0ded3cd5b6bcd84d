#pragma once
// The training X-ray (issue 5): what NeCo's loss sees in the step about to run, for a paused run.
//
//   source image  -- every crop's rectangle, the chosen pair's intersection and its K x K RoI grid
//   global crop c -- as the network saw it (augmented), the intersection and the grid in its pixels
//   other crop v  -- the same; the grid cells are tinted by each source patch's loss
//   similarity rows of student and teacher (source patch x reference), the soft permutation
//   matrices of the chosen source patch, its per-reference cross-entropy, and the references it was
//   sorted against (queue slot or in-batch patch) with their teacher and student ranks.
//
// Clicking a grid cell in either crop (or a row of a similarity matrix) picks the source patch. The
// permutation matrices are recomputed here from the recorded similarity rows with the run's sort
// settings (the torch-free SoftSort facade, the same fused op); their mean cross-entropy is shown
// next to the loss the trainer recorded for that patch, so the two can be compared.

#include "neco/core/TrainingXRay.h"

#include <QColor>
#include <QImage>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace neco::ui {

class CrossEntropyStrip;
class PermutationMatrixWidget;

using XRayPtr = std::shared_ptr<const TrainingXRay>;

/// An image with boxes and one K x K grid drawn over it, in the image's own pixel coordinates.
class XRayCanvas : public QWidget {
  Q_OBJECT
 public:
  struct Box {
    XRayBox box;
    QColor colour;
    bool dashed = false;
    QString label;
  };

  explicit XRayCanvas(QWidget* parent = nullptr);
  void setTitle(const QString& title);
  void setImage(const QImage& image);
  void setBoxes(std::vector<Box> boxes);
  /// The grid over `box`; `heat` (K^2 values in [0, 1]) tints the cells, empty for none.
  void setGrid(const XRayBox& box, int k, std::vector<float> heat = {});
  void setSelectedCell(std::optional<int> cell);
  void clear();

  const QImage& image() const noexcept { return image_; }
  QRectF imageRect() const;                         ///< where the image is drawn
  QPointF toWidget(double x, double y) const;       ///< image pixels -> widget coordinates
  QRectF cellRect(int cell) const;                  ///< widget coordinates; empty without a grid
  std::optional<int> cellAt(QPointF position) const;

  QSize sizeHint() const override { return {260, 280}; }
  QSize minimumSizeHint() const override { return {140, 150}; }

 Q_SIGNALS:
  void cellClicked(int cell);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QString title_;
  QImage image_;
  std::vector<Box> boxes_;
  std::optional<XRayBox> grid_;
  int k_ = 0;
  std::vector<float> heat_;
  std::optional<int> selected_;
};

/// A rows x columns matrix as a heatmap on a fixed [lo, hi] scale with one highlighted row.
class XRayMatrix : public QWidget {
  Q_OBJECT
 public:
  explicit XRayMatrix(QWidget* parent = nullptr);
  void setTitle(const QString& title);
  void setMatrix(int rows, int columns, std::vector<float> values, float lo, float hi);
  void setSelectedRow(std::optional<int> row);
  QRectF matrixRect() const;
  const QImage& cellImage() const noexcept { return image_; }

  QSize sizeHint() const override { return {200, 222}; }
  QSize minimumSizeHint() const override { return {100, 122}; }

 Q_SIGNALS:
  void rowClicked(int row);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QString title_;
  QImage image_;
  int rows_ = 0, columns_ = 0;
  std::optional<int> selected_;
};

class TrainingXRayView : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingXRayView(QWidget* parent = nullptr);

  /// Shows an X-ray (its first image, first pair and the centre patch); null clears the view.
  void setXRay(XRayPtr xray);
  /// A line in place of the X-ray: why there is none, or what went wrong.
  void showMessage(const QString& message);
  /// Whether a new X-ray can be asked for (the run is paused): enables the button.
  void setRequestEnabled(bool enabled);

  void selectImage(int image);
  void selectPair(int pair);
  void selectPatch(int patch);

  const XRayPtr& xray() const noexcept { return xray_; }
  int currentImage() const noexcept { return image_; }
  int currentPair() const noexcept { return pair_; }
  int currentPatch() const noexcept { return patch_; }
  /// The chosen patch's loss recomputed from its similarity rows (NaN without one).
  double recomputedPatchLoss() const noexcept { return recomputed_; }
  QString summary() const;
  XRayCanvas* sourceCanvas() const noexcept { return source_; }
  XRayCanvas* globalCanvas() const noexcept { return global_; }
  XRayCanvas* otherCanvas() const noexcept { return other_; }
  XRayMatrix* studentSimilarity() const noexcept { return studentSim_; }
  XRayMatrix* teacherSimilarity() const noexcept { return teacherSim_; }
  PermutationMatrixWidget* studentPermutation() const noexcept { return studentPerm_; }
  PermutationMatrixWidget* teacherPermutation() const noexcept { return teacherPerm_; }
  CrossEntropyStrip* crossEntropy() const noexcept { return strip_; }
  QTableWidget* referenceTable() const noexcept { return references_; }
  QPushButton* requestButton() const noexcept { return request_; }

 Q_SIGNALS:
  void xrayRequested();

 private:
  void refreshPairs();
  void refreshImages();
  void refreshPatch();
  const XRayImage* image() const;
  const XRayPair* pair() const;

  XRayPtr xray_;
  int image_ = 0, pair_ = 0, patch_ = 0;
  double recomputed_ = 0;
  QLabel* summary_ = nullptr;
  QLabel* patchInfo_ = nullptr;
  QPushButton* request_ = nullptr;
  QComboBox* images_ = nullptr;
  QComboBox* pairs_ = nullptr;
  XRayCanvas *source_ = nullptr, *global_ = nullptr, *other_ = nullptr;
  XRayMatrix *studentSim_ = nullptr, *teacherSim_ = nullptr;
  PermutationMatrixWidget *studentPerm_ = nullptr, *teacherPerm_ = nullptr;
  CrossEntropyStrip* strip_ = nullptr;
  QTableWidget* references_ = nullptr;
};

}  // namespace neco::ui

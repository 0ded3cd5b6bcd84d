#pragma once
// The segmentation quality panel (issue 6): how well the current model's patch features segment a
// labelled dataset, image by image and class by class.
//
//   controls   protocol (overclustering / NN retrieval / linear probe), data, K slider (overclustering;
//              a new K re-clusters the cached tokens, debounced), Evaluate, Keep as base, overlay
//              (ground truth / prediction / errors), opacity, progress, mIoU (all / present classes)
//   images     worst first by per-image mIoU; or, after a click on a confusion cell, the images with
//              pixels in that cell, most pixels first
//   image      the selected image with the overlay in the dataset's palette, ignore hatched; the
//              legend's swatches recolour a class (click)
//   classes    per-class IoU, the base result's IoU and the change (green up, red down), sortable
//   confusion  ground truth x prediction, row-normalised, clickable
//
// Nothing is evaluated by itself: the model follows the studio (setModel) and Evaluate runs the
// chosen protocol on a worker thread (SegmentationEvaluator). The base a result is compared with is
// kept per protocol and data: the first result computed for them, until Keep as base replaces it.

#include "neco/ui/SegmentationEvaluator.h"
#include "neco/ui/SegmentationOverlay.h"
#include "neco/ui/SegmentationPalette.h"

#include <QColor>
#include <QHash>
#include <QImage>
#include <QWidget>

#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

class QComboBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTableWidget;
class QTimer;
class QTreeWidget;

namespace neco::ui {

class ConfusionMatrixWidget;

class SegmentationQualityView : public QWidget {
  Q_OBJECT
 public:
  explicit SegmentationQualityView(QWidget* parent = nullptr);
  ~SegmentationQualityView() override;

  /// The model Evaluate uses from now on (shown results keep naming the model they came from).
  void setModel(std::shared_ptr<const FeatureExtractor> model, const QString& label);
  void setDataChoice(const EvaluationDataChoice& choice);
  EvaluationDataChoice dataChoice() const { return data_; }
  /// The options of every protocol (the studio's fast defaults unless replaced); model, data,
  /// protocol and K come from the panel.
  void setOptions(const SegmentationRequest& options) { options_ = options; }
  const SegmentationRequest& options() const noexcept { return options_; }
  /// Shows the protocol's latest result (if any); Evaluate runs it.
  void setProtocol(SegmentationProtocol protocol);
  SegmentationProtocol protocol() const noexcept { return protocol_; }
  /// Moves the K slider: with an overclustering result shown, re-clusters after a short pause.
  void setK(int k);
  int k() const;
  void setOverlayMode(OverlayMode mode);
  OverlayMode overlayMode() const noexcept { return mode_; }
  void setOpacity(double opacity);  ///< [0, 1]
  double opacity() const noexcept { return opacity_; }

  /// Runs the chosen protocol on the current model and data (queued behind a running one).
  void evaluate();
  /// The shown result becomes the base of its protocol and data.
  void keepAsBase();
  void selectImage(int image);  ///< an image index of the outcome
  /// Lists only the images with pixels in confusion cell (gt, prediction), most first; opens the first.
  void selectConfusionCell(int gt, int prediction);
  void clearCellFilter();

  OutcomePtr outcome() const noexcept { return outcome_; }
  /// The base the shown result is compared with (null: none yet).
  OutcomePtr baseOutcome() const;
  bool evaluating() const noexcept { return evaluating_; }
  int imageListCount() const;
  int imageListEntry(int row) const;  ///< the image index listed at `row`
  int currentImage() const noexcept { return image_; }
  /// The current image with its overlay, at the image's size.
  const QImage& overlayImage() const noexcept { return overlay_; }
  std::vector<std::pair<int, std::int64_t>> confusionCellImages(int gt, int prediction) const;
  QColor classColor(int classIndex) const;
  const ClassPalette& classPalette() const noexcept { return palette_; }
  QString statusText() const;
  QString errorText() const;

  QComboBox* protocolCombo() const noexcept { return protocolBox_; }
  QSlider* kSlider() const noexcept { return kSlider_; }
  QPushButton* evaluateButton() const noexcept { return evaluate_; }
  QPushButton* keepBaseButton() const noexcept { return keepBase_; }
  QSlider* opacitySlider() const noexcept { return opacitySlider_; }
  QProgressBar* progressBar() const noexcept { return progress_; }
  QTreeWidget* imageList() const noexcept { return images_; }
  QTableWidget* classTable() const noexcept { return classes_; }
  QListWidget* legend() const noexcept { return legend_; }
  ConfusionMatrixWidget* confusionMatrix() const noexcept { return confusion_; }
  OverlayCanvas* canvas() const noexcept { return canvas_; }

 public Q_SLOTS:
  /// Recolours a class (the legend's colour dialog lands here).
  void setClassColor(int classIndex, const QColor& colour);

 Q_SIGNALS:
  /// A new result is shown (an evaluation finished, or the protocol switched to another one).
  void outcomeChanged();
  void evaluationFailed(QString message);

 private:
  QWidget* buildControls();
  QWidget* buildViews();
  SegmentationRequest makeRequest(SegmentationProtocol protocol) const;
  void onFinished(quint64 id, const OutcomePtr& outcome);
  void onFailed(quint64 id, const QString& message);
  void onProgress(quint64 id, qint64 done, qint64 total, const QString& stage);
  void onDataChosen(int index);
  void recluster();
  void showOutcome(OutcomePtr outcome);
  void refreshImageList();
  void refreshClassTable();
  void refreshLegend();
  void refreshOverlay();
  void refreshStatus();
  void pickClassColour(int classIndex);
  QString baseKey(const SegmentationOutcome& outcome) const;

  SegmentationEvaluator* evaluator_;
  std::shared_ptr<const FeatureExtractor> model_;
  QString modelLabel_;
  EvaluationDataChoice data_;
  SegmentationRequest options_;
  SegmentationProtocol protocol_ = SegmentationProtocol::Overcluster;
  OverlayMode mode_ = OverlayMode::Prediction;
  double opacity_ = 0.6;
  quint64 latest_ = 0;
  bool evaluating_ = false;
  std::array<OutcomePtr, 3> latestOutcomes_;  ///< per protocol
  QHash<QString, OutcomePtr> bases_;          ///< per protocol and data
  OutcomePtr outcome_;
  ClassPalette palette_;
  QHash<QString, QHash<int, QColor>> recoloured_;  ///< per dataset kind: the user's colours
  int image_ = -1;
  QImage imagePixels_;  ///< the current image as read, before the overlay
  QImage overlay_;
  std::optional<std::pair<int, int>> cellFilter_;
  QString error_;

  QComboBox* protocolBox_ = nullptr;
  QComboBox* dataBox_ = nullptr;
  QSpinBox* limit_ = nullptr;
  QSlider* kSlider_ = nullptr;
  QLabel* kLabel_ = nullptr;
  QTimer* kTimer_ = nullptr;
  QPushButton* evaluate_ = nullptr;
  QPushButton* keepBase_ = nullptr;
  QComboBox* overlayBox_ = nullptr;
  QSlider* opacitySlider_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* errorLabel_ = nullptr;
  QLabel* listTitle_ = nullptr;
  QPushButton* showAll_ = nullptr;
  QTreeWidget* images_ = nullptr;
  OverlayCanvas* canvas_ = nullptr;
  QListWidget* legend_ = nullptr;
  QTableWidget* classes_ = nullptr;
  ConfusionMatrixWidget* confusion_ = nullptr;
};

}  // namespace neco::ui

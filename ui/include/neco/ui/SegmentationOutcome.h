#pragma once
// One dense evaluation as the segmentation quality panel shows it, whatever the protocol: core's
// OverclusterResult (one K), RetrievalResult (its first seed) and LinearProbeResult each convert to
// a SegmentationOutcome, so the views never branch on the protocol. Plain values only: it is built
// on the evaluator's thread and handed to the GUI thread whole.

#include "neco/core/Evaluation.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace neco::ui {

enum class SegmentationProtocol { Overcluster = 0, Retrieval = 1, LinearProbe = 2 };

/// "Overclustering", "NN retrieval", "Linear probe".
const char* protocolName(SegmentationProtocol protocol) noexcept;

/// Pixels of one image in one confusion cell (ground truth row x prediction column).
struct CellPixels {
  std::int32_t cell = 0;  ///< gt * classes + prediction
  std::int64_t pixels = 0;
};

struct SegmentationOutcome {
  SegmentationProtocol protocol = SegmentationProtocol::Overcluster;
  std::string model;       ///< the model's description (name and weights)
  std::string modelLabel;  ///< the studio's short name of the model ("Demo model", a checkpoint)
  std::string data;        ///< "demo val (16 scenes)"
  std::string dataset;     ///< the palette's dataset kind: "demo", "voc", "ade20k", "cityscapes"
  int k = 0;               ///< overclustering's cluster count, else 0
  std::string matching;    ///< "hungarian", "many-to-one precision", "none" (the linear head)
  int classes = 0, ignoreIndex = 255;
  std::vector<std::string> classNames, imageIds;
  std::vector<double> iou;  ///< per class
  double miou = 0;          ///< the reference's mIoU (all classes)
  double miouPresent = 0;   ///< over the classes present in the ground truth
  double pixelAccuracy = 0;
  std::vector<std::int64_t> confusion;  ///< classes x classes, ground truth rows
  std::vector<double> imageMiou;        ///< per image, present-class mIoU
  std::vector<LabelImage> predictions;  ///< per image, matched class ids (all the same size)
  std::vector<LabelImage> targets;      ///< per image, the ground truth as scored, predictions' size
  /// Per image, its non-empty confusion cells (ascending cell), from predictions and targets.
  std::vector<std::vector<CellPixels>> imageCells;
  /// The images (read on demand for the image view; EvaluationData is safe to read concurrently).
  std::shared_ptr<const EvaluationData> images;
  double seconds = 0;  ///< wall time of the evaluation (0 for a re-clustering of cached tokens: its own)
};

using OutcomePtr = std::shared_ptr<const SegmentationOutcome>;

/// Run `run` of an overclustering result. Throws InvalidArgumentError for a run out of range or
/// predictions and targets that do not pair up.
SegmentationOutcome outcomeFromOvercluster(const OverclusterResult& result, std::size_t run = 0);
/// The first seed of a retrieval result. Throws InvalidArgumentError (no run, unpaired maps).
SegmentationOutcome outcomeFromRetrieval(const RetrievalResult& result);
/// A linear probe's validation at maskSize². Throws InvalidArgumentError (unpaired maps).
SegmentationOutcome outcomeFromLinearProbe(const LinearProbeResult& result);

/// Each image's non-empty confusion cells, counted from predictions and targets (pixels whose
/// target is the ignore index or out of range are skipped, as the confusion matrix does).
std::vector<std::vector<CellPixels>> countImageCells(const std::vector<LabelImage>& predictions,
                                                     const std::vector<LabelImage>& targets, int classes,
                                                     int ignoreIndex);

/// The images with pixels in confusion cell (gt, prediction) and their pixel counts, most first
/// (ties by image index).
std::vector<std::pair<int, std::int64_t>> cellImages(const SegmentationOutcome& outcome, int gt, int prediction);

/// Image indices by ascending per-image mIoU (ties by index): the worst first.
std::vector<int> worstFirst(const SegmentationOutcome& outcome);

}  // namespace neco::ui

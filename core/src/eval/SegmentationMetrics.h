#pragma once
// Dense evaluation metrics (issue 6, METHOD.md §4): a confusion matrix of ground-truth classes against
// predicted labels (classes, or cluster ids before matching), per-class IoU / precision / recall,
// pixel accuracy, and mIoU two ways:
//
//   reference  -- as NeCo's code: the mean over ALL C classes of TP / max(TP + FP + FN, 1e-8); a class
//                 never present nor predicted adds 0, and the ignore class, when it is one of the C
//                 (ADE20K's 0), is a term that is always 0 (ADE20K's mIoU is divided by 151).
//   present    -- the conventional one: the mean over classes with a non-empty union (GT or prediction),
//                 the ignore class excluded. Labelled as such wherever it is shown.
//
// Pixels whose ground truth equals the ignore index are dropped before counting. Matching predicted
// labels to classes: Hungarian on 1 - IoU (K == C, unmatched labels -> class 0) or the reference's
// greedy many-to-one by precision (K != C).

#include <cstdint>
#include <vector>

namespace neco::eval {

class ConfusionMatrix {
 public:
  /// `classes` ground-truth classes, `labels` predicted labels; `ignoreIndex` < 0 for none. Throws
  /// InvalidArgumentError for non-positive sizes.
  ConfusionMatrix(int classes, int labels, int ignoreIndex);

  /// Adds n pixels. Ground truth equal to the ignore index is skipped; any other value outside
  /// [0, classes), or a label outside [0, labels), throws InvalidArgumentError naming it.
  void add(const std::uint8_t* groundTruth, const std::int32_t* labels, std::size_t n);
  void add(const std::int32_t* groundTruth, const std::int32_t* labels, std::size_t n);
  void merge(const ConfusionMatrix& other);  ///< same sizes, else InvalidArgumentError

  int classes() const noexcept { return classes_; }
  int labels() const noexcept { return labels_; }
  int ignoreIndex() const noexcept { return ignore_; }
  std::int64_t count(int groundTruth, int label) const {
    return counts_[static_cast<std::size_t>(groundTruth) * static_cast<std::size_t>(labels_) + static_cast<std::size_t>(label)];
  }
  std::int64_t total() const noexcept;
  const std::vector<std::int64_t>& counts() const noexcept { return counts_; }  ///< row-major classes x labels

  /// The matrix with label l counted as class classOfLabel[l] (classes x classes). Throws
  /// InvalidArgumentError for a map of the wrong size or a class out of range.
  ConfusionMatrix relabelled(const std::vector<int>& classOfLabel) const;

 private:
  template <typename T>
  void addImpl(const T* groundTruth, const std::int32_t* labels, std::size_t n);
  int classes_, labels_, ignore_;
  std::vector<std::int64_t> counts_;
};

struct SegmentationScores {
  std::vector<double> iou, precision, recall;  ///< per class (0 where undefined)
  std::vector<std::int64_t> groundTruthPixels, predictedPixels;
  double pixelAccuracy = 0;
  double miouReference = 0;  ///< NeCo's: mean over all C classes (see the header)
  double miouPresent = 0;    ///< conventional: mean over classes with a non-empty union, ignore class excluded
  int presentClasses = 0;
};

/// Scores of a square matrix (labels == classes, e.g. after matching). Throws InvalidArgumentError otherwise.
SegmentationScores scoreSegmentation(const ConfusionMatrix& matrix);

/// Label -> class by Hungarian matching on 1 - IoU(label, class) (scipy's linear_sum_assignment in the
/// reference); labels left unmatched (labels > classes) map to class 0.
std::vector<int> hungarianMatch(const ConfusionMatrix& matrix);

/// Label -> class by the reference's many-to-one rule: each label to the class where its precision
/// TP / (TP + FP) is highest (the first on ties; a label never predicted -> class 0).
std::vector<int> precisionMatch(const ConfusionMatrix& matrix);

}  // namespace neco::eval

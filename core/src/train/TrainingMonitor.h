#pragma once
// What a run is learning, measured on a fixed held-out batch (not part of the method; the reference
// monitors k-means mIoU on VOC instead, METHOD.md §2.7):
//   held_out_loss  the NeCo loss on the held-out batch (in-batch references from a fixed generator,
//                  no update)
//   agreement      mean Spearman correlation between the student's and the teacher's orderings of
//                  every global-crop patch by similarity to 49 teacher patches -- the quantity
//                  NeCo trains: it rises as the student learns to order neighbours as the teacher does
// The batch is built once from the first images of a held-out source with fixed crops, so values
// at different steps are comparable.

#include "train/BatchBuilder.h"
#include "train/NecoStep.h"
#include "train/SampleSource.h"

#include <cstdint>

namespace neco::train {

struct MonitorValues {
  std::int64_t step = 0;  ///< steps done when measured
  double heldOutLoss = 0;
  double agreement = 0;
};

class TrainingMonitor {
 public:
  /// Builds the held-out batch from the first min(images, source.size()) images (at least 2).
  /// Throws InvalidArgumentError when the source has fewer than 2 images, or what building throws.
  TrainingMonitor(const SampleSource& source, const MultiCropConfig& crops, std::uint64_t seed, int images = 8);

  /// Measures `step`'s current networks (eval mode, no autograd; the training state is untouched).
  MonitorValues measure(NecoStep& step) const;

  const NecoBatch& batch() const noexcept { return batch_; }

 private:
  NecoBatch batch_;
};

/// Mean Spearman correlation between the rows of two (N, R) similarity matrices' orderings.
double orderingAgreement(const at::Tensor& student, const at::Tensor& teacher);

}  // namespace neco::train

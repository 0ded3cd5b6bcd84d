#pragma once
// The training X-ray (issue 5): everything NeCo's loss sees in one step, for the studio's X-ray view,
// torch-free. It describes the step about to run, computed with the current weights on the batch that
// step will use, without changing the run (TrainingSession::requestXRay): the crops of each image and
// where they came from, every (global crop, other crop) pair's intersection and RoI grid, the
// reference patches the pair was sorted against, and the similarity rows both networks sorted.
//
// Coordinates: boxes are (x1, y1, x2, y2) in pixels of the image they refer to. Patch m of a pair
// is cell (m / K, m % K) of the K x K RoI grid laid over the intersection (row-major, K = roiSize).

#include "neco/core/Image.h"
#include "neco/core/SoftSort.h"

#include <cstdint>
#include <string>
#include <vector>

namespace neco {

struct XRayBox {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  double width() const noexcept { return x2 - x1; }
  double height() const noexcept { return y2 - y1; }
};

struct XRayCrop {
  bool global = false;
  int size = 0;             ///< side of the crop as the network saw it, in pixels
  RgbImage pixels;          ///< the crop after augmentation, ImageNet normalisation undone
  XRayBox inImage;          ///< the crop's rectangle in the source image
  std::string augmentation; ///< e.g. "jitter b 1.12 c 0.91 s 1.30 h +0.04, grayscale, blur σ 1.2"
};

struct XRayReference {
  bool fromQueue = false;
  std::int64_t slot = -1;  ///< queue slot (0 = newest) when fromQueue
  int image = -1;          ///< in-batch: the batch image, and the cell of the pair's grid it came from
  int cellY = -1, cellX = -1;
};

struct XRayPair {
  int global = 0, other = 0;                 ///< crop indices (globals first)
  XRayBox inImage, inGlobal, inOther;        ///< the intersection in the image, crop `global`, crop `other`
  bool traced = true;                        ///< false: no position of this pair was in the loss mask
  std::vector<float> studentSimilarity;      ///< K^2 x K^2: [m * K^2 + r], source patch m to reference r
  std::vector<float> teacherSimilarity;      ///< the same for the teacher
  std::vector<float> patchLoss;              ///< K^2: each source patch's cross-entropy
  std::vector<std::uint8_t> inMask;          ///< K^2 loss-mask flags; empty when every patch counts
  std::vector<XRayReference> references;     ///< K^2
  double imageLoss = 0;                      ///< this image's share: mean patchLoss over the counted patches
  double batchLoss = 0;                      ///< subloss(c, v) over the whole batch
};

struct XRayImage {
  std::int64_t sample = 0;   ///< index in the training set
  std::string name;          ///< its path or scene id
  RgbImage source;           ///< the image as read (before any crop)
  std::vector<XRayCrop> crops;
  std::vector<XRayPair> pairs;  ///< c = 0..G-1, v != c, in the loss's order
};

struct TrainingXRay {
  std::int64_t step = 0;        ///< the step about to run (0-based)
  double stepLoss = 0;          ///< the loss that step will report
  int roiSize = 7;              ///< K
  int patchSize = 14;
  int batchSize = 0;
  SoftSortSettings student, teacher;  ///< the sorts the loss runs
  std::string lossMask;         ///< "all", "fg" or "bg"
  std::string references;       ///< "queue" or "batch" (what step `step` draws from)
  std::int64_t queueFill = 0, queueCapacity = 0, queueRowsPerPush = 0;
  std::vector<XRayImage> images;  ///< the first images of the batch
};

}  // namespace neco

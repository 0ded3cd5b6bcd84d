#pragma once
// Builds the training batches in background threads, a few steps ahead of the optimiser.
//
// Which images form step s, and every random draw of their crops and augmentation, are functions of
// (seed, s) alone: epoch e = s / iterationsPerEpoch takes a permutation of the dataset drawn from
// (seed, e) (shuffle, drop_last, as the reference's DataLoader), and sample i of epoch e draws from
// CropRng::forSample(seed, e, i). So the batches do not depend on the thread count or timing, and a
// loader started at step s (a resume) produces exactly what an uninterrupted run would.
//
// A sample that cannot be used (unreadable file, image too small for the overlap rule) is replaced
// by the next image of the dataset, deterministically, and reported in LoadedBatch::skipped.

#include "train/Augment.h"
#include "train/BatchBuilder.h"
#include "train/CropGeometry.h"
#include "train/NecoStep.h"
#include "train/SampleSource.h"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace neco::train {

struct BatchPlan {
  std::uint64_t seed = 400;
  int batchSize = 8;
  MultiCropConfig crops;
  PhotometricConfig photometric;
  int maxSubstitutes = 16;  ///< images tried in place of a bad one before the run stops
};

/// Training order of epoch `epoch`: a permutation of [0, n) drawn from (seed, epoch).
std::vector<std::int64_t> epochOrder(std::int64_t n, std::uint64_t seed, std::uint64_t epoch);

struct LoadedBatch {
  std::int64_t step = 0, epoch = 0;
  NecoBatch batch;
  std::vector<std::int64_t> indices;     ///< the samples used, after substitutions
  std::vector<CropLayout> layouts;       ///< each sample's crops in image pixels (the X-ray view)
  std::vector<std::vector<PhotometricDraw>> draws;  ///< each sample's per-crop augmentation (the X-ray view)
  std::vector<std::string> skipped;      ///< "<sample>: <reason>" for every replaced sample
  double waitMs = 0;                     ///< how long next() waited for the batch
};

class BatchLoader {
 public:
  /// `threads` 0 builds each batch inside next(); `prefetch` >= 1 batches are built ahead.
  /// Throws InvalidArgumentError when the source holds fewer images than one batch.
  BatchLoader(const SampleSource& source, BatchPlan plan, int threads, int prefetch, std::int64_t firstStep = 0);
  ~BatchLoader();  ///< stops and joins the threads; never throws
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// The batch of the next step (firstStep, firstStep + 1, ...). Throws TrainingError when a sample
  /// and all its substitutes failed, or what building a batch threw.
  LoadedBatch next();
  std::int64_t iterationsPerEpoch() const noexcept { return perEpoch_; }

 private:
  struct Sample {
    SampleCrops crops;
    std::int64_t index = 0;
    std::vector<std::string> skipped;
  };
  struct Pending {
    std::vector<std::unique_ptr<Sample>> samples;
    int remaining = 0;
    std::exception_ptr error;
  };

  void work();
  Sample buildSample(std::int64_t step, int slot);
  std::shared_ptr<const std::vector<std::int64_t>> orderOf(std::int64_t epoch);
  void store(std::int64_t step, int slot, std::unique_ptr<Sample> sample, std::exception_ptr error);
  LoadedBatch assemble(std::int64_t step, Pending pending);

  const SampleSource& source_;
  BatchPlan plan_;
  int prefetch_;
  std::int64_t perEpoch_;
  std::int64_t firstStep_;

  std::mutex mutex_;
  std::condition_variable workCv_, doneCv_;
  std::map<std::int64_t, Pending> pending_;
  std::map<std::int64_t, std::shared_ptr<const std::vector<std::int64_t>>> orders_;
  std::int64_t nextJob_ = 0;      // job j = (firstStep + j / B, slot j % B)
  std::int64_t consumerStep_;     // the step next() returns
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace neco::train

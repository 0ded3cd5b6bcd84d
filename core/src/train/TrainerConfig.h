#pragma once
// Everything a NeCo training run needs, resolved: the data source, the networks, the step's
// hyper-parameters, the crops and augmentation, and the loop's cadences. RunConfig (YAML with the
// reference's keys) produces one; the Trainer consumes it. Plain values only, so it can be compared,
// fingerprinted and written next to the run.

#include "nn/ViTConfig.h"
#include "train/Augment.h"
#include "train/CropGeometry.h"
#include "train/NecoStep.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace neco::train {

struct DataSourceConfig {
  /// "demo" (the embedded scenes, rendered in memory), "folder", "coco", "imagenet100k", "voc",
  /// "ade20k", "cityscapes" (data::datasetKindFromName).
  std::string dataset = "demo";
  std::filesystem::path root;  ///< data.data_dir; unused for "demo"
  std::string split = "train";
  double maxBadFraction = 0.01;  ///< the pre-scan stops the run above this fraction of bad files
  bool scanDecode = false;       ///< the pre-scan decodes every file instead of checking headers
  int loaderThreads = 2;         ///< num_workers
  int prefetchBatches = 2;       ///< batches built ahead of the step
};

/// Dense evaluation of the live weights during training (neco.eval_*; TrainingSession runs it).
struct InTrainingEvaluation {
  std::int64_t every = 0;  ///< steps; 0 = off
  std::string protocol = "overcluster", part = "student";
  std::string dataset;     ///< demo, voc, ade20k, cityscapes
  std::filesystem::path root;
  std::string split = "val", memorySplit = "train";
  std::size_t limit = 0;
  int inputSize = 0, k = 0, seeds = 1;
};

struct TrainerConfig {
  DataSourceConfig data;
  nn::ViTConfig backbone = nn::ViTConfig::tiny();
  /// A backbone checkpoint loaded into student and teacher; nullopt = random init from the seed.
  std::optional<std::filesystem::path> pretrained;
  StepConfig step;  ///< step.schedule.totalSteps is set by the trainer from the data (0 here)
  MultiCropConfig crops;
  PhotometricConfig photometric;
  int batchSize = 64;
  int epochs = 25;
  /// Stop after this many steps in all (0 = the whole schedule). The schedule still spans `epochs`,
  /// so `--steps` shortens a run without changing what each step does.
  std::int64_t maxSteps = 0;
  std::int64_t checkpointEvery = 0;  ///< steps between checkpoints; 0 = once per epoch
  int keepCheckpoints = 3;           ///< committed checkpoints kept (older ones are pruned)
  std::int64_t monitorEvery = 0;     ///< steps between held-out measurements (TrainingMonitor); 0 = off
  InTrainingEvaluation evaluation;
  std::uint64_t seed = 400;
};

}  // namespace neco::train

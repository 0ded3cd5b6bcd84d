#pragma once
// A training configuration small enough for unit tests: the tiny ViT on small demo scenes, crops of
// 56 / 28 px (4 x 4 and 2 x 2 tokens), batch 2, a short queue.

#include "train/SampleSource.h"
#include "train/TrainerConfig.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

namespace neco::test {

inline train::TrainerConfig tinyTrainerConfig() {
  train::TrainerConfig c;
  c.backbone = nn::ViTConfig::tiny();
  c.step.head = train::HeadConfig{64, 32};
  c.step.queueLength = 128;
  c.step.schedule.lrBackbone = 1e-4;
  c.step.schedule.lrHead = 1e-3;
  c.crops.globalSize = 56;
  c.crops.localSize = 28;
  c.crops.localCrops = 2;
  c.batchSize = 2;
  c.epochs = 2;
  c.seed = 11;
  c.data.loaderThreads = 2;
  c.data.prefetchBatches = 2;
  return c;
}

inline DemoDatasetOptions tinyDemo(int train = 8) {
  DemoDatasetOptions d;
  d.trainCount = train;
  d.minSide = 64;
  d.maxSide = 96;
  return d;
}

/// A fresh, empty folder under the system temp dir, removed when the object dies.
struct TempFolder {
  std::filesystem::path path;
  explicit TempFolder(const std::string& tag) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    path = std::filesystem::temp_directory_path() / ("neco-" + tag + "-" + std::to_string(rng()));
    std::filesystem::create_directories(path);
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace neco::test

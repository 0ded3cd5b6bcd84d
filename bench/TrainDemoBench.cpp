// neco_bench_train_demo [--steps N] [--batch B] [--seed S]: NeCo training on the embedded demo scenes
// with the tiny ViT, one JSON object per line on stdout: per step the loss, the step-time split, and
// every `--eval-every` steps two measures on a fixed held-out batch (validation scenes):
//   held_out_loss, agreement  as TrainingMonitor measures them (train/TrainingMonitor.h)
// The proof-of-learning run of docs/TRAINING.md; development tool, not a test.
#include "neco/core/DemoDataset.h"
#include "neco/core/Error.h"
#include "train/BatchBuilder.h"
#include "train/NecoStep.h"
#include "train/TrainingMonitor.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace neco::train;

namespace {

struct Options {
  int steps = 200, batch = 8, evalEvery = 20;
  std::uint64_t seed = 400;
};

MultiCropConfig crops() {
  MultiCropConfig c;
  c.globalSize = 112;  // 8 x 8 tokens
  c.localSize = 56;    // 4 x 4 tokens
  return c;
}

NecoBatch batchOf(int first, int count, std::uint64_t seed, std::uint64_t epoch) {
  const neco::DemoDatasetOptions demo;
  std::vector<SampleCrops> samples;
  for (int i = 0; i < count; ++i) {
    const at::Tensor image = imageTensor(neco::renderDemoScene(demo.seed, first + i, demo).image);
    CropRng rng = CropRng::forSample(seed, epoch, static_cast<std::uint64_t>(first + i));
    samples.push_back(makeSampleCrops(image, crops(), PhotometricConfig{}, rng));
  }
  return collate(samples);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const long v = std::atol(argv[i + 1]);
    if (k == "--steps") o.steps = static_cast<int>(v);
    else if (k == "--batch") o.batch = static_cast<int>(v);
    else if (k == "--eval-every") o.evalEvery = static_cast<int>(v);
    else if (k == "--seed") o.seed = static_cast<std::uint64_t>(v);
  }
  try {
    const neco::DemoDatasetOptions demo;
    StepConfig config;
    config.head = HeadConfig{256, 64};
    config.schedule.totalSteps = o.steps;
    config.schedule.lrBackbone = 1e-4;  // a from-scratch tiny backbone, not a pretrained DINOv2
    config.schedule.lrHead = 1e-3;
    config.queueLength = 2048;
    config.seed = o.seed;
    NecoStep trainer(neco::nn::ViTConfig::tiny(), config);
    const TrainingMonitor monitor(*demoValidationSource(demo), crops(), o.seed);
    const int perEpoch = demo.trainCount / o.batch;
    for (int step = 0; step <= o.steps; ++step) {
      std::string line = "{\"step\":" + std::to_string(step);
      if (step % o.evalEvery == 0 || step == o.steps) {
        const MonitorValues m = monitor.measure(trainer);
        line += ",\"held_out_loss\":" + std::to_string(m.heldOutLoss) + ",\"agreement\":" + std::to_string(m.agreement);
      }
      if (step < o.steps) {
        const auto t0 = std::chrono::steady_clock::now();
        const int epoch = step / perEpoch, first = (step % perEpoch) * o.batch;
        const NecoBatch batch = batchOf(first, o.batch, o.seed, static_cast<std::uint64_t>(epoch));
        const double dataMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        const StepReport r = trainer.step(batch);
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      ",\"loss\":%.6f,\"skipped\":%s,\"data_ms\":%.1f,\"forward_ms\":%.1f,\"loss_ms\":%.1f,"
                      "\"backward_ms\":%.1f,\"ema_ms\":%.1f,\"optimizer_ms\":%.1f",
                      r.loss, r.skipped ? "true" : "false", dataMs, r.forwardMs, r.lossMs, r.backwardMs, r.emaMs,
                      r.optimizerMs);
        line += buf;
      }
      std::printf("%s}\n", line.c_str());
      std::fflush(stdout);
    }
  } catch (const neco::Error& e) {
    std::fprintf(stderr, "neco_bench_train_demo: %s\n", e.what());
    return 1;
  }
  return 0;
}

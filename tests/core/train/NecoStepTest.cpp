#include "NecoTest.h"
#include "neco/core/Error.h"
#include "train/CropGeometry.h"
#include "train/NecoStep.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>

#include <cmath>

using namespace neco::train;

namespace {

constexpr int kGlobal = 56, kLocal = 28;  // 4 x 4 and 2 x 2 tokens of the tiny ViT (patch 14)

/// A batch cut from smooth random images with the real crop geometry: each crop is the image region
/// resized bilinearly to its output side.
NecoBatch makeBatch(std::uint64_t seed, int B = 2) {
  MultiCropConfig mc;
  mc.globalSize = kGlobal;
  mc.localSize = kLocal;
  mc.localCrops = 2;
  const int G = 2, V = 4;
  at::manual_seed(static_cast<std::uint64_t>(seed));
  NecoBatch batch;
  batch.inGlobal = at::zeros({B, G, V, 4}, at::kDouble);
  batch.inCrop = at::zeros({B, V, G, 4}, at::kDouble);
  std::vector<std::vector<at::Tensor>> perCrop(V);
  for (int b = 0; b < B; ++b) {
    const at::Tensor image = at::upsample_bilinear2d(at::randn({1, 3, 12, 15}), {160, 200}, false);
    CropRng rng = CropRng::forSample(seed, 0, static_cast<std::uint64_t>(b));
    const CropLayout L = sampleCropLayout(200, 160, mc, rng);
    for (int v = 0; v < V; ++v) {
      const PixelBox& c = L.crops[static_cast<std::size_t>(v)];
      const at::Tensor region = image.slice(2, c.top, c.bottom()).slice(3, c.left, c.right());
      const int S = L.sizes[static_cast<std::size_t>(v)];
      perCrop[static_cast<std::size_t>(v)].push_back(at::upsample_bilinear2d(region, {S, S}, false));
      for (int g = 0; g < G; ++g) {
        const RelativeBox a = L.inGlobal[static_cast<std::size_t>(g) * V + v], r = L.inCrop[static_cast<std::size_t>(v) * G + g];
        for (int k = 0; k < 4; ++k) {
          batch.inGlobal[b][g][v][k] = a[static_cast<std::size_t>(k)];
          batch.inCrop[b][v][g][k] = r[static_cast<std::size_t>(k)];
        }
      }
    }
  }
  for (auto& crops : perCrop) batch.crops.push_back(at::cat(crops, 0));
  return batch;
}

StepConfig tinyConfig() {
  StepConfig c;
  c.head = HeadConfig{64, 32};
  c.schedule.totalSteps = 100;
  c.queueLength = 128;
  c.queueRowsPerImage = 10;
  c.seed = 7;
  return c;
}

at::Tensor flatWeights(NecoNetworkImpl& net) {
  std::vector<at::Tensor> all;
  for (const auto& p : net.parameters()) all.push_back(p.detach().flatten());
  return at::cat(all);
}

}  // namespace

NECO_TEST(NecoStep, stepsUpdateStudentTeacherQueueAndSchedule) {
  NecoStep trainer(neco::nn::ViTConfig::tiny(), tinyConfig());
  const at::Tensor teacher0 = flatWeights(*trainer.teacher()), student0 = flatWeights(*trainer.student());
  const NecoBatch batch = makeBatch(1);
  const StepReport r0 = trainer.step(batch);
  NECO_CHECK(std::isfinite(r0.loss) && r0.loss > 0 && !r0.skipped && r0.gradNorm > 0);
  NECO_CHECK_NEAR(r0.hyper.lrHead, 1e-4, 1e-18);  // step 0 of the cosine
  NECO_CHECK_EQ(trainer.queue()->filled(0), 40);  // 2 crops x min(10 B, ...) = 2 x 20, the shared counter
  // The EMA ran on the student *before* its update: the teacher moved towards the initial student.
  const at::Tensor teacher1 = flatWeights(*trainer.teacher()), student1 = flatWeights(*trainer.student());
  NECO_CHECK(teacher1.allclose(0.9995 * teacher0 + 0.0005 * student0, 1e-6, 1e-7));
  NECO_CHECK(!student1.equal(student0));
  const StepReport r1 = trainer.step(makeBatch(2));
  NECO_CHECK_EQ(r1.step, 1);
  NECO_CHECK(r1.hyper.lrHead < r0.hyper.lrHead && r1.hyper.momentum > r0.hyper.momentum);
  NECO_CHECK_EQ(trainer.stepIndex(), 2);
}

NECO_TEST(NecoStep, sameSeedSameBatchesGiveBitIdenticalRuns) {
  NecoStep a(neco::nn::ViTConfig::tiny(), tinyConfig()), b(neco::nn::ViTConfig::tiny(), tinyConfig());
  for (int i = 0; i < 3; ++i) {
    const NecoBatch batch = makeBatch(10 + static_cast<std::uint64_t>(i));
    NECO_CHECK_EQ(a.step(batch).loss, b.step(batch).loss);
  }
  NECO_CHECK(flatWeights(*a.student()).equal(flatWeights(*b.student())));
  NECO_CHECK(flatWeights(*a.teacher()).equal(flatWeights(*b.teacher())));
}

NECO_TEST(NecoStep, nonFiniteStepsAreSkippedThenStopTheRun) {
  StepConfig config = tinyConfig();
  config.maxConsecutiveNonFinite = 3;
  NecoStep trainer(neco::nn::ViTConfig::tiny(), config);
  trainer.step(makeBatch(3));
  NecoBatch poisoned = makeBatch(4);
  poisoned.crops[2][0][0][5][5] = std::nan("");
  const at::Tensor student = flatWeights(*trainer.student()), teacher = flatWeights(*trainer.teacher());
  for (int i = 0; i < 2; ++i) {
    const StepReport r = trainer.step(poisoned);
    NECO_CHECK(r.skipped);
  }
  // skipped before the EMA and the optimizer: nothing moved
  NECO_CHECK(flatWeights(*trainer.student()).equal(student));
  NECO_CHECK(flatWeights(*trainer.teacher()).equal(teacher));
  NECO_CHECK_EQ(trainer.skippedSteps(), 2);
  trainer.step(makeBatch(5));  // a good step resets the run
  NECO_CHECK_EQ(trainer.consecutiveNonFinite(), 0);
  trainer.step(poisoned);
  trainer.step(poisoned);
  NECO_CHECK_THROWS(neco::TrainingError, trainer.step(poisoned));
}

NECO_TEST(NecoStep, lossFallsOnAFixedBatch) {
  StepConfig config = tinyConfig();
  config.schedule.lrBackbone = 1e-4;
  config.schedule.lrHead = 1e-3;
  config.studentDropPath = 0.0;
  config.useQueue = false;  // in-batch references: the target does not drift with the queue
  NecoStep trainer(neco::nn::ViTConfig::tiny(), config);
  const NecoBatch batch = makeBatch(6);
  double first = 0, last = 0;
  for (int i = 0; i < 12; ++i) {
    const double loss = trainer.step(batch).loss;
    if (i == 0) first = loss;
    last = loss;
  }
  std::printf("  loss %.4f -> %.4f over 12 steps\n", first, last);
  NECO_CHECK(last < first);
}

NECO_TEST(NecoStep, rejectsMalformedBatches) {
  NecoStep trainer(neco::nn::ViTConfig::tiny(), tinyConfig());
  NecoBatch batch = makeBatch(8);
  batch.crops.resize(2);  // only the global crops
  batch.inGlobal = batch.inGlobal.slice(2, 0, 2);
  batch.inCrop = batch.inCrop.slice(1, 0, 2);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, trainer.step(batch));
  NecoBatch bad = makeBatch(9);
  bad.crops[3] = at::zeros({2, 1, kLocal, kLocal});
  NECO_CHECK_THROWS(neco::InvalidArgumentError, trainer.step(bad));
  StepConfig small = tinyConfig();
  small.queueLength = 64;  // fewer than the 2 x 49 references a crop pair needs
  NecoStep tooSmall(neco::nn::ViTConfig::tiny(), small);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, tooSmall.step(makeBatch(8)));
  StepConfig noSchedule = tinyConfig();
  noSchedule.schedule.totalSteps = 0;  // forgetting the run length would silently give lr 0
  NECO_CHECK_THROWS(neco::InvalidArgumentError, NecoStep(neco::nn::ViTConfig::tiny(), noSchedule));
  StepConfig threeGlobals = tinyConfig();
  threeGlobals.globalCrops = 3;  // the batch has 2
  NecoStep mismatched(neco::nn::ViTConfig::tiny(), threeGlobals);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, mismatched.step(makeBatch(8)));
}

NECO_TEST(NecoStep, foregroundAndBackgroundMasksRestrictTheLossAndTheQueue) {
  // fg / bg (METHOD.md §2.8): the loss averages over masked positions only and the queue stores only
  // masked teacher rows; the two masks are complements, so their losses differ and both train.
  for (LossMask mask : {LossMask::Foreground, LossMask::Background}) {
    StepConfig c = tinyConfig();
    c.loss.mask = mask;
    NecoStep step(neco::nn::ViTConfig::tiny(), c);
    const NecoBatch batch = makeBatch(3);
    const StepReport first = step.step(batch);
    NECO_CHECK(std::isfinite(first.loss) && first.loss > 0);
    // queue pushes: at most the masked rows of each global crop (4 x 4 tokens x B = 2 -> < 32 rows)
    NECO_REQUIRE(step.queue() != nullptr);
    NECO_CHECK(step.queue()->filled(0) > 0 && step.queue()->filled(0) <= 2 * 2 * 10);
    const StepReport second = step.step(batch);  // now from the queue
    NECO_CHECK(std::isfinite(second.loss));
  }
  StepConfig all = tinyConfig(), fg = tinyConfig();
  fg.loss.mask = LossMask::Foreground;
  NecoStep a(neco::nn::ViTConfig::tiny(), all), f(neco::nn::ViTConfig::tiny(), fg);
  const NecoBatch batch = makeBatch(3);
  NECO_CHECK(a.step(batch).loss != f.step(batch).loss);
}

NECO_TEST(NecoStep, maskedLossAveragesOnlyOverMaskedPositions) {
  // A mask of ones gives exactly the unmasked loss; a mask of zeros skips every pair.
  const NecoBatch batch = makeBatch(5);
  StepConfig c = tinyConfig();
  NecoStep step(neco::nn::ViTConfig::tiny(), c);
  std::vector<at::Tensor> studentMaps, teacherMaps;
  {
    at::NoGradGuard noGrad;
    for (const at::Tensor& crop : batch.crops) studentMaps.push_back(step.student()->forward(crop));
    for (int g = 0; g < 2; ++g) teacherMaps.push_back(step.teacher()->forward(batch.crops[static_cast<std::size_t>(g)]));
  }
  const auto refs = [](int, int, const at::Tensor& aligned) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
    return batchReferences(aligned, gen);
  };
  const NecoLossResult plain = necoLoss({studentMaps, teacherMaps, batch.inGlobal, batch.inCrop, {}}, refs, c.loss);
  std::vector<at::Tensor> ones, zeros;
  for (const at::Tensor& m : teacherMaps) {
    ones.push_back(at::ones({m.size(0), 1, m.size(2), m.size(3)}));
    zeros.push_back(at::zeros({m.size(0), 1, m.size(2), m.size(3)}));
  }
  const NecoLossResult full = necoLoss({studentMaps, teacherMaps, batch.inGlobal, batch.inCrop, ones}, refs, c.loss);
  NECO_CHECK_NEAR(full.loss.item<double>(), plain.loss.item<double>(), 1e-6);
  NECO_CHECK(full.maskedPositions > 0);
  const NecoLossResult none = necoLoss({studentMaps, teacherMaps, batch.inGlobal, batch.inCrop, zeros}, refs, c.loss);
  NECO_CHECK_EQ(none.maskedPositions, 0);
  NECO_CHECK_EQ(none.loss.item<double>(), 0.0);
  NECO_CHECK_EQ(plain.maskedPositions, -1);
}

NECO_TEST(NecoStep, withoutTeacherTheStudentMakesItsOwnTargets) {
  StepConfig c = tinyConfig();
  c.useTeacher = false;
  NecoStep step(neco::nn::ViTConfig::tiny(), c);
  const auto before = step.teacher()->named_parameters()[0].value().clone();
  const auto studentBefore = step.student()->named_parameters()[0].value().clone();
  for (int i = 0; i < 2; ++i) NECO_CHECK(std::isfinite(step.step(makeBatch(4)).loss));
  NECO_CHECK(at::equal(before, step.teacher()->named_parameters()[0].value()));  // no EMA
  NECO_CHECK(!at::equal(studentBefore, step.student()->named_parameters()[0].value()));
}

NECO_TEST(NecoStep, inspectionPredictsTheStepExactlyAndChangesNothing) {
  // The training X-ray: inspect() runs the step's forward and loss on the batch and records what the
  // loss saw; the step that follows reports exactly that loss and ends in the same state as a twin
  // that was never inspected (generators, queue and weights restored).
  for (const bool useQueue : {true, false}) {
    for (const LossMask mask : {LossMask::All, LossMask::Foreground}) {
      StepConfig c = tinyConfig();
      c.useQueue = useQueue;
      c.loss.mask = mask;
      NecoStep a(neco::nn::ViTConfig::tiny(), c), b(neco::nn::ViTConfig::tiny(), c);
      a.step(makeBatch(20));
      b.step(makeBatch(20));
      const NecoBatch batch = makeBatch(21);
      const StepInspection x = a.inspect(batch);
      NECO_CHECK_EQ(a.inspect(batch).loss, x.loss);
      const StepReport ra = a.step(batch), rb = b.step(batch);
      NECO_CHECK_EQ(x.step, ra.step);
      NECO_CHECK_EQ(x.loss, ra.loss);
      NECO_CHECK_EQ(ra.loss, rb.loss);
      NECO_CHECK(flatWeights(*a.student()).equal(flatWeights(*b.student())));
      NECO_CHECK(flatWeights(*a.teacher()).equal(flatWeights(*b.teacher())));
      if (useQueue) NECO_CHECK(a.queue()->storage().equal(b.queue()->storage()));
      NECO_CHECK_EQ(a.step(makeBatch(22)).loss, b.step(makeBatch(22)).loss);

      NECO_REQUIRE(x.pairs.size() == 6u);  // 2 globals x 3 other crops
      const std::int64_t M = 49, B = 2;
      double sum = 0;
      for (const PairInspection& p : x.pairs) {
        sum += p.trace.loss;
        NECO_CHECK(p.trace.global < 2 && p.trace.other != p.trace.global);
        if (!p.trace.studentSims.defined()) continue;  // a pair with an empty mask
        NECO_CHECK_EQ(p.fromQueue, useQueue);
        NECO_CHECK(p.trace.studentSims.sizes().equals({B * M, M}) && p.trace.rowLoss.numel() == B * M);
        NECO_REQUIRE(p.provenance.numel() == B * M);
        if (useQueue) {
          NECO_CHECK(p.provenance.min().item<std::int64_t>() >= 0 && p.provenance.max().item<std::int64_t>() < c.queueLength);
        } else {
          // an in-batch reference is a teacher patch of the pair's regions (of any image): where it came
          // from the same image, its similarity to itself is there to see, and it is 1
          int seen = 0;
          for (std::int64_t i = 0; i < B * M; ++i) {
            const std::int64_t from = p.provenance[i].item<std::int64_t>();
            if (from / M != i / M) continue;
            ++seen;
            NECO_CHECK_NEAR(p.trace.teacherSims[from][i % M].item<double>(), 1.0, 1e-5);
          }
          NECO_CHECK(seen > 0);
          if (p.trace.positions.defined()) {  // masked: only masked patches are references
            NECO_CHECK(p.trace.positions.index_select(0, p.provenance).min().item<double>() == 1.0);
          }
        }
      }
      NECO_CHECK_NEAR(sum / 6.0, x.loss, 1e-5);  // float32 sublosses
    }
  }
}

NECO_TEST(NecoStep, devicesAreCheckedWithReasons) {
  StepConfig c = tinyConfig();
  c.device = "banana";
  NECO_CHECK_THROWS(neco::InvalidArgumentError, NecoStep(neco::nn::ViTConfig::tiny(), c));
  if (!at::hasCUDA()) {
    c.device = "cuda";
    NECO_CHECK_THROWS(neco::UnsupportedError, NecoStep(neco::nn::ViTConfig::tiny(), c));
  }
  c.device = "cpu";
  c.mixedPrecision = true;  // no effect on the CPU: bit-identical to fp32
  StepConfig fp32 = tinyConfig();
  fp32.mixedPrecision = false;
  NecoStep a(neco::nn::ViTConfig::tiny(), c), b(neco::nn::ViTConfig::tiny(), fp32);
  const NecoBatch batch = makeBatch(31);
  NECO_CHECK_EQ(a.step(batch).loss, b.step(batch).loss);
}

NECO_TEST(NecoStepCuda, matchesTheCpuStepAndMixedPrecisionStaysClose) {
  if (!torch::cuda::is_available()) {
    NECO_SKIP(NECO_TORCH_HAS_CUDA ? "no CUDA device available to LibTorch" : "LibTorch in this build has no CUDA");
  }
  StepConfig cpuConfig = tinyConfig(), cudaConfig = tinyConfig(), mixedConfig = tinyConfig();
  cudaConfig.device = mixedConfig.device = "cuda";
  cudaConfig.mixedPrecision = false;
  NecoStep cpu(neco::nn::ViTConfig::tiny(), cpuConfig), gpu(neco::nn::ViTConfig::tiny(), cudaConfig),
      mixed(neco::nn::ViTConfig::tiny(), mixedConfig);
  for (int i = 0; i < 3; ++i) {  // the same generators on the CPU: the same references and drop-path draws
    const NecoBatch batch = makeBatch(40 + static_cast<std::uint64_t>(i));
    const StepInspection x = gpu.inspect(batch);
    const StepReport rc = cpu.step(batch), rg = gpu.step(batch), rm = mixed.step(batch);
    NECO_CHECK_EQ(x.loss, rg.loss);  // the X-ray on the device predicts the device's step
    NECO_CHECK(!x.pairs.empty() && x.pairs[0].trace.studentSims.is_cpu());
    NECO_CHECK_NEAR(rg.loss, rc.loss, 1e-4 * std::abs(rc.loss));
    NECO_CHECK_NEAR(rg.gradNorm, rc.gradNorm, 1e-3 * rc.gradNorm);
    NECO_CHECK(std::isfinite(rm.loss) && std::abs(rm.loss - rc.loss) < 0.02 * std::abs(rc.loss));
  }
  NECO_CHECK(gpu.queue()->storage().is_cuda());
  NECO_CHECK(flatWeights(*gpu.teacher()).cpu().allclose(flatWeights(*cpu.teacher()), 1e-4, 1e-4));
}

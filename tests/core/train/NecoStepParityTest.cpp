// Two full NeCo steps (teacher and student forwards, in-batch references, loss, backward, EMA before
// AdamW with the scheduled lr / weight decay) against the independent Python step of
// tests/reference/neco_step_reference.py (golden: tests/reference/make_neco_step_fixtures.py), float64.
//
// Criterion (issue 5 item 10): every parameter of the student and the teacher after each step within
// 1e-5 of its largest entry, and the loss and gradient norm within 1e-5 relative. Achieved (printed by
// the test): parameters 1.4e-8 of the largest entry -- the resolution of the fixture, which stores each
// step's change in float32; with `make_neco_step_fixtures.py --float64-changes` the agreement is 7e-12
// (float64 rounding) --, both losses bit-identical, gradient norms 5e-16. A reference whose EMA runs after
// the optimizer (no one-step lag) misses by 6e-2, so the criterion is far from loose for what it checks.
#include "../checkpoint/ReferenceFixtures.h"
#include "NecoTest.h"
#include "checkpoint/BackboneLoader.h"
#include "formats/Safetensors.h"
#include "train/NecoStep.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

using namespace neco::train;

namespace {

struct Golden {
  std::map<std::string, at::Tensor> tensors;  // every tensor as float64
  std::map<std::string, std::string> meta;

  const at::Tensor& at(const std::string& key) const {
    const auto it = tensors.find(key);
    if (it == tensors.end()) throw neco::test::CheckFailure{"the golden file has no tensor " + key};
    return it->second;
  }
  double number(const std::string& key) const { return std::stod(meta.at(key)); }
  int integer(const std::string& key) const { return std::stoi(meta.at(key)); }
};

Golden loadGolden() {
  const auto st = neco::formats::readSafetensors(neco::test::dataDir() / "train" / "neco_step_golden.safetensors");
  Golden g;
  for (const auto& e : st.tensors) g.tensors[e.name] = neco::checkpoint::toTensorAsStored(e.tensor).to(at::kDouble);
  for (const auto& [key, value] : st.metadata) g.meta[key] = value;
  return g;
}

/// The generator's backbone: the tiny demo model's layout (patch 14, LayerScale, mask token, offset
/// interpolation from a 16 x 16 grid) at a smaller width and depth.
neco::nn::ViTConfig backboneOf(const Golden& g) {
  neco::nn::ViTConfig c = neco::nn::ViTConfig::tiny();
  c.embedDim = g.integer("embed_dim");
  c.depth = g.integer("depth");
  c.numHeads = g.integer("num_heads");
  c.posEmbedGrid = g.integer("pos_grid");
  c.patchSize = g.integer("patch_size");
  return c;
}

StepConfig configOf(const Golden& g) {
  StepConfig c;  // loss defaults: K 7, bitonic, Cauchy, cosine, log floor 1e-12
  c.loss.student.steepness = g.number("steepness");
  c.loss.teacher.steepness = g.number("steepness");
  c.head = HeadConfig{g.integer("head_hidden"), g.integer("head_out")};
  c.schedule.totalSteps = g.integer("total_steps");
  c.schedule.lrBackbone = g.number("lr_backbone");
  c.schedule.lrHead = g.number("lr_head");
  c.schedule.finalLr = 0.0;
  c.schedule.weightDecayStart = g.number("wd_start");
  c.schedule.weightDecayEnd = g.number("wd_end");
  c.schedule.momentumStart = g.number("momentum_start");
  c.studentDropPath = 0.0;
  c.useQueue = false;  // in-batch references: their permutations come from the step's generator
  c.seed = static_cast<std::uint64_t>(g.integer("seed"));
  return c;
}

void loadWeights(NecoNetworkImpl& net, const Golden& g, const std::string& prefix) {
  at::NoGradGuard noGrad;
  for (auto& item : net.named_parameters()) item.value().copy_(g.at(prefix + item.key()));
}

struct Worst {
  double error = 0;        // max |actual - expected| / max |expected| over the parameter tensors
  double updateError = 0;  // the same relative to the largest change of the parameter
  std::string where;
};

void compare(NecoNetworkImpl& net, const Golden& g, const std::string& who, int step, Worst& worst) {
  for (const auto& item : net.named_parameters()) {
    const at::Tensor init = g.at(who + ".init." + item.key());
    const at::Tensor change = g.at(who + ".step" + std::to_string(step) + "." + item.key());
    const at::Tensor expected = init + change;
    const double diff = neco::test::maxAbsDiff(item.value().detach(), expected);
    const double error = diff / std::max(1e-300, expected.abs().max().item<double>());
    const double updateError = diff / std::max(1e-12, change.abs().max().item<double>());
    worst.updateError = std::max(worst.updateError, updateError);
    if (error >= worst.error) {
      worst.error = error;
      worst.where = who + " " + item.key() + " after step " + std::to_string(step);
    }
  }
}

}  // namespace

NECO_TEST(NecoStepParity, twoFloat64StepsMatchThePythonReferenceWithin1e5) {
  const Golden g = loadGolden();
  NecoStep trainer(backboneOf(g), configOf(g));
  // The step runs in the parameters' dtype: float64 here (the optimizer sees the converted tensors,
  // Module::to replaces their data in place).
  trainer.student()->to(at::kDouble);
  trainer.teacher()->to(at::kDouble);
  loadWeights(*trainer.student(), g, "student.init.");
  loadWeights(*trainer.teacher(), g, "teacher.init.");

  NecoBatch batch;
  for (int v = 0; g.tensors.count("crop" + std::to_string(v)) > 0; ++v)
    batch.crops.push_back(g.at("crop" + std::to_string(v)));
  batch.inGlobal = g.at("in_global");
  batch.inCrop = g.at("in_crop");
  NECO_REQUIRE(batch.crops.size() == 4);

  const int steps = g.integer("steps");
  NECO_REQUIRE(steps == 2);
  Worst worst;
  double lossError = 0, normError = 0;
  for (int k = 1; k <= steps; ++k) {
    const StepReport r = trainer.step(batch);
    NECO_REQUIRE(!r.skipped);
    const double loss = g.at("loss")[k - 1].item<double>(), norm = g.at("grad_norm")[k - 1].item<double>();
    lossError = std::max(lossError, std::abs(r.loss - loss) / std::abs(loss));
    normError = std::max(normError, std::abs(r.gradNorm - norm) / norm);
    std::printf("  step %d: loss %.12f (Python %.12f), gradient norm %.10f (Python %.10f)\n", k, r.loss, loss,
                r.gradNorm, norm);
    compare(*trainer.student(), g, "student", k, worst);
    compare(*trainer.teacher(), g, "teacher", k, worst);
  }
  std::printf(
      "  worst parameter error %.2e of its largest entry (%s); worst error of a parameter's change %.2e "
      "of its largest change; loss %.2e, gradient norm %.2e relative\n",
      worst.error, worst.where.c_str(), worst.updateError, lossError, normError);
  if (!(worst.error <= 1e-5)) {
    neco::test::reportFailure(__FILE__, __LINE__,
                              "parameters differ from the Python step: " + std::to_string(worst.error) +
                                  " of the largest entry at " + worst.where);
  }
  if (!(lossError <= 1e-5 && normError <= 1e-5)) {
    neco::test::reportFailure(__FILE__, __LINE__,
                              "loss / gradient norm differ from the Python step: " + std::to_string(lossError) + " / " +
                                  std::to_string(normError));
  }
}

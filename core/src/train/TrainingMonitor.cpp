#include "train/TrainingMonitor.h"

#include "neco/core/Error.h"
#include "train/NecoLoss.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace neco::train {
namespace {

/// Ranks along the last axis (0 = smallest).
at::Tensor ranks(const at::Tensor& x) { return x.argsort(/*dim=*/int64_t{-1}).argsort(/*dim=*/int64_t{-1}).to(at::kDouble); }

/// Restores train mode on scope exit.
struct EvalScope {
  NecoNetworkImpl& net;
  bool wasTraining;
  explicit EvalScope(NecoNetworkImpl& n) : net(n), wasTraining(n.is_training()) { net.eval(); }
  ~EvalScope() { net.train(wasTraining); }
};

}  // namespace

double orderingAgreement(const at::Tensor& student, const at::Tensor& teacher) {
  const at::Tensor a = ranks(student), b = ranks(teacher);
  const at::Tensor ac = a - a.mean(-1, true), bc = b - b.mean(-1, true);
  return ((ac * bc).sum(-1) / (ac.norm(2, {-1}) * bc.norm(2, {-1})).clamp_min(1e-12)).mean().item<double>();
}

TrainingMonitor::TrainingMonitor(const SampleSource& source, const MultiCropConfig& crops, std::uint64_t seed, int images) {
  const std::int64_t n = std::min<std::int64_t>(images, source.size());
  if (n < 2) throw InvalidArgumentError("training monitor: the held-out set needs at least 2 images");
  std::vector<SampleCrops> samples;
  PhotometricConfig none;  // no photometric augmentation: only the crops vary
  none.jitterProbability = 0;
  none.grayscaleProbability = 0;
  none.blurProbability = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    CropRng rng = CropRng::forSample(seed, /*epoch=*/0, static_cast<std::uint64_t>(i));
    samples.push_back(makeSampleCrops(imageTensor(source.image(i)), crops, none, rng));
  }
  batch_ = collate(samples);
}

MonitorValues TrainingMonitor::measure(NecoStep& step) const {
  at::NoGradGuard noGrad;
  EvalScope studentEval(*step.student());
  const int G = step.config().globalCrops;
  std::vector<at::Tensor> studentMaps, teacherMaps;
  std::vector<at::Tensor> crops;  // on the step's device
  for (const at::Tensor& c : batch_.crops) crops.push_back(c.to(step.device()));
  for (const at::Tensor& c : crops) studentMaps.push_back(step.student()->forward(c));
  for (int c = 0; c < G; ++c) teacherMaps.push_back(step.teacher()->forward(crops[static_cast<std::size_t>(c)]));
  MonitorValues v;
  v.step = step.stepIndex();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(5);
  v.heldOutLoss = necoLoss({studentMaps, teacherMaps, batch_.inGlobal, batch_.inCrop, {}},
                           [&](int, int, const at::Tensor& aligned) { return batchReferences(aligned, generator); },
                           step.config().loss)
                      .loss.item<double>();
  const at::Tensor& s = studentMaps[0];
  const at::Tensor& t = teacherMaps[0];
  const std::int64_t C = s.size(1);
  const at::Tensor sr = s.permute({0, 2, 3, 1}).reshape({-1, C}), tr = t.permute({0, 2, 3, 1}).reshape({-1, C});
  const std::int64_t R = std::min<std::int64_t>(49, tr.size(0));
  // The same teacher patches are the references of both orderings, as in the loss.
  const at::Tensor references = tr.index_select(0, (at::arange(R, at::kLong) * (tr.size(0) / R)).to(tr.device())).t();
  v.agreement = orderingAgreement(sr.matmul(references).cpu(), tr.matmul(references).cpu());
  return v;
}

}  // namespace neco::train

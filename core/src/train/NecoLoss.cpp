#include "train/NecoLoss.h"

#include "neco/core/Error.h"
#include "ops/RoiAlign.h"
#include "sort/FusedSort.h"

#include <ATen/ATen.h>

#include <chrono>
#include <string>

namespace neco::train {
namespace {

void check(bool ok, const std::string& what) {
  if (!ok) throw InvalidArgumentError("NeCo loss: " + what);
}

/// (B, 4) pixel boxes of one (c, v) pair -> (B, 5) RoI-Align rows [image, x1, y1, x2, y2] in tokens.
at::Tensor tokenBoxes(const at::Tensor& pixelBoxes, int patchSize, const at::TensorOptions& options) {
  const auto B = pixelBoxes.size(0);
  const at::Tensor index = at::arange(B, options).unsqueeze(1);
  return at::cat({index, pixelBoxes.to(options) / static_cast<double>(patchSize)}, 1);
}

/// (B, C, K, K) -> (B, K^2, C): rows are source positions in row-major (y, x) order.
at::Tensor patchRows(const at::Tensor& aligned) { return aligned.flatten(2).transpose(1, 2); }

}  // namespace

at::Tensor patchSimilarities(const at::Tensor& sources, const at::Tensor& references, SimilarityKind kind) {
  at::Tensor s;
  if (kind == SimilarityKind::Cosine) {
    // torch.nn.functional.normalize: x / max(||x||, 1e-12)
    const at::Tensor a = sources / sources.norm(2, {2}, true).clamp_min(1e-12);
    const at::Tensor b = references / references.norm(2, {2}, true).clamp_min(1e-12);
    s = at::bmm(a, b.transpose(1, 2));
  } else {
    s = at::cdist(sources, references);
  }
  return s.reshape({-1, references.size(1)});
}

at::Tensor batchReferences(const at::Tensor& teacherAligned, const at::Generator& generator, at::Tensor* orderOut) {
  const at::Tensor rows = patchRows(teacherAligned).reshape({-1, teacherAligned.size(1)});
  const at::Tensor order = at::randperm(rows.size(0), generator, at::TensorOptions().dtype(at::kLong));
  if (orderOut != nullptr) *orderOut = order;
  return rows.index_select(0, order.to(rows.device())).reshape({teacherAligned.size(0), -1, teacherAligned.size(1)});
}

NecoLossResult necoLoss(const NecoLossInputs& in, const ReferenceSource& references, const NecoLossConfig& config,
                        std::vector<PairTrace>* trace) {
  const int G = static_cast<int>(in.teacherMaps.size()), V = static_cast<int>(in.studentMaps.size());
  check(G >= 1 && V > G - 1 && V >= 2, "need at least one teacher map and one other crop");
  const auto B = in.studentMaps[0].size(0);
  check(in.inGlobal.dim() == 4 && in.inGlobal.size(0) == B && in.inGlobal.size(1) == G && in.inGlobal.size(2) == V &&
            in.inGlobal.size(3) == 4,
        "inGlobal must be (B, G, V, 4)");
  check(in.inCrop.dim() == 4 && in.inCrop.size(0) == B && in.inCrop.size(1) == V && in.inCrop.size(2) == G &&
            in.inCrop.size(3) == 4,
        "inCrop must be (B, V, G, 4)");
  for (const auto* maps : {&in.studentMaps, &in.teacherMaps}) {
    for (const at::Tensor& m : *maps) {
      check(m.dim() == 4 && m.size(0) == B && m.size(1) == in.studentMaps[0].size(1), "every map must be (B, C, h, w)");
    }
  }
  ops::RoiAlignOptions roi;
  roi.outputSize = config.roiSize;
  const int M = config.roiSize * config.roiSize;
  const bool masked = !in.teacherMasks.empty();
  check(!masked || static_cast<int>(in.teacherMasks.size()) == G, "need one teacher mask per global crop");
  NecoLossResult result;
  if (masked) result.maskedPositions = 0;
  result.sub.assign(static_cast<std::size_t>(G), std::vector<double>(static_cast<std::size_t>(V), 0.0));
  at::Tensor total;
  for (int c = 0; c < G; ++c) {
    at::Tensor loss_c;
    for (int v = 0; v < V; ++v) {
      if (v == c) continue;
      const at::Tensor& teacherMap = in.teacherMaps[static_cast<std::size_t>(c)];
      const at::Tensor& studentMap = in.studentMaps[static_cast<std::size_t>(v)];
      at::Tensor teacherAligned;
      {
        at::NoGradGuard noGrad;  // the teacher is a target
        teacherAligned = ops::roiAlign(teacherMap.detach(),
                                       tokenBoxes(in.inGlobal.select(1, c).select(1, v), config.patchSize, teacherMap.options()), roi);
      }
      at::Tensor positions, candidates = teacherAligned;  // positions: (B K^2) 0 / 1 when masked
      if (masked) {
        at::NoGradGuard noGrad;
        const at::Tensor& mask = in.teacherMasks[static_cast<std::size_t>(c)];
        check(mask.dim() == 4 && mask.size(0) == B && mask.size(1) == 1 && mask.size(2) == teacherMap.size(2) &&
                  mask.size(3) == teacherMap.size(3),
              "every teacher mask must be (B, 1, h, w) like its map");
        // the reference's `aligned >= 1.0`, with room for the float rounding of an average of ones
        const at::Tensor aligned = ops::roiAlign(
            mask.to(teacherMap.scalar_type()), tokenBoxes(in.inGlobal.select(1, c).select(1, v), config.patchSize, teacherMap.options()), roi);
        positions = (aligned.reshape({-1}) >= 1.0 - 1e-6).to(teacherMap.scalar_type());
        const std::int64_t count = positions.sum().item<std::int64_t>();
        result.maskedPositions += count;
        if (count == 0) {  // nothing of this pair is in the mask: it contributes 0
          if (trace != nullptr) trace->push_back(PairTrace{c, v, {}, {}, {}, positions, 0.0});
          continue;
        }
        // in-batch candidates: the masked patches, tiled to B K^2 rows in (image, y, x) order
        const at::Tensor rows = patchRows(teacherAligned).reshape({-1, teacherAligned.size(1)});
        const at::Tensor kept = rows.index_select(0, positions.nonzero().flatten());
        const std::int64_t repeats = (rows.size(0) + count - 1) / count;
        candidates = kept.repeat({repeats, 1}).slice(0, 0, rows.size(0))
                         .reshape({B, config.roiSize, config.roiSize, -1}).permute({0, 3, 1, 2});
      }
      const at::Tensor studentAligned =
          ops::roiAlign(studentMap, tokenBoxes(in.inCrop.select(1, v).select(1, c), config.patchSize, studentMap.options()), roi);
      const at::Tensor refs = references(c, v, candidates).to(studentAligned.scalar_type()).detach();
      check(refs.dim() == 3 && refs.size(0) == B && refs.size(1) == M && refs.size(2) == studentMap.size(1),
            "references must be (B, K^2, C)");
      at::Tensor teacherSims;
      {
        at::NoGradGuard noGrad;
        teacherSims = patchSimilarities(patchRows(teacherAligned), refs, config.similarity);
      }
      const at::Tensor studentSims = patchSimilarities(patchRows(studentAligned), refs, config.similarity);
      // NOTE: the sort stays fp32 (or fp64) whatever precision the backbone ran in.
      const auto sortStart = std::chrono::steady_clock::now();
      const at::Tensor rowLoss = sort::sortCrossEntropy(studentSims, teacherSims, config.network, config.student,
                                                        config.teacher, config.logFloor);
      const at::Tensor sub = masked ? (rowLoss * positions).sum() / positions.sum() : rowLoss.mean();
      result.sortMs += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sortStart).count();
      result.sub[static_cast<std::size_t>(c)][static_cast<std::size_t>(v)] = sub.item<double>();
      if (trace != nullptr) {
        trace->push_back(PairTrace{c, v, studentSims.detach(), teacherSims, rowLoss.detach(), positions, sub.item<double>()});
      }
      loss_c = loss_c.defined() ? loss_c + sub : sub;
    }
    if (!loss_c.defined()) loss_c = at::zeros({}, in.studentMaps[0].options());  // every pair masked out
    loss_c = loss_c / static_cast<double>(V - 1);
    total = total.defined() ? total + loss_c : loss_c;
  }
  result.loss = total / static_cast<double>(G);
  return result;
}

}  // namespace neco::train

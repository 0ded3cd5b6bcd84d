#include "neco/ui/SegmentationOutcome.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace neco::ui {
namespace {

void checkPaired(const SegmentationOutcome& o, const char* protocol) {
  const std::size_t n = o.predictions.size();
  if (o.targets.size() != n || o.imageMiou.size() != n || (!o.imageIds.empty() && o.imageIds.size() != n))
    throw InvalidArgumentError(std::string(protocol) + ": " + std::to_string(n) + " predictions but " +
                               std::to_string(o.targets.size()) + " targets and " + std::to_string(o.imageMiou.size()) +
                               " per-image scores");
  for (std::size_t i = 0; i < n; ++i) {
    if (o.predictions[i].width != o.targets[i].width || o.predictions[i].height != o.targets[i].height)
      throw InvalidArgumentError(std::string(protocol) + ": image " + std::to_string(i) +
                                 "'s prediction and target differ in size");
  }
  if (o.confusion.size() != static_cast<std::size_t>(o.classes) * static_cast<std::size_t>(o.classes))
    throw InvalidArgumentError(std::string(protocol) + ": the confusion matrix is not classes x classes");
}

// The common tail of every adapter: ids when the result has none, the per-image cells.
SegmentationOutcome finish(SegmentationOutcome o, const char* protocol) {
  checkPaired(o, protocol);
  for (std::size_t i = o.imageIds.size(); i < o.predictions.size(); ++i)
    o.imageIds.push_back("image " + std::to_string(i));
  o.imageCells = countImageCells(o.predictions, o.targets, o.classes, o.ignoreIndex);
  return o;
}

}  // namespace

const char* protocolName(SegmentationProtocol protocol) noexcept {
  switch (protocol) {
    case SegmentationProtocol::Overcluster:
      return "Overclustering";
    case SegmentationProtocol::Retrieval:
      return "NN retrieval";
    case SegmentationProtocol::LinearProbe:
      return "Linear probe";
  }
  return "unknown";
}

SegmentationOutcome outcomeFromOvercluster(const OverclusterResult& result, std::size_t run) {
  if (run >= result.runs.size())
    throw InvalidArgumentError("overclustering: no run " + std::to_string(run) + " (the result has " +
                               std::to_string(result.runs.size()) + ")");
  const OverclusterRun& r = result.runs[run];
  SegmentationOutcome o;
  o.protocol = SegmentationProtocol::Overcluster;
  o.model = result.model;
  o.data = result.data;
  o.k = r.k;
  o.matching = r.matching;
  o.classes = result.classes;
  o.ignoreIndex = result.ignoreIndex;
  o.classNames = result.classNames;
  o.imageIds = result.imageIds;
  o.iou = r.iou;
  o.miou = r.miou;
  o.miouPresent = r.miouPresent;
  o.pixelAccuracy = r.pixelAccuracy;
  o.confusion = r.confusion;
  o.imageMiou = r.imageMiou;
  o.predictions = r.predictions;
  o.targets = result.targets;
  o.seconds = result.featureSeconds + result.clusterSeconds;
  return finish(std::move(o), "overclustering");
}

SegmentationOutcome outcomeFromRetrieval(const RetrievalResult& result) {
  if (result.runs.empty()) throw InvalidArgumentError("nn-retrieval: the result has no run");
  const RetrievalRun& r = result.runs.front();  // the seed the predictions and the confusion come from
  SegmentationOutcome o;
  o.protocol = SegmentationProtocol::Retrieval;
  o.model = result.model;
  o.data = result.queryData;
  o.matching = "hungarian";
  o.classes = result.classes;
  o.ignoreIndex = result.ignoreIndex;
  o.classNames = result.classNames;
  o.imageIds = result.imageIds;
  o.iou = r.iou;
  o.miou = r.miou;
  o.miouPresent = r.miouPresent;
  o.pixelAccuracy = r.pixelAccuracy;
  o.confusion = result.confusion;
  o.imageMiou = result.imageMiou;
  o.predictions = result.predictions;
  o.targets = result.targets;
  o.seconds = r.memorySeconds + r.searchSeconds;
  return finish(std::move(o), "nn-retrieval");
}

SegmentationOutcome outcomeFromLinearProbe(const LinearProbeResult& result) {
  SegmentationOutcome o;
  o.protocol = SegmentationProtocol::LinearProbe;
  o.model = result.model;
  o.data = result.valData;
  o.matching = "none";
  o.classes = result.classes;
  o.ignoreIndex = result.ignoreIndex;
  o.classNames = result.classNames;
  o.imageIds = result.imageIds;
  o.iou = result.iou;
  o.miou = result.miou;
  o.miouPresent = result.miouPresent;
  o.pixelAccuracy = result.pixelAccuracy;
  o.confusion = result.confusion;
  o.imageMiou = result.imageMiou;
  o.predictions = result.predictions;
  o.targets = result.targets;
  o.seconds = result.featureSeconds + result.trainSeconds + result.evalSeconds;
  return finish(std::move(o), "linear probe");
}

std::vector<std::vector<CellPixels>> countImageCells(const std::vector<LabelImage>& predictions,
                                                     const std::vector<LabelImage>& targets, int classes,
                                                     int ignoreIndex) {
  std::vector<std::vector<CellPixels>> out(predictions.size());
  std::vector<std::int64_t> dense(static_cast<std::size_t>(classes) * static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < predictions.size() && i < targets.size(); ++i) {
    std::fill(dense.begin(), dense.end(), 0);
    const auto& p = predictions[i].labels;
    const auto& t = targets[i].labels;
    for (std::size_t j = 0; j < p.size() && j < t.size(); ++j) {
      if (t[j] == ignoreIndex || t[j] >= classes || p[j] >= classes) continue;
      ++dense[static_cast<std::size_t>(t[j]) * static_cast<std::size_t>(classes) + p[j]];
    }
    for (std::size_t c = 0; c < dense.size(); ++c)
      if (dense[c] > 0) out[i].push_back({static_cast<std::int32_t>(c), dense[c]});
  }
  return out;
}

std::vector<std::pair<int, std::int64_t>> cellImages(const SegmentationOutcome& outcome, int gt, int prediction) {
  std::vector<std::pair<int, std::int64_t>> out;
  if (gt < 0 || prediction < 0 || gt >= outcome.classes || prediction >= outcome.classes) return out;
  const CellPixels key{static_cast<std::int32_t>(gt * outcome.classes + prediction), 0};
  for (std::size_t i = 0; i < outcome.imageCells.size(); ++i) {
    const auto& cells = outcome.imageCells[i];
    const auto it = std::lower_bound(cells.begin(), cells.end(), key,
                                     [](const CellPixels& a, const CellPixels& b) { return a.cell < b.cell; });
    if (it != cells.end() && it->cell == key.cell) out.emplace_back(static_cast<int>(i), it->pixels);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

std::vector<int> worstFirst(const SegmentationOutcome& outcome) {
  std::vector<int> order(outcome.imageMiou.size());
  std::iota(order.begin(), order.end(), 0);
  // an image without scored pixels (NaN) goes last: it has nothing to show
  const auto key = [&](int i) {
    const double v = outcome.imageMiou[static_cast<std::size_t>(i)];
    return std::isnan(v) ? std::numeric_limits<double>::infinity() : v;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
  return order;
}

}  // namespace neco::ui

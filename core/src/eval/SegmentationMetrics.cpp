#include "eval/SegmentationMetrics.h"

#include "eval/Hungarian.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <numeric>
#include <string>

namespace neco::eval {

ConfusionMatrix::ConfusionMatrix(int classes, int labels, int ignoreIndex)
    : classes_(classes), labels_(labels), ignore_(ignoreIndex) {
  if (classes < 1 || labels < 1) {
    throw InvalidArgumentError("confusion matrix: need at least one class and one label, got " + std::to_string(classes) +
                               " and " + std::to_string(labels));
  }
  counts_.assign(static_cast<std::size_t>(classes) * static_cast<std::size_t>(labels), 0);
}

template <typename T>
void ConfusionMatrix::addImpl(const T* groundTruth, const std::int32_t* labels, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const int g = static_cast<int>(groundTruth[i]);
    if (g == ignore_) continue;
    const int l = labels[i];
    if (g < 0 || g >= classes_) {
      throw InvalidArgumentError("confusion matrix: ground-truth value " + std::to_string(g) + " is not a class of [0, " +
                                 std::to_string(classes_) + ") nor the ignore index " + std::to_string(ignore_));
    }
    if (l < 0 || l >= labels_) {
      throw InvalidArgumentError("confusion matrix: predicted label " + std::to_string(l) + " outside [0, " +
                                 std::to_string(labels_) + ")");
    }
    ++counts_[static_cast<std::size_t>(g) * static_cast<std::size_t>(labels_) + static_cast<std::size_t>(l)];
  }
}

void ConfusionMatrix::add(const std::uint8_t* groundTruth, const std::int32_t* labels, std::size_t n) {
  addImpl(groundTruth, labels, n);
}

void ConfusionMatrix::add(const std::int32_t* groundTruth, const std::int32_t* labels, std::size_t n) {
  addImpl(groundTruth, labels, n);
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  if (other.classes_ != classes_ || other.labels_ != labels_) {
    throw InvalidArgumentError("confusion matrix: cannot merge a " + std::to_string(other.classes_) + " x " +
                               std::to_string(other.labels_) + " matrix into a " + std::to_string(classes_) + " x " +
                               std::to_string(labels_) + " one");
  }
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

std::int64_t ConfusionMatrix::total() const noexcept {
  return std::accumulate(counts_.begin(), counts_.end(), std::int64_t{0});
}

ConfusionMatrix ConfusionMatrix::relabelled(const std::vector<int>& classOfLabel) const {
  if (classOfLabel.size() != static_cast<std::size_t>(labels_)) {
    throw InvalidArgumentError("confusion matrix: the label map has " + std::to_string(classOfLabel.size()) +
                               " entries for " + std::to_string(labels_) + " labels");
  }
  ConfusionMatrix out(classes_, classes_, ignore_);
  for (int l = 0; l < labels_; ++l) {
    const int c = classOfLabel[static_cast<std::size_t>(l)];
    if (c < 0 || c >= classes_) throw InvalidArgumentError("confusion matrix: label " + std::to_string(l) + " mapped to class " + std::to_string(c));
    for (int g = 0; g < classes_; ++g) {
      out.counts_[static_cast<std::size_t>(g) * static_cast<std::size_t>(classes_) + static_cast<std::size_t>(c)] += count(g, l);
    }
  }
  return out;
}

SegmentationScores scoreSegmentation(const ConfusionMatrix& m) {
  if (m.labels() != m.classes()) {
    throw InvalidArgumentError("segmentation scores: the matrix must be square (match the " + std::to_string(m.labels()) +
                               " labels to the " + std::to_string(m.classes()) + " classes first)");
  }
  const int C = m.classes();
  SegmentationScores s;
  s.iou.assign(static_cast<std::size_t>(C), 0.0);
  s.precision = s.recall = s.iou;
  s.groundTruthPixels.assign(static_cast<std::size_t>(C), 0);
  s.predictedPixels = s.groundTruthPixels;
  std::int64_t correct = 0;
  for (int g = 0; g < C; ++g) {
    for (int l = 0; l < C; ++l) {
      s.groundTruthPixels[static_cast<std::size_t>(g)] += m.count(g, l);
      s.predictedPixels[static_cast<std::size_t>(l)] += m.count(g, l);
    }
    correct += m.count(g, g);
  }
  double sumPresent = 0;
  for (int c = 0; c < C; ++c) {
    const auto i = static_cast<std::size_t>(c);
    const double tp = static_cast<double>(m.count(c, c));
    const double fp = static_cast<double>(s.predictedPixels[i]) - tp, fn = static_cast<double>(s.groundTruthPixels[i]) - tp;
    s.iou[i] = tp / std::max(tp + fp + fn, 1e-8);
    s.precision[i] = s.predictedPixels[i] > 0 ? tp / static_cast<double>(s.predictedPixels[i]) : 0.0;
    s.recall[i] = s.groundTruthPixels[i] > 0 ? tp / static_cast<double>(s.groundTruthPixels[i]) : 0.0;
    s.miouReference += s.iou[i];
    if (c != m.ignoreIndex() && tp + fp + fn > 0) {
      sumPresent += s.iou[i];
      ++s.presentClasses;
    }
  }
  s.miouReference /= C;
  s.miouPresent = s.presentClasses > 0 ? sumPresent / s.presentClasses : 0.0;
  const std::int64_t total = m.total();
  s.pixelAccuracy = total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
  return s;
}

std::vector<int> hungarianMatch(const ConfusionMatrix& m) {
  const int C = m.classes(), K = m.labels();
  std::vector<std::int64_t> gt(static_cast<std::size_t>(C), 0), pred(static_cast<std::size_t>(K), 0);
  for (int g = 0; g < C; ++g) {
    for (int l = 0; l < K; ++l) {
      gt[static_cast<std::size_t>(g)] += m.count(g, l);
      pred[static_cast<std::size_t>(l)] += m.count(g, l);
    }
  }
  std::vector<double> cost(static_cast<std::size_t>(K) * static_cast<std::size_t>(C));
  for (int l = 0; l < K; ++l) {
    for (int g = 0; g < C; ++g) {
      const double tp = static_cast<double>(m.count(g, l));
      const double uni = static_cast<double>(gt[static_cast<std::size_t>(g)] + pred[static_cast<std::size_t>(l)]) - tp;
      cost[static_cast<std::size_t>(l) * static_cast<std::size_t>(C) + static_cast<std::size_t>(g)] = 1.0 - tp / std::max(uni, 1e-8);
    }
  }
  const Assignment a = minimumCostAssignment(cost, K, C);
  std::vector<int> out(static_cast<std::size_t>(K), 0);
  for (int l = 0; l < K; ++l) out[static_cast<std::size_t>(l)] = std::max(0, a.columnOfRow[static_cast<std::size_t>(l)]);
  return out;
}

std::vector<int> precisionMatch(const ConfusionMatrix& m) {
  const int C = m.classes(), K = m.labels();
  std::vector<int> out(static_cast<std::size_t>(K), 0);
  for (int l = 0; l < K; ++l) {
    std::int64_t best = 0;  // precision = count / column total: the largest count wins
    for (int g = 0; g < C; ++g) {
      if (m.count(g, l) > best) {
        best = m.count(g, l);
        out[static_cast<std::size_t>(l)] = g;
      }
    }
  }
  return out;
}

}  // namespace neco::eval

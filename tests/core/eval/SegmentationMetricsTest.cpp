#include "NecoTest.h"
#include "../checkpoint/ReferenceFixtures.h"
#include "eval/Hungarian.h"
#include "eval/SegmentationMetrics.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace neco::eval;

namespace {

std::vector<double> doubles(const neco::formats::RawTensor& t) {
  const auto bytes = t.contiguousBytes();
  std::vector<double> v(bytes.size() / sizeof(double));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

/// The brute-force optimum over every injective map of the smaller side (tiny sizes only).
double bruteForce(const std::vector<double>& cost, int rows, int cols) {
  const bool t = rows > cols;
  const int n = t ? cols : rows, m = t ? rows : cols;
  std::vector<int> pick(static_cast<std::size_t>(m));
  std::iota(pick.begin(), pick.end(), 0);
  double best = 1e300;
  do {
    double s = 0;
    for (int i = 0; i < n; ++i) {
      const int j = pick[static_cast<std::size_t>(i)];
      s += t ? cost[static_cast<std::size_t>(j) * cols + i] : cost[static_cast<std::size_t>(i) * cols + j];
    }
    best = std::min(best, s);
  } while (std::next_permutation(pick.begin(), pick.end()));
  return best;
}

void addLabels(ConfusionMatrix& m, std::vector<std::int32_t> gt, std::vector<std::int32_t> labels) {
  m.add(gt.data(), labels.data(), gt.size());
}

}  // namespace

NECO_TEST(Assignment, matchesScipysLinearSumAssignment) {
  const auto st = neco::formats::readSafetensors(neco::test::dataDir() / "eval" / "assignment_golden.safetensors");
  std::map<std::string, const neco::formats::RawTensor*> byName;
  std::map<std::string, std::string> meta(st.metadata.begin(), st.metadata.end());
  for (const auto& e : st.tensors) byName[e.name] = &e.tensor;
  const int cases = std::stoi(meta.at("cases"));
  NECO_CHECK(cases >= 10);
  for (int i = 0; i < cases; ++i) {
    const auto& c = *byName.at("cost_" + std::to_string(i));
    const int rows = static_cast<int>(c.shape[0]), cols = static_cast<int>(c.shape[1]);
    const std::vector<double> cost = doubles(c);
    const Assignment a = minimumCostAssignment(cost, rows, cols);
    const double optimum = std::stod(meta.at("optimum_" + std::to_string(i)));
    NECO_CHECK_NEAR(a.cost, optimum, 1e-12 * std::max(1.0, optimum));
    std::vector<int> usedColumns;
    for (int r = 0; r < rows; ++r) {
      if (a.columnOfRow[static_cast<std::size_t>(r)] >= 0) usedColumns.push_back(a.columnOfRow[static_cast<std::size_t>(r)]);
    }
    NECO_CHECK_EQ(static_cast<int>(usedColumns.size()), std::min(rows, cols));
    std::sort(usedColumns.begin(), usedColumns.end());
    NECO_CHECK(std::adjacent_find(usedColumns.begin(), usedColumns.end()) == usedColumns.end());
    // where the optimum is unique (random reals) the pairs are scipy's too
    if (i < 10) {
      const std::vector<double> sr = doubles(*byName.at("rows_" + std::to_string(i))),
                                sc = doubles(*byName.at("cols_" + std::to_string(i)));
      for (std::size_t k = 0; k < sr.size(); ++k) {
        NECO_CHECK_EQ(a.columnOfRow[static_cast<std::size_t>(sr[k])], static_cast<int>(sc[k]));
      }
    }
  }
}

NECO_TEST(Assignment, optimalOnSmallMatricesAndRejectsBadInput) {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> value(0, 9);  // integers: plenty of ties
  for (int trial = 0; trial < 200; ++trial) {
    const int rows = 1 + trial % 6, cols = 1 + (trial / 6) % 6;
    std::vector<double> cost(static_cast<std::size_t>(rows * cols));
    for (double& c : cost) c = value(rng);
    NECO_CHECK_EQ(minimumCostAssignment(cost, rows, cols).cost, bruteForce(cost, rows, cols));
  }
  NECO_CHECK_THROWS(neco::InvalidArgumentError, minimumCostAssignment({1, 2, 3}, 2, 2));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, minimumCostAssignment({1, 2, 3, std::nan("")}, 2, 2));
  NECO_CHECK(minimumCostAssignment({}, 0, 3).columnOfRow.empty());
}

NECO_TEST(SegmentationMetrics, handComputedMatrixAndBothMious) {
  // 3 classes, 255 ignored: (gt, label) pairs (0,0) (0,1) (1,1) (1,1) (2,0), one ignored pixel
  ConfusionMatrix m(3, 3, 255);
  addLabels(m, {0, 0, 1, 1, 2, 255}, {0, 1, 1, 1, 0, 2});
  NECO_CHECK_EQ(m.total(), 5);
  NECO_CHECK_EQ(m.count(1, 1), 2);
  const SegmentationScores s = scoreSegmentation(m);
  NECO_CHECK_NEAR(s.iou[0], 1.0 / 3.0, 1e-15);  // tp 1, fp 1, fn 1
  NECO_CHECK_NEAR(s.iou[1], 2.0 / 3.0, 1e-15);  // tp 2, fp 1, fn 0
  NECO_CHECK_EQ(s.iou[2], 0.0);                 // never predicted (the ignored pixel's label is dropped)
  NECO_CHECK_NEAR(s.precision[1], 2.0 / 3.0, 1e-15);
  NECO_CHECK_NEAR(s.recall[0], 0.5, 1e-15);
  NECO_CHECK_NEAR(s.pixelAccuracy, 3.0 / 5.0, 1e-15);
  NECO_CHECK_NEAR(s.miouReference, 1.0 / 3.0, 1e-15);
  NECO_CHECK_NEAR(s.miouPresent, 1.0 / 3.0, 1e-15);

  // ADE20K-like: 4 classes, class 0 is the ignore index and still one of the reference's C terms
  ConfusionMatrix ade(4, 4, 0);
  addLabels(ade, {0, 1, 2, 2}, {1, 1, 2, 3});
  const SegmentationScores a = scoreSegmentation(ade);
  NECO_CHECK_NEAR(a.miouReference, (0.0 + 1.0 + 0.5 + 0.0) / 4.0, 1e-15);
  NECO_CHECK_NEAR(a.miouPresent, (1.0 + 0.5 + 0.0) / 3.0, 1e-15);  // classes 1..3 have a union; 0 is excluded
  NECO_CHECK_EQ(a.presentClasses, 3);
}

NECO_TEST(SegmentationMetrics, perfectAndPermutedPredictionsAreMatchedBack) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> cls(0, 20);
  std::vector<std::int32_t> gt(5000);
  for (auto& g : gt) g = cls(rng);
  std::vector<int> perm(21);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<std::int32_t> clusters(gt.size());
  for (std::size_t i = 0; i < gt.size(); ++i) clusters[i] = perm[static_cast<std::size_t>(gt[i])];
  ConfusionMatrix direct(21, 21, 255), permuted(21, 21, 255);
  addLabels(direct, gt, gt);
  addLabels(permuted, gt, clusters);
  NECO_CHECK_EQ(scoreSegmentation(direct).miouReference, 1.0);
  NECO_CHECK(scoreSegmentation(permuted).miouReference < 0.2);
  const std::vector<int> match = hungarianMatch(permuted);
  for (int c = 0; c < 21; ++c) NECO_CHECK_EQ(match[static_cast<std::size_t>(perm[static_cast<std::size_t>(c)])], c);
  NECO_CHECK_EQ(scoreSegmentation(permuted.relabelled(match)).miouReference, 1.0);

  // over-clustering: every class split into 3 clusters; many-to-one by precision recovers it,
  // Hungarian (one cluster per class, the rest to class 0) cannot
  std::vector<std::int32_t> over(gt.size());
  for (std::size_t i = 0; i < gt.size(); ++i) over[i] = gt[i] * 3 + static_cast<std::int32_t>(i % 3);
  ConfusionMatrix split(21, 63, 255);
  addLabels(split, gt, over);
  NECO_CHECK_EQ(scoreSegmentation(split.relabelled(precisionMatch(split))).miouReference, 1.0);
  NECO_CHECK(scoreSegmentation(split.relabelled(hungarianMatch(split))).miouReference < 0.6);
}

NECO_TEST(SegmentationMetrics, badLabelsAndShapesAreNamed) {
  ConfusionMatrix m(3, 5, 255);
  try {
    addLabels(m, {7}, {0});
    NECO_CHECK(false);
  } catch (const neco::InvalidArgumentError& e) {
    NECO_CHECK(std::string(e.what()).find("ground-truth value 7") != std::string::npos);
  }
  NECO_CHECK_THROWS(neco::InvalidArgumentError, addLabels(m, {0}, {5}));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, scoreSegmentation(m));  // 5 labels, 3 classes: match first
  NECO_CHECK_THROWS(neco::InvalidArgumentError, m.merge(ConfusionMatrix(3, 3, 255)));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, m.relabelled({0, 1, 2}));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, m.relabelled({0, 1, 2, 3, 0}));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, ConfusionMatrix(0, 3, 255));
  std::vector<std::uint8_t> gt8{0, 255, 2};
  std::vector<std::int32_t> labels{4, 0, 2};
  m.add(gt8.data(), labels.data(), gt8.size());
  NECO_CHECK_EQ(m.total(), 2);
}

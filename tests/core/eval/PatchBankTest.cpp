// The patch bank's chunked search against a brute-force double-precision reference: every scope,
// exclusion and chunk size (chunks smaller than the bank exercise the running top-k merge), ties,
// k larger than the candidates, and the typed errors.
#include "NecoTest.h"
#include "neco/core/Error.h"
#include "neco/core/PatchBank.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using neco::PatchBank;
using neco::PatchFeatures;
using neco::PatchMatch;
using neco::PatchRanking;
using neco::PatchSearchOptions;
using neco::PatchSearchScope;

std::vector<float> unitVector(std::mt19937& rng, int dim) {
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<std::size_t>(dim));
  double n = 0;
  for (float& x : v) {
    x = normal(rng);
    n += static_cast<double>(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
  return v;
}

PatchFeatures features(int gridH, int gridW, int dim, const std::function<std::vector<float>()>& row) {
  PatchFeatures f;
  f.gridH = gridH;
  f.gridW = gridW;
  f.dim = dim;
  f.patchSize = 14;
  for (int p = 0; p < gridH * gridW; ++p) {
    const std::vector<float> r = row();
    f.tokens.insert(f.tokens.end(), r.begin(), r.end());
  }
  return f;
}

struct Row {
  double score;
  int image, patch;
};

/// Brute force in double over the candidates the options allow, ordered like PatchRanking.
PatchRanking reference(const std::vector<PatchFeatures>& images, const std::vector<float>& q, int k,
                       const PatchSearchOptions& o) {
  std::vector<Row> rows;
  for (int i = 0; i < static_cast<int>(images.size()); ++i) {
    if (o.scope == PatchSearchScope::Image && i != o.image) continue;
    if (o.scope == PatchSearchScope::Bank && o.excludeImage && i == o.image) continue;
    for (int p = 0; p < images[i].patchCount(); ++p) {
      if (i == o.image && p == o.excludePatch) continue;
      double s = 0;
      for (int d = 0; d < images[i].dim; ++d) s += static_cast<double>(images[i].row(p)[d]) * q[d];
      rows.push_back({s, i, p});
    }
  }
  const auto take = [&](bool descending) {
    std::vector<Row> r = rows;
    std::stable_sort(r.begin(), r.end(), [&](const Row& a, const Row& b) {
      return descending ? a.score > b.score : a.score < b.score;
    });
    std::vector<PatchMatch> out;
    for (std::size_t j = 0; j < r.size() && static_cast<int>(out.size()) < k; ++j) {
      out.push_back({static_cast<float>(r[j].score), r[j].image, r[j].patch});
    }
    return out;
  };
  return {take(true), take(false)};
}

void checkSame(const std::vector<PatchMatch>& got, const std::vector<PatchMatch>& want) {
  NECO_REQUIRE(got.size() == want.size());
  for (std::size_t j = 0; j < got.size(); ++j) {
    NECO_CHECK_NEAR(got[j].score, want[j].score, 1e-5);
    NECO_CHECK_EQ(got[j].image, want[j].image);
    NECO_CHECK_EQ(got[j].patch, want[j].patch);
  }
}

}  // namespace

NECO_TEST(PatchBank, chunkedSearchEqualsBruteForceInEveryScope) {
  std::mt19937 rng(7);
  const int dim = 16;
  std::vector<PatchFeatures> images;
  for (const auto& [h, w] : std::vector<std::pair<int, int>>{{3, 4}, {5, 5}, {1, 1}, {6, 2}, {4, 7}, {2, 3}, {8, 8}}) {
    images.push_back(features(h, w, dim, [&] { return unitVector(rng, dim); }));
  }
  PatchBank bank(neco::PatchBankDevice::Cpu);
  for (std::size_t i = 0; i < images.size(); ++i) NECO_CHECK_EQ(bank.add("img" + std::to_string(i), images[i]), static_cast<int>(i));
  NECO_CHECK_EQ(bank.rowCount(), 12 + 25 + 1 + 12 + 28 + 6 + 64);
  NECO_CHECK_EQ(bank.dim(), dim);
  NECO_CHECK_EQ(bank.findImage("img4"), 4);
  NECO_CHECK_EQ(bank.image(4).firstRow, 12 + 25 + 1 + 12);

  const std::vector<float> q = unitVector(rng, dim);
  for (const std::int64_t chunk : {1, 3, 7, 64, 100000}) {
    for (const int k : {1, 5, 13}) {
      PatchSearchOptions o;
      o.chunkRows = chunk;
      checkSame(bank.search(q.data(), dim, k, o).nearest, reference(images, q, k, o).nearest);
      checkSame(bank.search(q.data(), dim, k, o).farthest, reference(images, q, k, o).farthest);
      // the query is image 4's patch 9: leave it out, then its whole image, then search only its image
      o.image = 4;
      o.excludePatch = 9;
      const std::vector<float> self(images[4].row(9), images[4].row(9) + dim);
      for (const auto scope : {PatchSearchScope::Bank, PatchSearchScope::Image}) {
        for (const bool excludeImage : {false, true}) {
          o.scope = scope;
          o.excludeImage = excludeImage;
          const PatchRanking got = bank.search(self.data(), dim, k, o), want = reference(images, self, k, o);
          checkSame(got.nearest, want.nearest);
          checkSame(got.farthest, want.farthest);
          const PatchRanking viaRow = bank.searchPatch(4, 9, k, o);
          checkSame(viaRow.nearest, want.nearest);
          checkSame(viaRow.farthest, want.farthest);
        }
      }
    }
  }
}

NECO_TEST(PatchBank, tiesKeepTheirScoresAndAreOrderedByImageThenPatch) {
  // 3 distinct directions repeated: every score is shared by many rows
  std::mt19937 rng(3);
  const int dim = 8;
  const std::vector<std::vector<float>> directions{unitVector(rng, dim), unitVector(rng, dim), unitVector(rng, dim)};
  int next = 0;
  std::vector<PatchFeatures> images;
  PatchBank bank(neco::PatchBankDevice::Cpu);
  for (int i = 0; i < 4; ++i) {
    images.push_back(features(3, 3, dim, [&] { return directions[static_cast<std::size_t>(next++ % 3)]; }));
    bank.add("t" + std::to_string(i), images.back());
  }
  const std::vector<float>& q = directions[0];
  for (const std::int64_t chunk : {2, 5, 1000}) {
    PatchSearchOptions o;
    o.chunkRows = chunk;
    for (const int k : {4, 12, 13, 36}) {
      const PatchRanking got = bank.search(q.data(), dim, k, o), want = reference(images, q, k, o);
      for (const auto* pair : {&got.nearest, &got.farthest}) {
        const std::vector<PatchMatch>& list = *pair;
        const std::vector<PatchMatch>& ref = pair == &got.nearest ? want.nearest : want.farthest;
        NECO_REQUIRE(list.size() == ref.size());
        for (std::size_t j = 0; j < list.size(); ++j) {
          NECO_CHECK_NEAR(list[j].score, ref[j].score, 1e-5);  // the same score sequence
          double s = 0;                                         // and each kept row really has its score
          for (int d = 0; d < dim; ++d) s += static_cast<double>(images[list[j].image].row(list[j].patch)[d]) * q[d];
          NECO_CHECK_NEAR(list[j].score, s, 1e-5);
          if (j > 0 && list[j].score == list[j - 1].score) {
            NECO_CHECK(std::make_pair(list[j - 1].image, list[j - 1].patch) < std::make_pair(list[j].image, list[j].patch));
          }
        }
      }
      // the 12 rows equal to the query come first
      NECO_CHECK_NEAR(got.nearest.front().score, 1.0, 1e-5);
    }
  }
}

NECO_TEST(PatchBank, kLargerThanTheCandidatesReturnsThemAll) {
  std::mt19937 rng(11);
  PatchBank bank(neco::PatchBankDevice::Cpu);
  const PatchFeatures a = features(2, 2, 4, [&] { return unitVector(rng, 4); });
  bank.add("a", a);
  bank.add("b", features(1, 3, 4, [&] { return unitVector(rng, 4); }));
  PatchSearchOptions o;
  o.chunkRows = 2;
  const PatchRanking all = bank.searchPatch(0, 1, 100, o);
  NECO_CHECK_EQ(all.nearest.size(), 6u);  // 7 rows less the query itself
  NECO_CHECK_EQ(all.farthest.size(), 6u);
  for (const PatchMatch& m : all.nearest) NECO_CHECK(!(m.image == 0 && m.patch == 1));
  NECO_CHECK(std::is_sorted(all.nearest.begin(), all.nearest.end(), [](auto& x, auto& y) { return x.score > y.score; }));
  NECO_CHECK(std::is_sorted(all.farthest.begin(), all.farthest.end(), [](auto& x, auto& y) { return x.score < y.score; }));
  NECO_CHECK_NEAR(all.nearest.back().score, all.farthest.front().score, 0.0);
  // only image "a", less the query: 3 candidates
  o.scope = PatchSearchScope::Image;
  NECO_CHECK_EQ(bank.searchPatch(0, 1, 100, o).nearest.size(), 3u);
  // a one-patch image searched alone, less its only patch: nothing to rank
  PatchBank single(neco::PatchBankDevice::Cpu);
  single.add("one", features(1, 1, 4, [&] { return unitVector(rng, 4); }));
  NECO_CHECK(single.searchPatch(0, 0, 5, o).nearest.empty());
  // the within-image helper is the one-image bank
  const PatchRanking within = neco::rankPatches(a, 1, 2);
  NECO_CHECK_EQ(within.nearest.size(), 2u);
  for (const PatchMatch& m : within.nearest) NECO_CHECK(m.image == 0 && m.patch != 1);
}

NECO_TEST(PatchBank, rawTokensAreNormalisedOnAdd) {
  PatchFeatures f;
  f.gridH = 1;
  f.gridW = 2;
  f.dim = 2;
  f.normalised = false;
  f.tokens = {3.f, 4.f, 0.f, -2.f};
  PatchBank bank(neco::PatchBankDevice::Cpu);
  bank.add("raw", f);
  const float q[2] = {1.f, 0.f};
  const PatchRanking r = bank.search(q, 2, 2);
  NECO_CHECK_NEAR(r.nearest[0].score, 0.6, 1e-6);
  NECO_CHECK_NEAR(r.farthest[0].score, 0.0, 1e-6);
}

NECO_TEST(PatchBank, errorsNameTheImageAndTheReason) {
  std::mt19937 rng(5);
  PatchBank bank(neco::PatchBankDevice::Cpu);
  const float q[4] = {1.f, 0.f, 0.f, 0.f};
  NECO_CHECK(bank.empty());
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.search(q, 4, 3));  // empty bank
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.add("none", PatchFeatures{}));
  bank.add("first", features(2, 2, 4, [&] { return unitVector(rng, 4); }));
  try {
    bank.add("other-model.png", features(2, 2, 8, [&] { return unitVector(rng, 8); }));
    NECO_CHECK(false);
  } catch (const neco::InvalidArgumentError& e) {
    const std::string m = e.what();
    NECO_CHECK(m.find("other-model.png") != std::string::npos && m.find("dim 8") != std::string::npos &&
               m.find("dim 4") != std::string::npos);
  }
  PatchFeatures broken = features(2, 2, 4, [&] { return unitVector(rng, 4); });
  broken.tokens.pop_back();
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.add("broken", broken));
  NECO_CHECK_EQ(bank.imageCount(), 1);  // failed adds leave the bank as it was
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.search(q, 3, 3));      // query dim
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.search(nullptr, 4, 3));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.search(q, 4, 0));      // k
  PatchSearchOptions o;
  o.chunkRows = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.search(q, 4, 3, o));
  o = {};
  o.scope = PatchSearchScope::Image;  // no image given
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.search(q, 4, 3, o));
  o.image = 0;
  o.excludePatch = 4;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.search(q, 4, 3, o));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.searchPatch(1, 0, 3));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.searchPatch(0, 4, 3));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, bank.image(-1));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::rankPatches(PatchFeatures{}, 0, 3));
}

// The CUDA bank against the CPU bank (same code path on device tensors); skipped without a device.
NECO_TEST(PatchBankCuda, deviceSearchMatchesTheCpu) {
  PatchBank gpu(neco::PatchBankDevice::Auto);
  if (gpu.deviceName() == "cpu") NECO_SKIP("LibTorch sees no CUDA device");
  std::mt19937 rng(9);
  PatchBank cpu(neco::PatchBankDevice::Cpu);
  for (int i = 0; i < 20; ++i) {
    const PatchFeatures f = features(16, 16, 64, [&] { return unitVector(rng, 64); });
    cpu.add(std::to_string(i), f);
    gpu.add(std::to_string(i), f);
  }
  PatchSearchOptions o;
  o.chunkRows = 1000;
  const PatchRanking a = cpu.searchPatch(3, 17, 10, o), b = gpu.searchPatch(3, 17, 10, o);
  checkSame(b.nearest, a.nearest);
  checkSame(b.farthest, a.farthest);
}

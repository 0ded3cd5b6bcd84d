#include "NecoTest.h"
#include "eval/Retrieval.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"
#include "neco/core/FeatureExtractor.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace neco::eval;

NECO_TEST(Retrieval, chunkedExactSearchEqualsTheFullProduct) {
  at::manual_seed(4);
  const at::Tensor memory = at::randn({1000, 16}), queries = at::randn({37, 16});
  const auto [fullSim, fullIdx] = at::matmul(queries, memory.t()).topk(30, 1);
  for (const std::int64_t memoryChunk : {7, 64, 1000, 5000}) {
    for (const std::int64_t queryChunk : {5, 100}) {
      const Neighbours n = exactTopK(queries, memory, 30, memoryChunk, queryChunk);
      NECO_CHECK(n.similarities.allclose(fullSim, 1e-5, 1e-5));
      NECO_CHECK(n.indices.equal(fullIdx));  // random reals: no ties
    }
  }
  NECO_CHECK_THROWS(neco::InvalidArgumentError, exactTopK(queries, memory, 1001));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, exactTopK(queries, at::randn({10, 8}), 3));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, exactTopK(queries, memory, 3, 0));
}

NECO_TEST(Retrieval, labelTransferWeighsNeighboursBySoftmax) {
  // memory: 4 orthonormal patches with one-hot labels of 3 classes
  const at::Tensor memory = at::eye(4);
  const at::Tensor labels = at::tensor({1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 1.f}).view({4, 3});
  const at::Tensor queries = at::tensor({1.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.7f, 0.7f}).view({2, 4});
  const Neighbours n = exactTopK(queries, memory, 2);
  const at::Tensor p = transferLabels(n, labels, 0.02);
  NECO_CHECK(p.sum(1).allclose(at::ones({2}), 1e-6, 1e-6));  // soft labels of one-hot rows sum to 1
  NECO_CHECK(p[0][0].item<float>() > 0.999f);                 // exp(1 / 0.02) dominates exp(0)
  NECO_CHECK_NEAR(p[1][2].item<float>(), 1.0f, 1e-6);          // both neighbours are class 2
  // a high temperature flattens the weights
  NECO_CHECK_NEAR(transferLabels(n, labels, 1e6)[0][0].item<float>(), 0.5f, 1e-4);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, transferLabels(n, labels, 0.0));
}

NECO_TEST(Retrieval, patchSoftLabelsAreClassHistograms) {
  const at::Tensor map = at::tensor({0, 0, 1, 1,   //
                                     0, 255, 1, 2,  //
                                     2, 2, 3, 3,    //
                                     2, 2, 3, 9}, at::kByte).view({4, 4});
  const at::Tensor s = patchSoftLabels(map, 2, 4);  // 255 and 9 count as class 0
  NECO_CHECK(s.sizes().equals({4, 4}));
  NECO_CHECK(s[0].allclose(at::tensor({1.f, 0.f, 0.f, 0.f})));
  NECO_CHECK(s[1].allclose(at::tensor({0.f, 0.75f, 0.25f, 0.f})));
  NECO_CHECK(s[3].allclose(at::tensor({0.25f, 0.f, 0.f, 0.75f})));
  NECO_CHECK(patchSoftLabels(map, 2, 4, /*remapTo=*/-1)[0].allclose(at::tensor({0.75f, 0.f, 0.f, 0.f})));
}

NECO_TEST(Retrieval, boundedMemoryFavoursRareClassesAndSkipsEmptyPatches) {
  // 200 background patches, 1 patch of a rare class, 5 empty (unlabelled) ones
  at::Tensor labels = at::zeros({206, 3});
  labels.slice(0, 0, 200).select(1, 0).fill_(1.f);
  labels[200][2] = 1.f;
  int rareKept = 0;
  for (int seed = 0; seed < 100; ++seed) {
    at::Generator g = at::make_generator<at::CPUGeneratorImpl>(static_cast<std::uint64_t>(seed));
    const at::Tensor kept = boundedMemoryPatches(labels, 10, g);
    NECO_CHECK_EQ(kept.numel(), 10);
    NECO_CHECK(kept.max().item<std::int64_t>() <= 200);  // never an empty patch while others remain
    rareKept += (kept == 200).any().item<bool>() ? 1 : 0;
  }
  NECO_CHECK(rareKept >= 90);  // uniform sampling would keep it 10 / 206 of the time
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(1);
  NECO_CHECK_EQ(boundedMemoryPatches(labels, 500, g).numel(), 206);
}

NECO_TEST(Retrieval, demoProtocolEndToEndWithFractionsAndBoundedMemory) {
  const auto model = neco::FeatureExtractor::createDemo(0);
  const auto memory = neco::demoEvaluationData({}, "train"), queries = neco::demoEvaluationData({}, "val");
  NECO_CHECK_EQ(memory->size(), 48u);
  neco::RetrievalOptions o;
  o.inputSize = 112;  // 8 x 8 patches
  o.k = 10;
  const neco::RetrievalResult r = neco::evaluateRetrieval(*model, *memory, *queries, o);
  NECO_REQUIRE(r.runs.size() == 1u);
  NECO_CHECK_EQ(r.inputSize, 112);
  NECO_CHECK_EQ(r.runs[0].memoryImages, 48);
  NECO_CHECK_EQ(r.runs[0].memoryPatches, 48 * 64);
  NECO_CHECK(r.miou > 0 && r.miou <= 1 && r.runs[0].queryPatchesPerSecond > 0);
  NECO_CHECK_EQ(r.predictions.size(), 16u);
  NECO_CHECK_EQ(r.predictions[0].width, 112);
  NECO_CHECK_EQ(r.confusion.size(), 49u);
  const nlohmann::json j = nlohmann::json::parse(neco::retrievalJson(r));
  NECO_CHECK_EQ(j["protocol"].get<std::string>(), std::string("nn-retrieval"));
  NECO_CHECK_EQ(j["runs"][0]["per_class"].size(), 7u);
  // the same seed gives the same memory and the same answer
  NECO_CHECK_EQ(neco::evaluateRetrieval(*model, *memory, *queries, o).miou, r.miou);
  // a fraction and a bounded memory, two seeds
  o.fraction = 1.0 / 8.0;
  o.memorySize = 120;  // 20 patches per image of the 6 chosen
  o.seeds = {42, 400};
  const neco::RetrievalResult small = neco::evaluateRetrieval(*model, *memory, *queries, o);
  NECO_REQUIRE(small.runs.size() == 2u);
  NECO_CHECK_EQ(small.runs[0].memoryImages, 6);
  NECO_CHECK_EQ(small.runs[0].memoryPatches, 120);
  NECO_CHECK(std::isfinite(small.miouStd));
  // bad requests
  o.k = 121;  // more neighbours than the bounded memory holds
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::evaluateRetrieval(*model, *memory, *queries, o));
  o.k = 10;
  o.fraction = 0;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::evaluateRetrieval(*model, *memory, *queries, o));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::demoEvaluationData({}, "test"));
}

// neco_bench_retrieval: exact k-nearest-neighbour search for dense retrieval (Hummingbird protocol,
// METHOD.md §4.3) — chunked matrix products with a running top-k (eval/Retrieval.h) against the
// naive full similarity matrix + top-k, in the same run, on CPU (and CUDA when LibTorch sees a device).
// One JSON object per line: per memory size the chunked search's query patches/s and memory
// patches scanned/s, the naive baseline where its Q x M matrix fits under --naive-max-gib, the ratio,
// and the peak size of the similarity block each method holds. Nothing here asserts a time.
//
//   neco_bench_retrieval [--memory 100000,1000000] [--queries 4096] [--dim 384] [--k 30] [--repeats 3]
//                        [--naive-max-gib 2] [--threads 0]
#include "eval/Retrieval.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace {

struct Args {
  std::vector<std::int64_t> memory{100000, 1000000};
  std::int64_t queries = 4096, dim = 384, memoryChunk = 65536, queryChunk = 4096;
  int k = 30, repeats = 3, threads = 0;
  double naiveMaxGib = 2.0;
};

double medianMs(const std::function<void()>& f, int repeats, bool cuda) {
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    if (cuda) torch::cuda::synchronize();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--memory") {
      a.memory.clear();
      std::stringstream s(value);
      std::string item;
      while (std::getline(s, item, ',')) a.memory.push_back(std::atoll(item.c_str()));
    } else if (key == "--queries") {
      a.queries = std::atoll(value.c_str());
    } else if (key == "--dim") {
      a.dim = std::atoll(value.c_str());
    } else if (key == "--k") {
      a.k = std::atoi(value.c_str());
    } else if (key == "--repeats") {
      a.repeats = std::max(1, std::atoi(value.c_str()));
    } else if (key == "--naive-max-gib") {
      a.naiveMaxGib = std::atof(value.c_str());
    } else if (key == "--threads") {
      a.threads = std::atoi(value.c_str());
    } else {
      std::fprintf(stderr, "neco_bench_retrieval: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (a.threads > 0) at::set_num_threads(a.threads);
  std::vector<at::Device> devices{at::kCPU};
  if (torch::cuda::is_available()) devices.emplace_back(at::kCUDA);
  for (const at::Device device : devices) {
    const bool cuda = device.is_cuda();
    for (const std::int64_t M : a.memory) {
      at::manual_seed(1);
      const auto opts = at::TensorOptions().device(device).dtype(at::kFloat);
      const at::Tensor memory = at::randn({M, a.dim}, opts), queries = at::randn({a.queries, a.dim}, opts);
      neco::eval::Neighbours chunked;
      const double chunkedMs = medianMs([&] { chunked = neco::eval::exactTopK(queries, memory, a.k, a.memoryChunk, a.queryChunk); },
                                        a.repeats, cuda);
      const double naiveGib = static_cast<double>(a.queries) * static_cast<double>(M) * 4 / (1 << 30);
      std::string naive = "null", ratio = "null", agree = "null", simDiff = "null";
      if (naiveGib <= a.naiveMaxGib) {
        at::Tensor sim, idx;
        const double naiveMs = medianMs([&] { std::tie(sim, idx) = at::matmul(queries, memory.t()).topk(a.k, 1); }, a.repeats, cuda);
        naive = std::to_string(naiveMs);
        ratio = std::to_string(naiveMs / chunkedMs);
        // the blocks sum in another order than the full product: near-equal 30th / 31st neighbours may swap
        agree = std::to_string((idx == chunked.indices).to(at::kDouble).mean().item<double>());
        simDiff = std::to_string((sim - chunked.similarities).abs().max().item<double>());
      }
      std::printf(
          "{\"bench\":\"retrieval_search\",\"device\":\"%s\",\"threads\":%d,\"memory\":%lld,\"queries\":%lld,\"dim\":%lld,"
          "\"k\":%d,\"chunked_ms\":%.2f,\"query_patches_per_s\":%.1f,\"memory_patches_scanned_per_s\":%.4g,"
          "\"chunked_block_gib\":%.4f,\"naive_ms\":%s,\"naive_matrix_gib\":%.3f,\"naive_over_chunked\":%s,"
          "\"same_neighbour_fraction\":%s,\"max_similarity_difference\":%s}\n",
          cuda ? "cuda" : "cpu", at::get_num_threads(), static_cast<long long>(M), static_cast<long long>(a.queries),
          static_cast<long long>(a.dim), a.k, chunkedMs, a.queries * 1000.0 / chunkedMs,
          static_cast<double>(a.queries) * static_cast<double>(M) * 1000.0 / chunkedMs,
          static_cast<double>(std::min(a.queries, a.queryChunk)) * static_cast<double>(std::min(M, a.memoryChunk)) * 4 / (1 << 30),
          naive.c_str(), naiveGib, ratio.c_str(), agree.c_str(), simDiff.c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}

// neco_bench_patch_bank: query latency of the near/far strip's dataset-wide patch bank
// (neco/core/PatchBank.h) — k nearest + k farthest of one query over N unit rows — against three
// baselines measured in the same run on the same rows: one unchunked product over the whole bank +
// two top-k (the N-score vector materialised), dense retrieval's chunked exactTopK with the query
// pair [q; -q], and a plain single-threaded C++ loop with two bounded heaps. Optionally (--bf16 1) the unchunked product on a bf16 copy of the bank, to show what
// reduced-precision storage would buy and how many neighbours it would change.
// One JSON object per line; the speed goals (<= 1 s CPU, <= 50 ms GPU for 1.5 M x 384) are reported,
// never asserted.
//
//   neco_bench_patch_bank [--rows 1500000] [--dim 384] [--k 8] [--queries 20] [--chunks 65536]
//                         [--loop-queries 3] [--bf16 0] [--threads 0]
#include "eval/Retrieval.h"
#include "neco/core/PatchBank.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <queue>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kPatchesPerImage = 37 * 37;  // ViT-S/14 at 518 px: the grid the bank is built from

struct Args {
  std::int64_t rows = 1500000, dim = 384;
  int k = 8, queries = 20, loopQueries = 3, threads = 0;
  bool bf16 = false;
  std::vector<std::int64_t> chunks{65536};
};

struct Stats {
  double median = 0, p95 = 0;
};

Stats time(const std::function<void(int)>& f, int n, bool cuda) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f(i);
    if (cuda) torch::cuda::synchronize();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t[std::min(t.size() - 1, static_cast<std::size_t>(0.95 * static_cast<double>(t.size())))]};
}

std::vector<std::int64_t> parseList(const std::string& value) {
  std::vector<std::int64_t> out;
  std::stringstream s(value);
  std::string item;
  while (std::getline(s, item, ',')) out.push_back(std::atoll(item.c_str()));
  return out;
}

/// The plain loop: one dot product per row, a min-heap of the k best and a max-heap of the k worst.
void loopSearch(const float* rows, std::int64_t n, int dim, const float* q, int k) {
  std::priority_queue<float, std::vector<float>, std::greater<>> best;
  std::priority_queue<float> worst;
  for (std::int64_t r = 0; r < n; ++r) {
    const float* row = rows + r * dim;
    float s = 0.f;
    for (int d = 0; d < dim; ++d) s += row[d] * q[d];
    if (static_cast<int>(best.size()) < k) best.push(s);
    else if (s > best.top()) { best.pop(); best.push(s); }
    if (static_cast<int>(worst.size()) < k) worst.push(s);
    else if (s < worst.top()) { worst.pop(); worst.push(s); }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--rows") a.rows = std::atoll(value.c_str());
    else if (key == "--dim") a.dim = std::atoll(value.c_str());
    else if (key == "--k") a.k = std::atoi(value.c_str());
    else if (key == "--queries") a.queries = std::max(1, std::atoi(value.c_str()));
    else if (key == "--loop-queries") a.loopQueries = std::max(0, std::atoi(value.c_str()));
    else if (key == "--chunks") a.chunks = parseList(value);
    else if (key == "--bf16") a.bf16 = std::atoi(value.c_str()) != 0;
    else if (key == "--threads") a.threads = std::atoi(value.c_str());
    else {
      std::fprintf(stderr, "neco_bench_patch_bank: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (a.threads > 0) at::set_num_threads(a.threads);
  const int dim = static_cast<int>(a.dim);

  // N random unit rows, added image by image as the studio's builder does
  at::manual_seed(1);
  const at::Tensor rows = at::randn({a.rows, a.dim});
  rows.div_(rows.norm(2, 1, true));
  std::vector<neco::PatchBankDevice> devices{neco::PatchBankDevice::Cpu};
  if (torch::cuda::is_available()) devices.push_back(neco::PatchBankDevice::Auto);
  const at::Tensor queryRows = at::randint(a.rows, {a.queries}, at::kLong);

  for (const neco::PatchBankDevice device : devices) {
    neco::PatchBank bank(device);
    const auto b0 = std::chrono::steady_clock::now();
    for (std::int64_t r0 = 0; r0 < a.rows; r0 += kPatchesPerImage) {
      const std::int64_t n = std::min<std::int64_t>(kPatchesPerImage, a.rows - r0);
      neco::PatchFeatures f;
      f.gridH = 1;
      f.gridW = static_cast<int>(n);
      f.dim = dim;
      const float* src = rows.data_ptr<float>() + r0 * a.dim;
      f.tokens.assign(src, src + n * a.dim);
      bank.add("image" + std::to_string(r0 / kPatchesPerImage), f);
    }
    const double addMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - b0).count();
    const auto queryOf = [&](int i) {
      const std::int64_t r = queryRows[i].item<std::int64_t>();
      return std::make_pair(static_cast<int>(r / kPatchesPerImage), static_cast<int>(r % kPatchesPerImage));
    };
    // the first search joins the per-image blocks (and moves them to the device): timed on its own
    const auto j0 = std::chrono::steady_clock::now();
    bank.searchPatch(0, 0, a.k);
    const double firstMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - j0).count();
    const bool cuda = bank.deviceName() != "cpu";
    std::printf("{\"bench\":\"patch_bank_build\",\"device\":\"%s\",\"threads\":%d,\"rows\":%lld,\"dim\":%d,\"images\":%d,"
                "\"bank_gib\":%.3f,\"add_ms\":%.1f,\"first_search_ms\":%.1f}\n",
                bank.deviceName().c_str(), at::get_num_threads(), static_cast<long long>(a.rows), dim, bank.imageCount(),
                static_cast<double>(bank.bytes()) / (1 << 30), addMs, firstMs);
    std::fflush(stdout);

    double bestChunked = 1e300;
    neco::PatchRanking chunkedResult;
    for (const std::int64_t chunk : a.chunks) {
      neco::PatchSearchOptions o;
      o.chunkRows = chunk;
      const Stats s = time([&](int i) { const auto [im, p] = queryOf(i); chunkedResult = bank.searchPatch(im, p, a.k, o); },
                           a.queries, cuda);
      bestChunked = std::min(bestChunked, s.median);
      std::printf("{\"bench\":\"patch_bank_search\",\"device\":\"%s\",\"rows\":%lld,\"dim\":%d,\"k\":%d,\"chunk_rows\":%lld,"
                  "\"queries\":%d,\"median_ms\":%.2f,\"p95_ms\":%.2f,\"rows_scanned_per_s\":%.4g,\"bank_gib_per_s\":%.2f}\n",
                  bank.deviceName().c_str(), static_cast<long long>(a.rows), dim, a.k, static_cast<long long>(chunk),
                  a.queries, s.median, s.p95, static_cast<double>(a.rows) * 1000.0 / s.median,
                  static_cast<double>(bank.bytes()) / (1 << 30) * 1000.0 / s.median);
      std::fflush(stdout);
    }

    // Baseline 1: the whole score vector at once (N floats), then top-k of both ends.
    const at::Tensor mem = rows.to(cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU));
    at::Tensor fullNear;
    const Stats full = time([&](int i) {
      const at::Tensor q = mem[queryRows[i].item<std::int64_t>()].unsqueeze(0);
      const at::Tensor scores = at::matmul(q, mem.t()).squeeze(0);
      fullNear = std::get<1>(scores.topk(a.k + 1, 0, true));
      (void)scores.topk(a.k, 0, false);
    }, a.queries, cuda);
    // the last query's neighbours agree (fullNear[0] is the query itself, which searchPatch leaves out)
    const at::Tensor fn = fullNear.to(at::kCPU);
    int same = 0;
    for (int j = 0; j < a.k; ++j) {
      const auto& m = chunkedResult.nearest[static_cast<std::size_t>(j)];
      same += fn[j + 1].item<std::int64_t>() == bank.image(m.image).firstRow + m.patch ? 1 : 0;
    }
    std::printf("{\"bench\":\"patch_bank_baseline_full_product\",\"device\":\"%s\",\"rows\":%lld,\"median_ms\":%.2f,\"p95_ms\":%.2f,"
                "\"score_vector_mib\":%.1f,\"full_over_chunked\":%.3f,\"same_nearest_as_chunked\":%d}\n",
                bank.deviceName().c_str(), static_cast<long long>(a.rows), full.median, full.p95,
                static_cast<double>(a.rows) * 4 / (1 << 20), full.median / bestChunked, same);
    std::fflush(stdout);

    // Baseline 2: dense retrieval's exactTopK (a matrix product per chunk) with the query pair [q; -q].
    const Stats pair = time([&](int i) {
      const at::Tensor q = mem[queryRows[i].item<std::int64_t>()].unsqueeze(0);
      (void)neco::eval::exactTopK(at::cat({q, -q}), mem, a.k + 1, neco::kPatchBankDefaultChunkRows, 2);
    }, a.queries, cuda);
    std::printf("{\"bench\":\"patch_bank_baseline_retrieval_exact_topk\",\"device\":\"%s\",\"rows\":%lld,\"chunk_rows\":%lld,"
                "\"median_ms\":%.2f,\"p95_ms\":%.2f,\"exact_topk_over_chunked\":%.3f}\n",
                bank.deviceName().c_str(), static_cast<long long>(a.rows), static_cast<long long>(neco::kPatchBankDefaultChunkRows),
                pair.median, pair.p95, pair.median / bestChunked);
    std::fflush(stdout);

    if (a.bf16) {
      const at::Tensor half = mem.to(at::kBFloat16);
      at::Tensor halfNear;
      const Stats h = time([&](int i) {
        const at::Tensor q = half[queryRows[i].item<std::int64_t>()].unsqueeze(0);
        halfNear = std::get<1>(at::matmul(q, half.t()).squeeze(0).topk(a.k + 1, 0, true));
      }, a.queries, cuda);
      const double agree = at::isin(halfNear, fullNear).to(at::kDouble).mean().item<double>();
      std::printf("{\"bench\":\"patch_bank_bf16_full_product\",\"device\":\"%s\",\"rows\":%lld,\"median_ms\":%.2f,"
                  "\"bf16_over_chunked_fp32\":%.3f,\"top_k_overlap_with_fp32\":%.3f}\n",
                  bank.deviceName().c_str(), static_cast<long long>(a.rows), h.median, h.median / bestChunked, agree);
      std::fflush(stdout);
    }

    if (!cuda && a.loopQueries > 0) {
      // Baseline 3: the plain loop (one thread, no BLAS).
      const at::Tensor q = rows.index_select(0, queryRows.slice(0, 0, a.loopQueries)).contiguous();
      const Stats loop = time([&](int i) { loopSearch(rows.data_ptr<float>(), a.rows, dim, q[i].data_ptr<float>(), a.k); },
                              a.loopQueries, false);
      std::printf("{\"bench\":\"patch_bank_baseline_loop\",\"device\":\"cpu\",\"rows\":%lld,\"median_ms\":%.2f,"
                  "\"loop_over_chunked\":%.3f}\n",
                  static_cast<long long>(a.rows), loop.median, loop.median / bestChunked);
      std::fflush(stdout);
    }
  }
  return 0;
}

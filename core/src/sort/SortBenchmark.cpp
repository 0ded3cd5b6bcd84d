#include "neco/core/SortBenchmark.h"

#include "neco/core/Error.h"
#include "neco/gpu/Status.h"
#include "sort/DenseSort.h"
#include "sort/FusedSort.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#if NECO_TORCH_HAS_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

namespace neco {
namespace {

using Clock = std::chrono::steady_clock;

/// Wraps LibTorch's CPU allocator to count live and peak bytes (installed only while benchmarking).
class CountingCpuAllocator final : public c10::Allocator {
 public:
  void install() {
    base_ = c10::GetCPUAllocator();
    c10::SetCPUAllocator(this, /*priority=*/200);
  }
  void uninstall() { c10::SetCPUAllocator(base_, /*priority=*/200); }

  c10::DataPtr allocate(size_t bytes) const override {
    c10::DataPtr inner = base_->allocate(bytes);
    void* data = inner.get();
    auto* record = new Record{std::move(inner), static_cast<std::int64_t>(bytes), this};
    const std::int64_t now = current_.fetch_add(record->bytes) + record->bytes;
    std::int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    return {data, record, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return nullptr; }

  std::int64_t current() const { return current_.load(); }
  std::int64_t peak() const { return peak_.load(); }
  void resetPeak() { peak_.store(current_.load()); }

 private:
  struct Record {
    c10::DataPtr inner;
    std::int64_t bytes;
    const CountingCpuAllocator* owner;
  };
  static void release(void* context) {
    auto* record = static_cast<Record*>(context);
    record->owner->current_.fetch_sub(record->bytes);
    delete record;
  }
  c10::Allocator* base_ = nullptr;
  mutable std::atomic<std::int64_t> current_{0}, peak_{0};
};

CountingCpuAllocator& countingAllocator() {
  static CountingCpuAllocator allocator;  // outlives every tensor it counted
  return allocator;
}

/// Memory probe for one device: live bytes, peak since reset.
struct MemoryProbe {
  bool cuda = false;
  int device = 0;
  std::int64_t current() const {
#if NECO_TORCH_HAS_CUDA
    if (cuda) return c10::cuda::CUDACachingAllocator::getDeviceStats(device).allocated_bytes[0].current;
#endif
    return countingAllocator().current();
  }
  std::int64_t peak() const {
#if NECO_TORCH_HAS_CUDA
    if (cuda) return c10::cuda::CUDACachingAllocator::getDeviceStats(device).allocated_bytes[0].peak;
#endif
    return countingAllocator().peak();
  }
  void resetPeak() const {
#if NECO_TORCH_HAS_CUDA
    if (cuda) {
      c10::cuda::CUDACachingAllocator::resetPeakStats(device);
      return;
    }
#endif
    countingAllocator().resetPeak();
  }
  void sync() const {
    if (cuda) torch::cuda::synchronize();
  }
};

using SortFn = std::function<sort::SoftSortResult(const at::Tensor&)>;

/// One timed run of `body` in milliseconds.
template <typename F>
double timeOnce(const MemoryProbe& probe, F&& body) {
  const auto t0 = Clock::now();
  body();
  probe.sync();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// Minimum over at least `minRuns` runs that continue, below kMaxRuns, until they add up to `seconds`.
template <typename F>
double bestOver(int minRuns, double seconds, const MemoryProbe& probe, F&& body) {
  double best = std::numeric_limits<double>::infinity(), totalMs = 0;
  for (int i = 0; i < minRuns || (totalMs < seconds * 1e3 && i < SortBenchmarkConfig::kMaxRuns); ++i) {
    const double ms = timeOnce(probe, body);
    best = std::min(best, ms);
    totalMs += ms;
  }
  return best;
}

/// Minimum over timed runs after a warm-up: at least config.repeats of them and, below kMaxRuns,
/// until they add up to config.minSeconds.
template <typename F>
double bestMs(const SortBenchmarkConfig& config, const MemoryProbe& probe, F&& body) {
  body();  // warm-up
  probe.sync();
  return bestOver(config.repeats, config.minSeconds, probe, body);
}

struct Timings {
  double forwardMs = std::numeric_limits<double>::infinity();
  double forwardBackwardMs = std::numeric_limits<double>::infinity();
};

struct Inputs {
  const at::Tensor &x, &gS, &gX;
};

void runForward(const SortFn& sortFn, const Inputs& in) {
  at::NoGradGuard noGrad;
  sortFn(in.x);
}

void runForwardBackward(const SortFn& sortFn, const Inputs& in) {
  const at::Tensor xg = in.x.detach().requires_grad_(true);
  const sort::SoftSortResult r = sortFn(xg);
  torch::autograd::backward({r.sorted, r.permutation}, {in.gS, in.gX});
}

/// Times the fused op alone (minimum over config.repeats runs and config.minSeconds).
Timings timeFused(const SortFn& fused, const Inputs& in, const SortBenchmarkConfig& config, const MemoryProbe& probe) {
  Timings t;
  t.forwardMs = bestMs(config, probe, [&] { runForward(fused, in); });
  t.forwardBackwardMs = bestMs(config, probe, [&] { runForwardBackward(fused, in); });
  return t;
}

/// Times the fused and the dense op interleaved, so that both minimums come from the same stretch of
/// a shared machine whose speed drifts: each of config.repeats rounds runs the dense op once and then
/// the fused op for its share of config.minSeconds.
std::pair<Timings, Timings> timeInterleaved(const SortFn& fused, const SortFn& dense, const Inputs& in,
                                            const SortBenchmarkConfig& config, const MemoryProbe& probe) {
  Timings f, d;
  for (const SortFn* fn : {&fused, &dense}) {  // warm-up
    runForward(*fn, in);
    runForwardBackward(*fn, in);
  }
  probe.sync();
  const double share = config.minSeconds / config.repeats;
  for (int round = 0; round < config.repeats; ++round) {
    d.forwardMs = std::min(d.forwardMs, timeOnce(probe, [&] { runForward(dense, in); }));
    f.forwardMs = std::min(f.forwardMs, bestOver(1, share, probe, [&] { runForward(fused, in); }));
    d.forwardBackwardMs = std::min(d.forwardBackwardMs, timeOnce(probe, [&] { runForwardBackward(dense, in); }));
    f.forwardBackwardMs = std::min(f.forwardBackwardMs, bestOver(1, share, probe, [&] { runForwardBackward(fused, in); }));
  }
  return {f, d};
}

struct Memory {
  std::int64_t held = 0, peak = 0;
};

Memory memoryOf(const SortFn& sortFn, const Inputs& in, const MemoryProbe& probe) {
  Memory m;
  std::int64_t outputs = 0;
  {
    at::NoGradGuard noGrad;
    const std::int64_t before = probe.current();
    const sort::SoftSortResult r = sortFn(in.x);
    probe.sync();
    outputs = probe.current() - before;
  }
  const at::Tensor xg = in.x.detach().requires_grad_(true);
  const std::int64_t before = probe.current();
  probe.resetPeak();
  const sort::SoftSortResult r = sortFn(xg);
  probe.sync();
  // What autograd keeps for backward: the new allocations beyond the outputs, plus the input both
  // implementations save (it would otherwise be free to go).
  m.held = probe.current() - before - outputs + static_cast<std::int64_t>(in.x.nbytes());
  torch::autograd::backward({r.sorted, r.permutation}, {in.gS, in.gX});
  probe.sync();
  m.peak = probe.peak() - before;
  return m;
}

sort::NetworkKind toKind(SortNetworkKind k) {
  return k == SortNetworkKind::Bitonic ? sort::NetworkKind::Bitonic : sort::NetworkKind::OddEven;
}

SortBenchmarkCase runCase(const SortBenchmarkConfig& config, std::int64_t rows, int n, SortNetworkKind kind,
                          bool dense, const MemoryProbe& probe) {
  const at::Device device = probe.cuda ? at::Device(at::kCUDA, probe.device) : at::Device(at::kCPU);
  const auto opts = at::TensorOptions().dtype(at::kFloat).device(device);
  at::manual_seed(0);
  const at::Tensor x = at::rand({rows, n}, opts) * 2 - 1;  // cosine similarities lie in [-1, 1]
  const at::Tensor gS = at::randn({rows, n}, opts), gX = at::randn({rows, n, n}, opts);
  const sort::SortOptions options{static_cast<sort::Relaxation>(static_cast<int>(config.relaxation)), config.steepness,
                                  0.25};
  SortBenchmarkCase c;
  c.rows = rows;
  c.n = n;
  c.network = sortNetworkName(kind);
  const SortFn fused = [&](const at::Tensor& t) { return sort::softSort(t, toKind(kind), options); };
  const Inputs in{x, gS, gX};
  std::optional<sort::SortingNetwork> network;
  SortFn denseFn;
  Timings f, d;
  if (dense) {
    network = sort::buildNetwork(toKind(kind), n);
    denseFn = [&](const at::Tensor& t) { return sort::denseSoftSort(t, *network, options); };
    std::tie(f, d) = timeInterleaved(fused, denseFn, in, config, probe);
  } else {
    f = timeFused(fused, in, config, probe);
  }
  const Memory fm = memoryOf(fused, in, probe);
  c.fusedForwardMs = f.forwardMs;
  c.fusedForwardBackwardMs = f.forwardBackwardMs;
  c.fusedHeldBytes = fm.held;
  c.fusedPeakBytes = fm.peak;
  // Arithmetic floor of the forward: every real comparator blends two columns of n entries
  // (4 flops per entry pair: sub, fma, add, sub).
  const auto net = sortNetworkLayout(kind, n);
  const double flops = 4.0 * n * net.comparatorCount() * static_cast<double>(rows);
  c.fusedForwardGflops = flops / (c.fusedForwardMs * 1e6);
  c.fusedForwardGBps = static_cast<double>(rows) * n * n * 4 / (c.fusedForwardMs * 1e6);

  {  // fused sort + cross-entropy: teacher sort (no grad) and student sort with gradient, as NeCo uses them
    const at::Tensor teacher = x + 0.05 * at::randn({rows, n}, opts);
    auto ce = [&] {
      const at::Tensor s = x.detach().requires_grad_(true);
      sort::sortCrossEntropy(s, teacher, toKind(kind), options, options).sum().backward();
    };
    c.fusedCrossEntropyMs = bestMs(config, probe, ce);
    const at::Tensor s = x.detach().requires_grad_(true);
    const std::int64_t before = probe.current();
    probe.resetPeak();
    const at::Tensor loss = sort::sortCrossEntropy(s, teacher, toKind(kind), options, options).sum();
    probe.sync();
    c.crossEntropyHeldBytes = probe.current() - before;
    loss.backward();
    probe.sync();
    c.crossEntropyPeakBytes = probe.peak() - before;
  }

  if (dense) {
    const Memory dm = memoryOf(denseFn, in, probe);
    c.dense = true;
    c.denseForwardMs = d.forwardMs;
    c.denseForwardBackwardMs = d.forwardBackwardMs;
    c.denseHeldBytes = dm.held;
    c.densePeakBytes = dm.peak;
    c.speedup = d.forwardBackwardMs / f.forwardBackwardMs;
    c.forwardSpeedup = d.forwardMs / f.forwardMs;
    c.memoryRatio = static_cast<double>(dm.held) / static_cast<double>(std::max<std::int64_t>(fm.held, 1));
    c.peakRatio = static_cast<double>(dm.peak) / static_cast<double>(std::max<std::int64_t>(fm.peak, 1));
  }
  return c;
}

std::string describe(const SortBenchmarkCase& c) {
  char line[512];
  if (c.dense) {
    std::snprintf(line, sizeof line,
                  "%s rows=%lld n=%d: fused fwd %.2f ms, fwd+bwd %.2f ms (held %.1f MB) | dense fwd %.1f ms, fwd+bwd "
                  "%.1f ms (held %.1f MB) | speedup %.0fx, memory ratio %.0fx",
                  c.network.c_str(), static_cast<long long>(c.rows), c.n, c.fusedForwardMs, c.fusedForwardBackwardMs,
                  c.fusedHeldBytes / 1e6, c.denseForwardMs, c.denseForwardBackwardMs, c.denseHeldBytes / 1e6, c.speedup,
                  c.memoryRatio);
  } else {
    std::snprintf(line, sizeof line, "%s rows=%lld n=%d: fused fwd %.2f ms, fwd+bwd %.2f ms (held %.1f MB)",
                  c.network.c_str(), static_cast<long long>(c.rows), c.n, c.fusedForwardMs, c.fusedForwardBackwardMs,
                  c.fusedHeldBytes / 1e6);
  }
  return line;
}

}  // namespace

SortBenchmarkReport runSortBenchmark(const SortBenchmarkConfig& config,
                                     const std::function<void(const std::string&)>& progress) {
  if (config.rows < 1 || config.rows > 10'000'000) {
    throw InvalidArgumentError("bench sort: --rows must be in [1, 10000000], got " + std::to_string(config.rows));
  }
  if (config.n < 2 || config.n > 1024) {
    throw InvalidArgumentError("bench sort: --n must be in [2, 1024], got " + std::to_string(config.n));
  }
  if (config.repeats < 1) throw InvalidArgumentError("bench sort: --repeats must be at least 1");
  if (!(config.minSeconds >= 0 && config.minSeconds <= 600)) {
    throw InvalidArgumentError("bench sort: --min-time must be in [0, 600] seconds");
  }
  if (!(config.steepness > 0)) throw InvalidArgumentError("bench sort: --steepness must be positive");
  MemoryProbe probe;
  if (config.device == "cuda") {
    if (!torch::cuda::is_available()) {
      throw UnsupportedError("bench sort: --device cuda but no CUDA device is available to LibTorch");
    }
    probe.cuda = true;
  } else if (config.device != "cpu") {
    throw InvalidArgumentError("bench sort: --device must be cpu or cuda, got '" + config.device + "'");
  }
  SortBenchmarkReport report;
  report.device = config.device;
  report.isa = probe.cuda ? "cuda" : sort::cpuSortIsa();
  report.threads = at::get_num_threads();
#if NECO_TORCH_HAS_CUDA
  if (probe.cuda) {
    report.devicePeakGBps = gpu::devicePeakBandwidthGBps(probe.device);
    report.isa = at::cuda::getCurrentDeviceProperties()->name;
  }
#endif
  struct Shape {
    std::int64_t rows;
    int n;
    SortNetworkKind kind;
    bool dense;
  };
  std::vector<Shape> shapes{{config.rows, config.n, config.network, config.dense}};
  if (config.sweep) {
    for (std::int64_t rows : {784, 3136}) {
      for (int n : {16, 49, 64}) shapes.push_back({rows, n, SortNetworkKind::Bitonic, config.dense});
    }
    shapes.push_back({3136, 49, SortNetworkKind::OddEven, config.dense});
    shapes.push_back({12544, 49, SortNetworkKind::Bitonic, false});
    shapes.push_back({12544, 100, SortNetworkKind::OddEven, false});
  }
  if (!probe.cuda) countingAllocator().install();
  try {
    for (const Shape& s : shapes) {
      report.cases.push_back(runCase(config, s.rows, s.n, s.kind, s.dense, probe));
      if (progress) progress(describe(report.cases.back()));
    }
  } catch (...) {
    if (!probe.cuda) countingAllocator().uninstall();
    throw;
  }
  if (!probe.cuda) countingAllocator().uninstall();
  return report;
}

std::string sortBenchmarkJson(const SortBenchmarkConfig& config, const SortBenchmarkReport& report) {
  nlohmann::ordered_json j;
  j["benchmark"] = "sort";
  j["device"] = report.device;
  j["kernels"] = report.isa;
  j["threads"] = report.threads;
  if (report.devicePeakGBps > 0) j["device_peak_gbps"] = report.devicePeakGBps;
  j["config"] = {{"rows", config.rows},
                 {"n", config.n},
                 {"network", sortNetworkName(config.network)},
                 {"relaxation", sortRelaxationName(config.relaxation)},
                 {"steepness", config.steepness},
                 {"repeats", config.repeats},
                 {"min_time_s", config.minSeconds}};
  if (!report.cases.empty()) {
    const SortBenchmarkCase& main = report.cases.front();
    if (main.dense) {
      j["speedup"] = main.speedup;
      j["memory_ratio"] = main.memoryRatio;
    }
  }
  nlohmann::ordered_json cases = nlohmann::ordered_json::array();
  for (const SortBenchmarkCase& c : report.cases) {
    nlohmann::ordered_json e;
    e["rows"] = c.rows;
    e["n"] = c.n;
    e["network"] = c.network;
    e["fused"] = {{"forward_ms", c.fusedForwardMs},
                  {"forward_backward_ms", c.fusedForwardBackwardMs},
                  {"held_bytes", c.fusedHeldBytes},
                  {"peak_bytes", c.fusedPeakBytes},
                  {"forward_gflops", c.fusedForwardGflops},
                  {"forward_output_gbps", c.fusedForwardGBps}};
    e["fused_cross_entropy"] = {{"forward_backward_ms", c.fusedCrossEntropyMs},
                                {"held_bytes", c.crossEntropyHeldBytes},
                                {"peak_bytes", c.crossEntropyPeakBytes}};
    if (c.dense) {
      e["dense"] = {{"forward_ms", c.denseForwardMs},
                    {"forward_backward_ms", c.denseForwardBackwardMs},
                    {"held_bytes", c.denseHeldBytes},
                    {"peak_bytes", c.densePeakBytes}};
      e["speedup"] = c.speedup;
      e["forward_speedup"] = c.forwardSpeedup;
      e["memory_ratio"] = c.memoryRatio;
      e["peak_ratio"] = c.peakRatio;
    }
    cases.push_back(std::move(e));
  }
  j["cases"] = std::move(cases);
  return j.dump();
}

}  // namespace neco

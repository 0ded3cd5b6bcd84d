#pragma once
// The sorting-network benchmark behind `neco bench sort` and neco_bench_sort: the dense (published)
// formulation against the fused op, forward and forward + backward, time and memory, ratios measured
// in the same run. Memory on the CPU is counted by a wrapper around LibTorch's CPU allocator
// installed for the duration of the run; on CUDA by the caching allocator's statistics.

#include "neco/core/SoftSort.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace neco {

struct SortBenchmarkConfig {
  std::int64_t rows = 3136;  ///< NeCo: 64 images x 49 source patches
  int n = 49;                ///< NeCo: 49 reference patches
  SortNetworkKind network = SortNetworkKind::Bitonic;
  SortRelaxation relaxation = SortRelaxation::Cauchy;
  double steepness = 100.0;
  int repeats = 5;           ///< at least this many timed runs per measurement, after one warm-up
  /// ... and more until the timed runs add up to this many seconds (at most kMaxRuns): a fast
  /// measurement then samples as long a stretch of a noisy machine as a slow one. The minimum is
  /// reported (what the code costs when nothing else interferes). With the dense baseline the two
  /// are interleaved: each of `repeats` rounds times the dense op once, then the fused op for
  /// minSeconds / repeats, so both minimums come from the same stretch of time.
  double minSeconds = 1.0;
  static constexpr int kMaxRuns = 1000;
  bool dense = true;         ///< also run the dense baseline (slow: ~n^2 k per layer and row)
  bool sweep = false;        ///< add a sweep over rows and n after the main shape
  std::string device = "cpu";  ///< "cpu" or "cuda"
};

struct SortBenchmarkCase {
  std::int64_t rows = 0;
  int n = 0;
  std::string network;
  bool dense = false;  ///< dense numbers present
  double denseForwardMs = 0, denseForwardBackwardMs = 0;
  double fusedForwardMs = 0, fusedForwardBackwardMs = 0;
  double fusedCrossEntropyMs = 0;     ///< fused sort + cross-entropy, student with gradient, forward + backward
  std::int64_t denseHeldBytes = 0;    ///< kept by autograd between forward and backward (incl. the saved input)
  std::int64_t fusedHeldBytes = 0;
  std::int64_t densePeakBytes = 0;    ///< peak above the inputs during forward + backward
  std::int64_t fusedPeakBytes = 0;
  std::int64_t crossEntropyPeakBytes = 0;
  std::int64_t crossEntropyHeldBytes = 0;
  double fusedForwardGflops = 0;      ///< the arithmetic a fused kernel cannot avoid, per second
  double fusedForwardGBps = 0;        ///< bytes of X written by the forward, per second
  double speedup = 0;                 ///< dense / fused, forward + backward time
  double forwardSpeedup = 0;
  double memoryRatio = 0;             ///< dense / fused, memory held for backward
  double peakRatio = 0;
};

struct SortBenchmarkReport {
  std::string device, isa;
  int threads = 0;
  double devicePeakGBps = 0;  ///< CUDA: the card's theoretical memory bandwidth
  std::vector<SortBenchmarkCase> cases;
};

/// Runs the benchmark; `progress` (may be empty) gets a line per finished measurement.
/// Throws InvalidArgumentError for bad sizes, UnsupportedError for "cuda" without a device.
SortBenchmarkReport runSortBenchmark(const SortBenchmarkConfig& config,
                                     const std::function<void(const std::string&)>& progress = {});

/// One JSON object: config, environment and every case; the first case (the main shape) also
/// appears as top-level `speedup` and `memory_ratio`.
std::string sortBenchmarkJson(const SortBenchmarkConfig& config, const SortBenchmarkReport& report);

}  // namespace neco

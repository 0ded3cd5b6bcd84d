// `neco bench sort [--rows R] [--n N] [--json] [--sweep] [--no-dense] [--device cpu|cuda]`: the fused
// differentiable sort against the dense (published) formulation, forward and forward + backward,
// time and memory, ratios measured in the same run. A table by default, one JSON object with --json.
#include "CliApp.h"
#include "ExitCodes.h"
#include "neco/core/SortBenchmark.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string>

namespace neco::cli {
namespace {

struct SortBenchOptions {
  SortBenchmarkConfig config;
  std::string network = "bitonic";
  std::string relaxation = "cauchy";
  bool json = false;
  bool noDense = false;
};

void printTable(const SortBenchmarkReport& report) {
  std::printf("sort benchmark on %s (%s kernels, %d threads)\n", report.device.c_str(), report.isa.c_str(),
              report.threads);
  std::printf("%-9s %7s %4s | %9s %10s %9s | %9s %10s %9s | %8s %8s\n", "network", "rows", "n", "fused fwd",
              "fused f+b", "held MB", "dense fwd", "dense f+b", "held MB", "speedup", "mem ratio");
  for (const SortBenchmarkCase& c : report.cases) {
    if (c.dense) {
      std::printf("%-9s %7lld %4d | %7.2fms %8.2fms %9.2f | %7.0fms %8.0fms %9.1f | %7.0fx %8.0fx\n", c.network.c_str(),
                  static_cast<long long>(c.rows), c.n, c.fusedForwardMs, c.fusedForwardBackwardMs, c.fusedHeldBytes / 1e6,
                  c.denseForwardMs, c.denseForwardBackwardMs, c.denseHeldBytes / 1e6, c.speedup, c.memoryRatio);
    } else {
      std::printf("%-9s %7lld %4d | %7.2fms %8.2fms %9.2f | %9s %10s %9s | %8s %8s\n", c.network.c_str(),
                  static_cast<long long>(c.rows), c.n, c.fusedForwardMs, c.fusedForwardBackwardMs, c.fusedHeldBytes / 1e6,
                  "-", "-", "-", "-", "-");
    }
  }
  const SortBenchmarkCase& main = report.cases.front();
  std::printf("fused sort + cross-entropy (forward + backward): %.2f ms, peak %.1f MB, held %.2f MB\n",
              main.fusedCrossEntropyMs, main.crossEntropyPeakBytes / 1e6, main.crossEntropyHeldBytes / 1e6);
}

}  // namespace

void addBenchCommand(CLI::App& app, CommandSlot& slot) {
  auto* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto options = std::make_shared<SortBenchOptions>();
  auto* sortCmd = bench->add_subcommand("sort", "Fused differentiable sort vs the dense formulation (time, memory)");
  sortCmd->add_option("--rows", options->config.rows, "Rows to sort (NeCo: 64 images x 49 patches = 3136)")
      ->check(CLI::Range(1, 10'000'000));
  sortCmd->add_option("--n", options->config.n, "Elements per row (NeCo: 49)")->check(CLI::Range(2, 1024));
  sortCmd->add_option("--network", options->network, "bitonic or odd_even")
      ->check(CLI::IsMember({"bitonic", "odd_even"}));
  sortCmd->add_option("--relaxation", options->relaxation, "cauchy, logistic, logistic_phi, gaussian, reciprocal, optimal")
      ->check(CLI::IsMember({"cauchy", "logistic", "logistic_phi", "gaussian", "reciprocal", "optimal"}));
  sortCmd->add_option("--steepness", options->config.steepness, "Sorting steepness")->check(CLI::PositiveNumber);
  sortCmd->add_option("--repeats", options->config.repeats, "At least this many timed runs per measurement (minimum reported)")
      ->check(CLI::Range(1, 100));
  sortCmd->add_option("--min-time", options->config.minSeconds,
                      "... and more runs until they add up to this many seconds (at most 1000 runs)")
      ->check(CLI::Range(0.0, 600.0));
  sortCmd->add_option("--device", options->config.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  sortCmd->add_flag("--sweep", options->config.sweep, "Also sweep rows and n");
  sortCmd->add_flag("--no-dense", options->noDense, "Skip the (slow) dense baseline");
  sortCmd->add_flag("--json", options->json, "One JSON object on stdout");
  sortCmd->callback([&slot, options] {
    slot.action = [options] {
      SortBenchOptions& o = *options;
      o.config.network = parseSortNetwork(o.network);
      o.config.relaxation = parseSortRelaxation(o.relaxation);
      o.config.dense = !o.noDense;
      const SortBenchmarkReport report =
          runSortBenchmark(o.config, [](const std::string& line) { spdlog::info("bench sort: {}", line); });
      if (o.json) {
        std::printf("%s\n", sortBenchmarkJson(o.config, report).c_str());
      } else {
        printTable(report);
      }
      return kExitOk;
    };
  });
}

}  // namespace neco::cli

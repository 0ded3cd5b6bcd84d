// neco_bench_sort [rows] [n] [--sweep] [--no-dense]: the sorting-network benchmark of
// neco/core/SortBenchmark.h as one JSON line on stdout (progress on stderr). Same as `neco bench sort`.
#include "neco/core/Error.h"
#include "neco/core/SortBenchmark.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  neco::SortBenchmarkConfig config;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sweep") {
      config.sweep = true;
    } else if (arg == "--no-dense") {
      config.dense = false;
    } else if (arg == "--cuda") {
      config.device = "cuda";
    } else if (positional == 0) {
      config.rows = std::atoll(arg.c_str());
      ++positional;
    } else {
      config.n = std::atoi(arg.c_str());
      ++positional;
    }
  }
  try {
    const auto report = neco::runSortBenchmark(config, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
    std::printf("%s\n", neco::sortBenchmarkJson(config, report).c_str());
  } catch (const neco::Error& e) {
    std::fprintf(stderr, "neco_bench_sort: %s\n", e.what());
    return 1;
  }
  return 0;
}

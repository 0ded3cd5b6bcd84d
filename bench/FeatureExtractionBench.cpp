// Feature-extraction benchmark: the C++ ViT-S/14 forward (nn::VisionTransformer, random weights,
// inference mode) at the sizes and batches of bench/python_vit_forward.py, one JSON object per line.
// scripts/bench-features.sh runs both in the same session and reports the ratio; nothing here asserts
// a time.
#include "neco/core/BuildInfo.h"
#include "nn/VisionTransformer.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::vector<int> intList(const std::string& s) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto comma = s.find(',', start);
    out.push_back(std::stoi(s.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct Args {
  int threads = 1;
  std::vector<int> sizes{224, 518};
  std::vector<int> batches{1, 8};
  int repeats = 5;
  int warmup = 1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--threads") a.threads = std::stoi(value);
    else if (key == "--sizes") a.sizes = intList(value);
    else if (key == "--batches") a.batches = intList(value);
    else if (key == "--repeats") a.repeats = std::max(1, std::stoi(value));
    else if (key == "--warmup") a.warmup = std::max(0, std::stoi(value));
    else {
      std::fprintf(stderr, "usage: neco_bench_features [--threads N] [--sizes 224,518] [--batches 1,8] "
                           "[--repeats R] [--warmup W]\n");
      std::exit(2);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  neco::setComputeThreads(args.threads);
  neco::nn::VisionTransformer model(neco::nn::ViTConfig::dinov2Small(0));
  model->initialiseRandom(0);
  model->eval();
  for (int size : args.sizes) {
    for (int batch : args.batches) {
      const at::Tensor x = at::randn({batch, 3, size, size});
      std::vector<double> seconds;
      {
        c10::InferenceMode inference;
        for (int i = 0; i < args.warmup; ++i) model->forward(x);
        for (int i = 0; i < args.repeats; ++i) {
          const auto t0 = std::chrono::steady_clock::now();
          const auto out = model->forward(x);
          (void)out.patchTokens.sum().item<float>();
          seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
      }
      std::sort(seconds.begin(), seconds.end());
      const double median = seconds[seconds.size() / 2];
      std::printf("{\"impl\": \"cpp-libtorch\", \"torch\": \"%s\", \"threads\": %d, \"size\": %d, \"batch\": %d, "
                  "\"seconds_median\": %.6f, \"images_per_second\": %.4f}\n",
                  TORCH_VERSION, args.threads, size, batch, median, batch / median);
      std::fflush(stdout);
    }
  }
  return 0;
}

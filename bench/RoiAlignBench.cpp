// neco_bench_roi_align: RoI-Align at NeCo's shapes, the CPU twin and (when LibTorch sees a device) the
// CUDA kernel in the same run, one JSON object per line on stdout. A NeCo step aligns, for each of the
// 2 global crops and each of the 5 other views, the teacher's global map (no gradient) and the student's
// map of that view (with gradient): 10 teacher forwards on global maps, 2 student forward+backward on
// global maps and 8 on local maps, one box per image. The last line adds them up per device.
//
//   neco_bench_roi_align [--batch 64] [--channels 384] [--global 37] [--local 7] [--repeats 5] [--threads 0]
//
// 518 px global / 98 px local crops with patch 14 give 37 x 37 and 7 x 7 token maps (224 px: 16 x 16).
// Nothing here asserts a time.
#include "neco/core/BuildInfo.h"
#include "neco/core/Error.h"
#include "ops/RoiAlign.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

struct Args {
  int batch = 64, channels = 384, globalMap = 37, localMap = 7, repeats = 5, threads = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (key == "--batch")
      a.batch = value;
    else if (key == "--channels")
      a.channels = value;
    else if (key == "--global")
      a.globalMap = value;
    else if (key == "--local")
      a.localMap = value;
    else if (key == "--repeats")
      a.repeats = std::max(1, value);
    else if (key == "--threads")
      a.threads = value;
    else {
      std::fprintf(stderr,
                   "usage: neco_bench_roi_align [--batch 64] [--channels 384] [--global 37] [--local 7] "
                   "[--repeats 5] [--threads 0]\n");
      std::exit(2);
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "neco_bench_roi_align: every option takes a value\n");
    std::exit(2);
  }
  return a;
}

/// One box per image, in token units, like the crop intersections of a NeCo step: a random part of
/// the map covering 10% to 100% of each side.
at::Tensor neCoBoxes(int batch, int map) {
  const at::Tensor side = at::rand({batch, 2}, at::kDouble) * 0.9 + 0.1;
  const at::Tensor start = at::rand({batch, 2}, at::kDouble) * (1 - side);
  const at::Tensor index = at::arange(batch, at::kDouble).unsqueeze(1);
  return at::cat({index, start * map, (start + side) * map}, 1).to(at::kFloat);
}

void synchronize(const at::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

/// Median and minimum milliseconds of `run` after one warm-up call.
std::pair<double, double> timeMs(const at::Device& device, int repeats, const std::function<void()>& run) {
  run();
  synchronize(device);
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    synchronize(device);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

struct Case {
  const char* name;
  int map;
  bool backward;
  int perStep;  // how often a NeCo step runs it
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  neco::setComputeThreads(args.threads);
  std::vector<at::Device> devices{at::Device(at::kCPU)};
  if (torch::cuda::is_available())
    devices.emplace_back(at::kCUDA, 0);
  else
    std::fprintf(stderr, "neco_bench_roi_align: no CUDA device available to LibTorch, CPU twin only\n");
  const Case cases[] = {{"teacher_global_forward", args.globalMap, false, 10},
                        {"student_global_forward_backward", args.globalMap, true, 2},
                        {"student_local_forward_backward", args.localMap, true, 8}};
  std::vector<double> stepMs(devices.size(), 0.0);
  at::manual_seed(3);
  try {
    for (const Case& c : cases) {
      const at::Tensor x = at::randn({args.batch, args.channels, c.map, c.map});
      const at::Tensor boxes = neCoBoxes(args.batch, c.map);
      const at::Tensor gOut = at::randn({args.batch, args.channels, 7, 7});
      at::Tensor cpuOut;
      for (std::size_t d = 0; d < devices.size(); ++d) {
        const at::Device device = devices[d];
        const at::Tensor xd = x.detach().to(device).requires_grad_(c.backward), bd = boxes.to(device),
                         gd = gOut.to(device);
        at::Tensor out;
        const auto [median, best] = timeMs(device, args.repeats, [&] {
          if (c.backward) {
            xd.mutable_grad() = at::Tensor();
            out = neco::ops::roiAlign(xd, bd);
            torch::autograd::backward({out}, {gd});
          } else {
            at::NoGradGuard noGrad;
            out = neco::ops::roiAlign(xd, bd);
          }
        });
        if (d == 0) cpuOut = out.detach();
        const double diff = d == 0 ? 0.0 : (out.detach().cpu() - cpuOut).abs().max().item<double>();
        stepMs[d] += c.perStep * median;
        std::printf(
            "{\"bench\": \"roi_align\", \"case\": \"%s\", \"device\": \"%s\", \"dtype\": \"float32\", "
            "\"batch\": %d, \"channels\": %d, \"map\": %d, \"output\": 7, \"backward\": %s, "
            "\"threads\": %d, \"ms_median\": %.4f, \"ms_min\": %.4f, \"repeats\": %d, "
            "\"max_abs_diff_vs_cpu\": %.3g}\n",
            c.name, device.is_cuda() ? "cuda" : "cpu", args.batch, args.channels, c.map, c.backward ? "true" : "false",
            at::get_num_threads(), median, best, args.repeats, diff);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neco_bench_roi_align: %s\n", e.what());
    return 1;
  }
  std::printf("{\"bench\": \"roi_align_step\", \"cpu_ms\": %.4f, \"cuda_ms\": %s, \"speedup\": %s}\n", stepMs[0],
              devices.size() > 1 ? std::to_string(stepMs[1]).c_str() : "null",
              devices.size() > 1 ? std::to_string(stepMs[0] / stepMs[1]).c_str() : "null");
  return 0;
}

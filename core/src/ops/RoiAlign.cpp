#include "ops/RoiAlign.h"

#include "neco/core/Error.h"
#include "neco/gpu/RoiAlign.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#if NECO_TORCH_HAS_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace neco::ops {
namespace {

using torch::autograd::AutogradContext;

/// One bilinear sample: four cells of an H x W plane and their weights (already divided by the bin's
/// sample count). Samples outside [-1, H] x [-1, W] keep zero weights, as in torchvision.
template <typename T>
struct Tap {
  int64_t offset[4] = {0, 0, 0, 0};
  T weight[4] = {0, 0, 0, 0};
  bool inside = false;  // outside samples are skipped (not 0 * value: an inf or NaN there must not leak)
};

/// The samples of every bin of one box: bins row-major, each with `perBin` taps.
template <typename T>
struct BoxTaps {
  int64_t image = 0;
  int perBin = 0;
  std::vector<Tap<T>> taps;  // K * K * perBin
};

template <typename T>
Tap<T> bilinearTap(T y, T x, int64_t height, int64_t width, T scale) {
  Tap<T> tap;
  if (y < T(-1) || y > static_cast<T>(height) || x < T(-1) || x > static_cast<T>(width)) return tap;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  auto yLow = static_cast<int64_t>(y), xLow = static_cast<int64_t>(x);
  int64_t yHigh = 0, xHigh = 0;
  if (yLow >= height - 1) {
    yHigh = yLow = height - 1;
    y = static_cast<T>(yLow);
  } else {
    yHigh = yLow + 1;
  }
  if (xLow >= width - 1) {
    xHigh = xLow = width - 1;
    x = static_cast<T>(xLow);
  } else {
    xHigh = xLow + 1;
  }
  const T ly = y - static_cast<T>(yLow), lx = x - static_cast<T>(xLow);
  const T hy = T(1) - ly, hx = T(1) - lx;
  tap.inside = true;
  tap.offset[0] = yLow * width + xLow;
  tap.offset[1] = yLow * width + xHigh;
  tap.offset[2] = yHigh * width + xLow;
  tap.offset[3] = yHigh * width + xHigh;
  tap.weight[0] = hy * hx * scale;
  tap.weight[1] = hy * lx * scale;
  tap.weight[2] = ly * hx * scale;
  tap.weight[3] = ly * lx * scale;
  return tap;
}

/// torchvision's sampling geometry for one box (same operations, same scalar type).
template <typename T>
BoxTaps<T> boxTaps(const T* box, int64_t height, int64_t width, const RoiAlignOptions& o) {
  const int K = o.outputSize;
  const T offset = o.aligned ? T(0.5) : T(0);
  const T scale = static_cast<T>(o.spatialScale);
  const T startW = box[1] * scale - offset, startH = box[2] * scale - offset;
  T roiW = box[3] * scale - offset - startW, roiH = box[4] * scale - offset - startH;
  if (!o.aligned) {
    roiW = std::max(roiW, T(1));
    roiH = std::max(roiH, T(1));
  }
  const T binH = roiH / static_cast<T>(K), binW = roiW / static_cast<T>(K);
  const int gridH = o.samplingRatio > 0 ? o.samplingRatio : static_cast<int>(std::ceil(roiH / static_cast<T>(K)));
  const int gridW = o.samplingRatio > 0 ? o.samplingRatio : static_cast<int>(std::ceil(roiW / static_cast<T>(K)));
  const T count = static_cast<T>(std::max(gridH * gridW, 1));
  BoxTaps<T> out;
  out.image = static_cast<int64_t>(box[0]);
  out.perBin = std::max(gridH, 0) * std::max(gridW, 0);
  out.taps.reserve(static_cast<std::size_t>(K) * K * static_cast<std::size_t>(out.perBin));
  for (int ph = 0; ph < K; ++ph) {
    for (int pw = 0; pw < K; ++pw) {
      for (int iy = 0; iy < gridH; ++iy) {
        const T y = startH + static_cast<T>(ph) * binH + (static_cast<T>(iy) + T(0.5)) * binH / static_cast<T>(gridH);
        for (int ix = 0; ix < gridW; ++ix) {
          const T x = startW + static_cast<T>(pw) * binW + (static_cast<T>(ix) + T(0.5)) * binW / static_cast<T>(gridW);
          out.taps.push_back(bilinearTap<T>(y, x, height, width, T(1) / count));
        }
      }
    }
  }
  return out;
}

void checkInputs(const at::Tensor& input, const at::Tensor& boxes, const RoiAlignOptions& o) {
  auto shape = [](const at::Tensor& t) {
    std::string s = "(";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + ")";
  };
  if (input.dim() != 4) throw InvalidArgumentError("roiAlign: input must be (N, C, H, W), got " + shape(input));
  if (boxes.dim() == 2 && boxes.size(0) > 0 && (input.size(2) == 0 || input.size(3) == 0)) {
    throw InvalidArgumentError("roiAlign: boxes on an empty map " + shape(input));
  }
  if (boxes.dim() != 2 || boxes.size(1) != 5) {
    throw InvalidArgumentError("roiAlign: boxes must be (R, 5) [image, x1, y1, x2, y2], got " + shape(boxes));
  }
  if (input.device() != boxes.device()) {
    throw InvalidArgumentError("roiAlign: input and boxes must be on the same device, got " + input.device().str() +
                               " and " + boxes.device().str());
  }
  if (!input.device().is_cpu() && !input.device().is_cuda()) {
    throw UnsupportedError("roiAlign: only CPU and CUDA tensors are supported, got " + input.device().str());
  }
  if (input.is_cuda() && !gpu::kernelsBuilt()) {
    throw UnsupportedError("roiAlign: CUDA tensor given but this build has no CUDA kernels (configured without a "
                           "CUDA compiler)");
  }
  if (input.scalar_type() != boxes.scalar_type() ||
      (input.scalar_type() != at::kFloat && input.scalar_type() != at::kDouble)) {
    throw InvalidArgumentError("roiAlign: input and boxes must both be float32 or both float64");
  }
  if (o.outputSize < 1) throw InvalidArgumentError("roiAlign: outputSize must be >= 1");
  if (!(o.spatialScale > 0) || !std::isfinite(o.spatialScale)) {
    throw InvalidArgumentError("roiAlign: spatialScale must be finite and positive");
  }
  if (boxes.size(0) > 0) {
    const at::Tensor index = boxes.select(1, 0);
    const double lo = index.min().item<double>(), hi = index.max().item<double>();
    if (lo < 0 || hi >= static_cast<double>(input.size(0)) || !at::equal(index, index.floor())) {
      throw InvalidArgumentError("roiAlign: box image indices must be integers in [0, " +
                                 std::to_string(input.size(0)) + ")");
    }
    if (!at::isfinite(boxes).all().item<bool>()) throw InvalidArgumentError("roiAlign: boxes must be finite");
  }
}

template <typename T>
void forwardKernel(const at::Tensor& input, const at::Tensor& boxes, const RoiAlignOptions& o, at::Tensor& out) {
  const int64_t C = input.size(1), H = input.size(2), W = input.size(3), R = boxes.size(0), KK = o.outputSize * o.outputSize;
  const T* in = input.data_ptr<T>();
  const T* bx = boxes.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  at::parallel_for(0, R, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const BoxTaps<T> taps = boxTaps<T>(bx + r * 5, H, W, o);
      for (int64_t c = 0; c < C; ++c) {
        const T* plane = in + (taps.image * C + c) * H * W;
        T* bins = dst + (r * C + c) * KK;
        for (int64_t bin = 0; bin < KK; ++bin) {
          T sum = 0;
          const Tap<T>* t = taps.taps.data() + bin * taps.perBin;
          for (int s = 0; s < taps.perBin; ++s) {
            if (!t[s].inside) continue;  // as torchvision
            for (int k = 0; k < 4; ++k) sum += t[s].weight[k] * plane[t[s].offset[k]];
          }
          bins[bin] = sum;
        }
      }
    }
  });
}

template <typename T>
void backwardKernel(const at::Tensor& gradOut, const at::Tensor& boxes, const RoiAlignOptions& o, at::Tensor& gradIn) {
  const int64_t C = gradIn.size(1), H = gradIn.size(2), W = gradIn.size(3), R = boxes.size(0), KK = o.outputSize * o.outputSize;
  const T* g = gradOut.data_ptr<T>();
  const T* bx = boxes.data_ptr<T>();
  T* gi = gradIn.data_ptr<T>();
  std::vector<BoxTaps<T>> all;
  all.reserve(static_cast<std::size_t>(R));
  for (int64_t r = 0; r < R; ++r) all.push_back(boxTaps<T>(bx + r * 5, H, W, o));
  at::parallel_for(0, C, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      for (int64_t r = 0; r < R; ++r) {
        const BoxTaps<T>& taps = all[static_cast<std::size_t>(r)];
        T* plane = gi + (taps.image * C + c) * H * W;
        const T* bins = g + (r * C + c) * KK;
        for (int64_t bin = 0; bin < KK; ++bin) {
          const T gb = bins[bin];
          const Tap<T>* t = taps.taps.data() + bin * taps.perBin;
          for (int s = 0; s < taps.perBin; ++s) {
            for (int k = 0; k < 4; ++k) {
              if (t[s].weight[k] != T(0)) plane[t[s].offset[k]] += t[s].weight[k] * gb;  // as torchvision: out-of-range samples add nothing
            }
          }
        }
      }
    }
  });
}

// ---- CUDA (gpu/src/RoiAlign.cu, the twin of the kernels above) ------------------------------------

#if NECO_TORCH_HAS_CUDA
gpu::RoiAlignShape gpuShape(at::IntArrayRef inputShape, const RoiAlignOptions& o) {
  for (int64_t d = 1; d < 4; ++d) {
    if (inputShape[d] > std::numeric_limits<int>::max()) {
      throw InvalidArgumentError("roiAlign: CUDA maps need C, H and W below 2^31, got " +
                                 std::to_string(inputShape[d]));
    }
  }
  gpu::RoiAlignShape s;
  s.images = inputShape[0];
  s.channels = static_cast<int>(inputShape[1]);
  s.height = static_cast<int>(inputShape[2]);
  s.width = static_cast<int>(inputShape[3]);
  s.outputSize = o.outputSize;
  s.spatialScale = o.spatialScale;
  s.samplingRatio = o.samplingRatio;
  s.aligned = o.aligned;
  return s;
}

void throwOnGpu(gpu::GpuStatus status, const char* what) {
  if (status == gpu::GpuStatus::Ok) return;
  if (status == gpu::GpuStatus::NotBuilt) {
    throw UnsupportedError(std::string(what) + ": this build has no CUDA kernels");
  }
  throw GpuError(std::string(what) + ": " + gpu::statusName(status) + " " + gpu::lastErrorMessage());
}
#endif

/// out (R, C, K, K) on the input's device.
void forwardCuda(const at::Tensor& input, const at::Tensor& boxes, const RoiAlignOptions& o, at::Tensor& out) {
#if NECO_TORCH_HAS_CUDA
  const c10::cuda::CUDAGuard guard(input.device());
  void* stream = c10::cuda::getCurrentCUDAStream(input.device().index()).stream();
  const gpu::RoiAlignShape shape = gpuShape(input.sizes(), o);
  gpu::GpuStatus status = gpu::GpuStatus::Ok;
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "roiAlignCuda", [&] {
    status = gpu::launch_roi_align_forward(shape, input.data_ptr<scalar_t>(), boxes.data_ptr<scalar_t>(), boxes.size(0),
                                           out.data_ptr<scalar_t>(), stream);
  });
  throwOnGpu(status, "roiAlign forward");
#else
  (void)input, (void)boxes, (void)o, (void)out;
  throw UnsupportedError("roiAlign: CUDA tensor given but LibTorch in this build has no CUDA");
#endif
}

/// Adds into gradIn (zeroed by the caller). NOTE: atomicAdd on the device, so not bit-deterministic.
void backwardCuda(const at::Tensor& gradOut, const at::Tensor& boxes, const RoiAlignOptions& o, at::Tensor& gradIn) {
#if NECO_TORCH_HAS_CUDA
  const c10::cuda::CUDAGuard guard(gradIn.device());
  void* stream = c10::cuda::getCurrentCUDAStream(gradIn.device().index()).stream();
  const gpu::RoiAlignShape shape = gpuShape(gradIn.sizes(), o);
  gpu::GpuStatus status = gpu::GpuStatus::Ok;
  AT_DISPATCH_FLOATING_TYPES(gradOut.scalar_type(), "roiAlignBackwardCuda", [&] {
    status = gpu::launch_roi_align_backward(shape, gradOut.data_ptr<scalar_t>(), boxes.data_ptr<scalar_t>(),
                                            boxes.size(0), gradIn.data_ptr<scalar_t>(), stream);
  });
  throwOnGpu(status, "roiAlign backward");
#else
  (void)gradOut, (void)boxes, (void)o, (void)gradIn;
  throw UnsupportedError("roiAlign: CUDA tensor given but LibTorch in this build has no CUDA");
#endif
}

RoiAlignOptions optionsOf(AutogradContext* ctx) {
  RoiAlignOptions o;
  o.outputSize = static_cast<int>(ctx->saved_data["k"].toInt());
  o.spatialScale = ctx->saved_data["scale"].toDouble();
  o.samplingRatio = static_cast<int>(ctx->saved_data["ratio"].toInt());
  o.aligned = ctx->saved_data["aligned"].toBool();
  return o;
}

struct RoiAlignFunction : torch::autograd::Function<RoiAlignFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& boxes,
                            const RoiAlignOptions& o) {
    const at::Tensor in = input.contiguous(), bx = boxes.contiguous();
    const std::vector<int64_t> outShape{bx.size(0), in.size(1), o.outputSize, o.outputSize};
    at::Tensor out;
    if (in.is_cuda()) {
      out = at::empty(outShape, in.options());  // the kernel writes every element
      forwardCuda(in, bx, o, out);
    } else {
      out = at::zeros(outShape, in.options());
      AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "roiAlign", [&] { forwardKernel<scalar_t>(in, bx, o, out); });
    }
    ctx->save_for_backward({bx});
    ctx->saved_data["shape"] = in.sizes().vec();
    ctx->saved_data["k"] = static_cast<int64_t>(o.outputSize);
    ctx->saved_data["scale"] = o.spatialScale;
    ctx->saved_data["ratio"] = static_cast<int64_t>(o.samplingRatio);
    ctx->saved_data["aligned"] = o.aligned;
    return out;
  }

  static torch::autograd::variable_list backward(AutogradContext* ctx, torch::autograd::variable_list grads) {
    const at::Tensor bx = ctx->get_saved_variables()[0];
    const RoiAlignOptions o = optionsOf(ctx);
    const at::Tensor g = grads[0].contiguous();
    at::Tensor gi = at::zeros(ctx->saved_data["shape"].toIntVector(), g.options());
    if (g.is_cuda()) {
      backwardCuda(g, bx, o, gi);
    } else {
      AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "roiAlignBackward", [&] { backwardKernel<scalar_t>(g, bx, o, gi); });
    }
    return {gi, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor roiAlign(const at::Tensor& input, const at::Tensor& boxes, const RoiAlignOptions& options) {
  checkInputs(input, boxes, options);
  return RoiAlignFunction::apply(input, boxes.detach(), options);
}

}  // namespace neco::ops

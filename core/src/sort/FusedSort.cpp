#include "sort/FusedSort.h"

#include "neco/core/Error.h"
#include "neco/core/SoftSort.h"
#include "neco/gpu/SoftSort.h"
#include "sort/FusedSortCpu.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/autograd/custom_function.h>

#if NECO_TORCH_HAS_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace neco::sort {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kRowChunk = 8;  // rows per task: one row is ~100k flops at n = 49

/// Runs body(scratch, row) for every row in [0, rows) on the intra-op threads, handing out chunks of
/// kRowChunk rows from a shared counter rather than one fixed half per thread: on a shared machine one
/// core is often slower than the other, and a static split would wait for the slow one.
template <typename T, typename Body>
void forEachRow(int64_t rows, ScratchSize scratchSize, const Body& body) {
  const int64_t chunks = (rows + kRowChunk - 1) / kRowChunk;
  std::atomic<int64_t> next{0};
  at::parallel_for(0, std::min<int64_t>(chunks, at::get_num_threads()), 1, [&](int64_t, int64_t) {
    ScratchBuffer<T> scratch(scratchSize);
    const Scratch<T> view = scratch.view();
    for (int64_t chunk = next.fetch_add(1); chunk < chunks; chunk = next.fetch_add(1)) {
      const int64_t end = std::min(rows, (chunk + 1) * kRowChunk);
      for (int64_t r = chunk * kRowChunk; r < end; ++r) body(view, r);
    }
  });
}

void checkRows(const at::Tensor& x, const char* what) {
  if (x.dim() != 2 || x.size(1) < 2) {
    throw InvalidArgumentError(std::string(what) + ": expected (rows, n) with n >= 2, got " + std::to_string(x.dim()) +
                               "-d tensor");
  }
  const auto t = x.scalar_type();
  if (t != at::kFloat && t != at::kDouble && t != at::kHalf && t != at::kBFloat16) {
    throw InvalidArgumentError(std::string(what) + ": floating-point input required");
  }
}

void checkOptions(const SortOptions& o, const char* what) {
  if (!(o.steepness > 0.0) || !std::isfinite(o.steepness)) {
    throw InvalidArgumentError(std::string(what) + ": steepness must be positive and finite, got " +
                               std::to_string(o.steepness));
  }
}

template <typename T>
const RowKernels<T>& rowKernels();
template <>
const RowKernels<float>& rowKernels<float>() {
  return cpuKernels().f32;
}
template <>
const RowKernels<double>& rowKernels<double>() {
  return cpuKernels().f64;
}

// ---- CUDA ----------------------------------------------------------------------------------------

#if NECO_TORCH_HAS_CUDA
struct DeviceNetwork {
  at::Tensor layerBegin, comparators;  // int32 on the device
  gpu::SortNetworkView view(const FlatNetwork& net) const {
    return {net.n, net.layers(), layerBegin.data_ptr<int>(), comparators.data_ptr<int>(), net.comparatorCount()};
  }
};

DeviceNetwork uploadNetwork(const FlatNetwork& net, const at::Device& device) {
  std::vector<int> comps;
  comps.reserve(net.comparators.size() * 3);
  for (const FlatComparator& c : net.comparators) comps.insert(comps.end(), {c.a, c.b, c.minToA});
  const auto opts = at::TensorOptions().dtype(at::kInt);
  at::Tensor begin = at::from_blob(const_cast<int*>(net.layerBegin.data()),
                                   {static_cast<int64_t>(net.layerBegin.size())}, opts).to(device);
  at::Tensor cmp = at::from_blob(comps.data(), {static_cast<int64_t>(comps.size())}, opts).to(device);
  return {begin, cmp};
}

void throwOnGpu(gpu::GpuStatus status, const char* what) {
  if (status == gpu::GpuStatus::Ok) return;
  if (status == gpu::GpuStatus::NotBuilt) throw UnsupportedError(std::string(what) + ": this build has no CUDA kernels");
  throw GpuError(std::string(what) + ": " + gpu::statusName(status) + " " + gpu::lastErrorMessage());
}

gpu::SortRelaxation gpuRelax(const SortOptions& o) {
  return {static_cast<int>(o.relaxation), o.steepness, o.artLambda};
}

void* currentStream(const at::Tensor& t) { return c10::cuda::getCurrentCUDAStream(t.device().index()).stream(); }
#endif

// ---- forward / backward on tensors ----------------------------------------------------------------

struct ForwardOut {
  at::Tensor sorted, permutation, alphas;
};

ForwardOut forwardTensors(const at::Tensor& xIn, const FlatNetwork& net, const SortOptions& o, bool wantAlphas) {
  const at::Tensor x = xIn.contiguous();
  const int64_t R = x.size(0), n = x.size(1);
  ForwardOut out{at::empty({R, n}, x.options()), at::empty({R, n, n}, x.options()),
                 at::empty({R, wantAlphas ? net.comparatorCount() : 0}, x.options())};
  if (R == 0) return out;
  if (x.is_cuda()) {
#if NECO_TORCH_HAS_CUDA
    const DeviceNetwork dn = uploadNetwork(net, x.device());
    const auto status = x.scalar_type() == at::kDouble
        ? gpu::launch_soft_sort_forward(dn.view(net), gpuRelax(o), x.data_ptr<double>(), R, out.sorted.data_ptr<double>(),
                                        out.permutation.data_ptr<double>(),
                                        wantAlphas ? out.alphas.data_ptr<double>() : nullptr, currentStream(x))
        : gpu::launch_soft_sort_forward(dn.view(net), gpuRelax(o), x.data_ptr<float>(), R, out.sorted.data_ptr<float>(),
                                        out.permutation.data_ptr<float>(),
                                        wantAlphas ? out.alphas.data_ptr<float>() : nullptr, currentStream(x));
    throwOnGpu(status, "soft sort forward");
    return out;
#else
    throw UnsupportedError("soft sort: CUDA tensor given but LibTorch in this build has no CUDA");
#endif
  }
  const RelaxParams relax = relaxParams(o);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "softSortForward", [&] {
    const auto& kernels = rowKernels<scalar_t>();
    const scalar_t* in = x.data_ptr<scalar_t>();
    scalar_t* sorted = out.sorted.data_ptr<scalar_t>();
    scalar_t* perm = out.permutation.data_ptr<scalar_t>();
    scalar_t* alphas = wantAlphas ? out.alphas.data_ptr<scalar_t>() : nullptr;
    const int64_t C = net.comparatorCount();
    forEachRow<scalar_t>(R, forwardScratchSize(net), [&](const Scratch<scalar_t>& scratch, int64_t r) {
      kernels.forward(net, relax, in + r * n, sorted + r * n, perm + r * n * n, alphas ? alphas + r * C : nullptr, scratch);
    });
  });
  return out;
}

at::Tensor backwardTensors(const at::Tensor& xIn, const at::Tensor& alphas, const at::Tensor& gSortedIn,
                           const at::Tensor& gPermIn, const FlatNetwork& net, const SortOptions& o) {
  const at::Tensor x = xIn.contiguous();
  const at::Tensor gSorted = gSortedIn.defined() ? gSortedIn.contiguous() : at::Tensor();
  const at::Tensor gPerm = gPermIn.defined() ? gPermIn.contiguous() : at::Tensor();
  const int64_t R = x.size(0), n = x.size(1);
  at::Tensor gIn = at::empty({R, n}, x.options());
  if (R == 0) return gIn;
  if (x.is_cuda()) {
#if NECO_TORCH_HAS_CUDA
    const DeviceNetwork dn = uploadNetwork(net, x.device());
    const int64_t chunk = gpu::soft_sort_backward_rows_per_chunk(net.n, net.layers());
    at::Tensor scratch = at::empty({static_cast<int64_t>(gpu::soft_sort_backward_scratch(net.n, net.layers(),
                                                                                         std::min(chunk, R)))},
                                   x.options());
    for (int64_t r0 = 0; r0 < R; r0 += chunk) {
      const int64_t rows = std::min(chunk, R - r0);
      gpu::GpuStatus status = gpu::GpuStatus::Ok;
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "softSortBackwardCuda", [&] {
        status = gpu::launch_soft_sort_backward(
            dn.view(net), gpuRelax(o), x.data_ptr<scalar_t>() + r0 * n, alphas.data_ptr<scalar_t>() + r0 * alphas.size(1),
            gSorted.defined() ? gSorted.data_ptr<scalar_t>() + r0 * n : nullptr,
            gPerm.defined() ? gPerm.data_ptr<scalar_t>() + r0 * n * n : nullptr, gIn.data_ptr<scalar_t>() + r0 * n, rows,
            scratch.data_ptr<scalar_t>(), currentStream(x));
      });
      throwOnGpu(status, "soft sort backward");
    }
    return gIn;
#else
    throw UnsupportedError("soft sort: CUDA tensor given but LibTorch in this build has no CUDA");
#endif
  }
  const RelaxParams relax = relaxParams(o);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "softSortBackward", [&] {
    const auto& kernels = rowKernels<scalar_t>();
    const scalar_t* in = x.data_ptr<scalar_t>();
    const scalar_t* al = alphas.numel() > 0 ? alphas.data_ptr<scalar_t>() : nullptr;
    const scalar_t* gs = gSorted.defined() ? gSorted.data_ptr<scalar_t>() : nullptr;
    const scalar_t* gp = gPerm.defined() ? gPerm.data_ptr<scalar_t>() : nullptr;
    scalar_t* gi = gIn.data_ptr<scalar_t>();
    const int64_t C = net.comparatorCount();
    forEachRow<scalar_t>(R, backwardScratchSize(net), [&](const Scratch<scalar_t>& scratch, int64_t r) {
      kernels.backward(net, relax, in + r * n, al ? al + r * C : nullptr, gs ? gs + r * n : nullptr,
                       gp ? gp + r * n * n : nullptr, gi + r * n, scratch);
    });
  });
  return gIn;
}

SortOptions optionsFrom(const AutogradContext* ctx, const std::string& prefix) {
  SortOptions o;
  o.relaxation = static_cast<Relaxation>(ctx->saved_data.at(prefix + "relaxation").toInt());
  o.steepness = ctx->saved_data.at(prefix + "steepness").toDouble();
  o.artLambda = ctx->saved_data.at(prefix + "lambda").toDouble();
  return o;
}

void saveOptions(AutogradContext* ctx, const std::string& prefix, const SortOptions& o) {
  ctx->saved_data[prefix + "relaxation"] = static_cast<int64_t>(o.relaxation);
  ctx->saved_data[prefix + "steepness"] = o.steepness;
  ctx->saved_data[prefix + "lambda"] = o.artLambda;
}

struct FusedSortFunction : torch::autograd::Function<FusedSortFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, NetworkKind kind, SortOptions options) {
    const auto net = sharedFlatNetwork(kind, static_cast<int>(x.size(1)));
    // CPU backward replays the swap weights from x (bit-identical), so autograd keeps only x; the
    // CUDA backward reads the forward's weights.
    ForwardOut out = forwardTensors(x, *net, options, /*wantAlphas=*/x.is_cuda());
    ctx->save_for_backward({x, out.alphas});
    ctx->saved_data["kind"] = static_cast<int64_t>(kind);
    saveOptions(ctx, "", options);
    ctx->mark_non_differentiable({out.alphas});
    return {out.sorted, out.permutation, out.alphas};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto kind = static_cast<NetworkKind>(ctx->saved_data.at("kind").toInt());
    const auto net = sharedFlatNetwork(kind, static_cast<int>(saved[0].size(1)));
    at::Tensor gIn = backwardTensors(saved[0], saved[1], grads[0], grads[1], *net, optionsFrom(ctx, ""));
    return {gIn, at::Tensor(), at::Tensor()};
  }
};

struct SortCrossEntropyFunction : torch::autograd::Function<SortCrossEntropyFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& studentIn, const at::Tensor& teacherIn,
                               NetworkKind kind, SortOptions studentOptions, SortOptions teacherOptions, double floor) {
    const at::Tensor student = studentIn.contiguous(), teacher = teacherIn.contiguous();
    const auto net = sharedFlatNetwork(kind, static_cast<int>(student.size(1)));
    const int64_t R = student.size(0), n = student.size(1);
    at::Tensor loss = at::empty({R}, student.options());
    const RelaxParams rs = relaxParams(studentOptions), rt = relaxParams(teacherOptions);
    AT_DISPATCH_FLOATING_TYPES(student.scalar_type(), "sortCrossEntropy", [&] {
      const auto& kernels = rowKernels<scalar_t>();
      const scalar_t* s = student.data_ptr<scalar_t>();
      const scalar_t* t = teacher.data_ptr<scalar_t>();
      scalar_t* l = loss.data_ptr<scalar_t>();
      forEachRow<scalar_t>(R, backwardScratchSize(*net), [&](const Scratch<scalar_t>& scratch, int64_t r) {
        l[r] = kernels.crossEntropy(*net, rs, rt, s + r * n, t + r * n, floor, scratch);
      });
    });
    ctx->save_for_backward({student, teacher});
    ctx->saved_data["kind"] = static_cast<int64_t>(kind);
    ctx->saved_data["floor"] = floor;
    saveOptions(ctx, "s.", studentOptions);
    saveOptions(ctx, "t.", teacherOptions);
    return {loss};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& student = saved[0];
    const at::Tensor& teacher = saved[1];
    const auto kind = static_cast<NetworkKind>(ctx->saved_data.at("kind").toInt());
    const auto net = sharedFlatNetwork(kind, static_cast<int>(student.size(1)));
    const double floor = ctx->saved_data.at("floor").toDouble();
    const RelaxParams rs = relaxParams(optionsFrom(ctx, "s.")), rt = relaxParams(optionsFrom(ctx, "t."));
    const at::Tensor gLoss = grads[0].contiguous();
    const int64_t R = student.size(0), n = student.size(1);
    at::Tensor gIn = at::empty_like(student);
    AT_DISPATCH_FLOATING_TYPES(student.scalar_type(), "sortCrossEntropyBackward", [&] {
      const auto& kernels = rowKernels<scalar_t>();
      const scalar_t* s = student.data_ptr<scalar_t>();
      const scalar_t* t = teacher.data_ptr<scalar_t>();
      const scalar_t* g = gLoss.data_ptr<scalar_t>();
      scalar_t* gi = gIn.data_ptr<scalar_t>();
      forEachRow<scalar_t>(R, backwardScratchSize(*net), [&](const Scratch<scalar_t>& scratch, int64_t r) {
        kernels.crossEntropyBackward(*net, rs, rt, s + r * n, t + r * n, floor, g[r], gi + r * n, scratch);
      });
    });
    return {gIn, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor computeDtype(const at::Tensor& x) {
  const auto t = x.scalar_type();
  return (t == at::kHalf || t == at::kBFloat16) ? x.to(at::kFloat) : x;  // NOTE: the sort stays fp32
}

}  // namespace

std::shared_ptr<const FlatNetwork> sharedFlatNetwork(NetworkKind kind, int n) {
  static std::mutex mutex;
  static std::map<std::pair<int, int>, std::shared_ptr<const FlatNetwork>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[{static_cast<int>(kind), n}];
  if (!slot) {
    const SortingNetwork network = buildNetwork(kind, n);
    if (kind == NetworkKind::Bitonic) {  // one validity check, its verdict cached with the facade's
      const std::string warning = bitonicValidityWarning(n);
      if (!warning.empty()) spdlog::warn("soft sort: {}", warning);  // once per size, then used as asked
    }
    slot = std::make_shared<const FlatNetwork>(flatten(network));
  }
  return slot;
}

SoftSortResult softSort(const at::Tensor& input, NetworkKind network, const SortOptions& options) {
  checkRows(input, "softSort");
  checkOptions(options, "softSort");
  const at::Tensor x = computeDtype(input);
  const variable_list out = FusedSortFunction::apply(x, network, options);
  return {out[0], out[1]};
}

at::Tensor swapWeights(const at::Tensor& input, NetworkKind network, const SortOptions& options) {
  checkRows(input, "swapWeights");
  checkOptions(options, "swapWeights");
  at::NoGradGuard noGrad;
  const at::Tensor x = computeDtype(input);
  return forwardTensors(x, *sharedFlatNetwork(network, static_cast<int>(x.size(1))), options, true).alphas;
}

at::Tensor sortCrossEntropy(const at::Tensor& studentIn, const at::Tensor& teacherIn, NetworkKind network,
                            const SortOptions& studentOptions, const SortOptions& teacherOptions, double logFloor) {
  checkRows(studentIn, "sortCrossEntropy");
  checkRows(teacherIn, "sortCrossEntropy");
  checkOptions(studentOptions, "sortCrossEntropy (student)");
  checkOptions(teacherOptions, "sortCrossEntropy (teacher)");
  if (studentIn.sizes() != teacherIn.sizes() || studentIn.device() != teacherIn.device()) {
    throw InvalidArgumentError("sortCrossEntropy: student and teacher rows differ in shape or device");
  }
  if (studentOptions.relaxation != teacherOptions.relaxation) {
    throw InvalidArgumentError("sortCrossEntropy: student and teacher must use the same relaxation");
  }
  if (!(logFloor > 0.0)) throw InvalidArgumentError("sortCrossEntropy: the log floor must be positive");
  const at::Tensor student = computeDtype(studentIn);
  const at::Tensor teacher = computeDtype(teacherIn).detach().to(student.scalar_type());
  if (student.is_cuda()) {
    // GPU: the two sorts run fused on the device; the loss is composed from them (documented in
    // docs/SORTING.md: on the GPU the n x n matrices of a chunk are cheap to hold).
    const at::Tensor p = softSort(student, network, studentOptions).permutation;
    at::Tensor q;
    {
      at::NoGradGuard noGrad;
      q = softSort(teacher, network, teacherOptions).permutation;
    }
    return -(q * at::log(at::clamp_min(p, logFloor))).sum(2).mean(1);
  }
  return SortCrossEntropyFunction::apply(student, teacher, network, studentOptions, teacherOptions, logFloor)[0];
}

const char* cpuSortIsa() { return cpuKernels().isa; }

}  // namespace neco::sort

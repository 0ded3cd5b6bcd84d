#include "ops/CosineSimilarity.h"

#include "neco/core/Error.h"
#include "neco/gpu/CosineSimilarity.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#if NECO_TORCH_HAS_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

#include <algorithm>
#include <cmath>
#include <string>

namespace neco::ops {
namespace {

void checkInputs(const at::Tensor& features, const at::Tensor& queries) {
  auto shape = [](const at::Tensor& t) {
    std::string s = "(";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + ")";
  };
  if (features.dim() != 2 || queries.dim() != 2 || features.size(1) != queries.size(1)) {
    throw InvalidArgumentError("cosineSimilarity: expected features (N, D) and queries (Q, D), got " +
                               shape(features) + " and " + shape(queries));
  }
  if (features.scalar_type() != at::kFloat || queries.scalar_type() != at::kFloat) {
    throw InvalidArgumentError("cosineSimilarity: float32 tensors required");
  }
  if (features.device() != queries.device()) {
    throw InvalidArgumentError("cosineSimilarity: features and queries on different devices");
  }
}

float norm(const float* v, int64_t d) {
  float s = 0.f;
  for (int64_t k = 0; k < d; ++k) s += v[k] * v[k];
  return std::max(std::sqrt(s), 1e-12f);
}

}  // namespace

at::Tensor cosineSimilarityCpu(const at::Tensor& featuresIn, const at::Tensor& queriesIn) {
  checkInputs(featuresIn, queriesIn);
  const at::Tensor features = featuresIn.contiguous(), queries = queriesIn.contiguous();
  const int64_t N = features.size(0), Q = queries.size(0), D = features.size(1);
  at::Tensor out = at::empty({Q, N}, features.options());
  const float* f = features.data_ptr<float>();
  const float* q = queries.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t qi = 0; qi < Q; ++qi) {
    const float* qv = q + qi * D;
    const float qn = norm(qv, D);
    at::parallel_for(0, N, 256, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* fv = f + r * D;
        float dot = 0.f, ff = 0.f;
        for (int64_t k = 0; k < D; ++k) {  // one pass: vectorises to fused dot + squared norm
          dot += fv[k] * qv[k];
          ff += fv[k] * fv[k];
        }
        o[qi * N + r] = dot / (std::max(std::sqrt(ff), 1e-12f) * qn);
      }
    });
  }
  return out;
}

at::Tensor cosineSimilarity(const at::Tensor& features, const at::Tensor& queries) {
  checkInputs(features, queries);
  if (!features.is_cuda()) return cosineSimilarityCpu(features, queries);
#if NECO_TORCH_HAS_CUDA
  const at::Tensor f = features.contiguous(), q = queries.contiguous();
  at::Tensor out = at::empty({q.size(0), f.size(0)}, f.options());
  void* stream = c10::cuda::getCurrentCUDAStream(f.device().index()).stream();
  const gpu::GpuStatus status =
      gpu::launch_cosine_similarity(f.data_ptr<float>(), static_cast<int>(f.size(0)), static_cast<int>(f.size(1)),
                                    q.data_ptr<float>(), static_cast<int>(q.size(0)), out.data_ptr<float>(), stream);
  if (status == gpu::GpuStatus::NotBuilt) throw UnsupportedError("cosineSimilarity: this build has no CUDA kernels");
  if (status != gpu::GpuStatus::Ok) {
    throw GpuError(std::string("cosineSimilarity kernel: ") + gpu::statusName(status) + " " + gpu::lastErrorMessage());
  }
  return out;
#else
  throw UnsupportedError("cosineSimilarity: CUDA tensor given but LibTorch in this build has no CUDA");
#endif
}

}  // namespace neco::ops

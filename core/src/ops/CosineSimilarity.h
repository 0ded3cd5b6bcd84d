#pragma once
// Cosine similarity of query rows against feature rows, dispatched by device: CUDA tensors go to
// the gpu/ kernel (when built), CPU tensors to the CPU twin below. Both are tested against the
// plain ATen formulation.

#include <ATen/core/Tensor.h>

namespace neco::ops {

/// features (N, D), queries (Q, D), same dtype float32 and device -> (Q, N) float32.
/// Throws InvalidArgumentError on shape/dtype/device mismatch, GpuError if a kernel fails,
/// UnsupportedError for CUDA tensors in a build without kernels.
at::Tensor cosineSimilarity(const at::Tensor& features, const at::Tensor& queries);

/// The CPU twin, exposed for tests and benchmarks.
at::Tensor cosineSimilarityCpu(const at::Tensor& features, const at::Tensor& queries);

}  // namespace neco::ops

#pragma once
// Cosine similarity of query rows against a bank of feature rows, on the device.
// Both inputs are row-major float32 device buffers; rows need not be normalised.

#include "neco/gpu/Status.h"

namespace neco::gpu {

/// out[q * numRows + r] = <query_q, feat_r> / (|query_q| |feat_r|) with norms clamped below by 1e-12.
/// `stream` is a cudaStream_t passed as void* so callers need no CUDA headers (nullptr = default stream).
/// Returns InvalidArgument for null pointers or non-positive sizes; LaunchFailed with lastErrorMessage().
GpuStatus launch_cosine_similarity(const float* features, int numRows, int dim, const float* queries,
                                   int numQueries, float* out, void* stream) noexcept;

}  // namespace neco::gpu

#include "train/Autocast.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace neco::train {
namespace {

// LibTorch 2.4 replaced the CUDA-only calls by per-device ones (the old ones are deprecated).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool cudaAutocastEnabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
void setCudaAutocast(bool on) {
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, on);
}
#else
bool cudaAutocastEnabled() { return at::autocast::is_enabled(); }
void setCudaAutocast(bool on) {
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(on);
}
#endif

}  // namespace

CudaAutocast::CudaAutocast(bool enabled, const at::Tensor& input) {
  if (!enabled || !input.is_cuda()) return;
  wasEnabled_ = cudaAutocastEnabled();
  if (wasEnabled_) return;  // an outer scope already casts
  setCudaAutocast(true);
  active_ = true;
}

CudaAutocast::~CudaAutocast() {
  if (!active_) return;
  setCudaAutocast(false);
  at::autocast::clear_cache();  // the cast weights are per-step (they change with every update)
}

}  // namespace neco::train

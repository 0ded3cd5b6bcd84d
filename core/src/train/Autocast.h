#pragma once
// Mixed precision for the backbone on CUDA (issue 5): a scope in which LibTorch's CUDA autocast runs
// matmuls and attention in bfloat16 (fp16 would need loss scaling; bf16 has fp32's range). The head,
// the loss and the sorts stay fp32: NecoNetwork casts the backbone's tokens back before projecting.
// On the CPU, or when disabled, the scope does nothing, so CPU results are bit-identical either way.

namespace at {
class Tensor;
}

namespace neco::train {

class CudaAutocast {
 public:
  /// Active only when `enabled` and `input` lives on a CUDA device.
  CudaAutocast(bool enabled, const at::Tensor& input);
  ~CudaAutocast();
  CudaAutocast(const CudaAutocast&) = delete;
  CudaAutocast& operator=(const CudaAutocast&) = delete;
  bool active() const noexcept { return active_; }

 private:
  bool active_ = false;
  bool wasEnabled_ = false;
};

}  // namespace neco::train

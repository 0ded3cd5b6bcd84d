#pragma once
// RoI-Align exactly as torchvision.ops.roi_align (METHOD.md §2.4): each output bin averages a grid of
// bilinear samples, the grid adaptive (ceil(extent / outputSize) per axis) unless samplingRatio > 0;
// `aligned` shifts boxes by half a cell so that integer coordinates are cell centres. NeCo calls it
// with outputSize 7, spatialScale 1 (boxes already in token units), samplingRatio -1, aligned true.
//
// Geometry is computed in the input's scalar type, as torchvision does, so float32 results match it
// to rounding. Forward is parallel over boxes; backward over channels (no two threads ever add into
// the same gradient plane, so it is deterministic).
//
// CUDA tensors run gpu/src/RoiAlign.cu (neco/gpu/RoiAlign.h), the twin of these kernels: same
// geometry operation by operation, forward one thread per output element. NOTE: its backward scatters
// with atomicAdd, so CUDA gradients are not bit-deterministic (they agree with the CPU to rounding).

#include <ATen/core/Tensor.h>

namespace neco::ops {

struct RoiAlignOptions {
  int outputSize = 7;         ///< K: the output is K x K per box
  double spatialScale = 1.0;  ///< box coordinates are multiplied by this first
  int samplingRatio = -1;     ///< samples per bin and axis; <= 0: ceil(box extent / K)
  bool aligned = true;        ///< subtract 0.5 from the scaled box (torchvision's aligned=True)
};

/// input (N, C, H, W) float32/float64 on the CPU or a CUDA device; boxes (R, 5) of [image index, x1, y1,
/// x2, y2], same dtype and device -> (R, C, K, K). Differentiable with respect to `input` (not the
/// boxes, like torchvision). Throws InvalidArgumentError for bad shapes, dtypes, options, input and boxes
/// on different devices or an image index outside [0, N); UnsupportedError for devices other than CPU
/// and CUDA, or CUDA tensors in a build without CUDA kernels; GpuError when a kernel launch fails.
at::Tensor roiAlign(const at::Tensor& input, const at::Tensor& boxes, const RoiAlignOptions& options = {});

}  // namespace neco::ops

#pragma once
// RoI-Align on the device (CUDA twin of core/src/ops/RoiAlign.cpp, torchvision's roi_align semantics):
// each output bin averages a grid of bilinear samples, the grid adaptive (ceil(extent / K) per axis)
// unless samplingRatio > 0; `aligned` shifts boxes by half a cell. The sampling geometry is computed
// in the input's scalar type with the CPU twin's operations in the same order and without fused
// multiply-adds, so both pick the same samples.
//
// Forward: one thread per output element (box, channel, bin). Backward: one thread per element of the
// output gradient, scattering into the input gradient with atomicAdd. NOTE: the CUDA backward is
// therefore not bit-deterministic (the order of the additions varies from run to run), unlike the
// CPU twin, which gives each thread its own channels.
// Plain pointers and sizes only; all pointers are device memory. Every entry point is noexcept.

#include "neco/gpu/Status.h"

namespace neco::gpu {

/// The feature maps (images x channels x height x width, contiguous) and the options of
/// neco::ops::RoiAlignOptions.
struct RoiAlignShape {
  long long images = 0;
  int channels = 0;
  int height = 0;
  int width = 0;
  int outputSize = 7;         ///< K: K x K bins per box
  double spatialScale = 1.0;  ///< box coordinates are multiplied by this first
  int samplingRatio = -1;     ///< samples per bin and axis; <= 0: ceil(box extent / K)
  bool aligned = true;        ///< subtract 0.5 from the scaled box (torchvision's aligned=True)
};

/// out (boxCount x channels x K x K) from input (images x channels x height x width) and boxes
/// (boxCount x 5: image index, x1, y1, x2, y2). Image indices must be integers in [0, images) (core checks
/// them before the launch); a box whose index is outside gives zeros rather than reading out of bounds.
/// `stream` is a cudaStream_t passed as void* (nullptr = default stream). Returns InvalidArgument for
/// null pointers, negative sizes, an empty map, outputSize < 1 or a non-positive scale; Ok without a
/// launch when there is nothing to compute; LaunchFailed with lastErrorMessage().
GpuStatus launch_roi_align_forward(const RoiAlignShape& shape, const float* input, const float* boxes,
                                   long long boxCount, float* out, void* stream) noexcept;
GpuStatus launch_roi_align_forward(const RoiAlignShape& shape, const double* input, const double* boxes,
                                   long long boxCount, double* out, void* stream) noexcept;

/// Adds d loss / d input into gradInput (images x channels x height x width; the caller zeroes it) from
/// gradOut (boxCount x channels x K x K). Not bit-deterministic (atomicAdd); same statuses as forward.
GpuStatus launch_roi_align_backward(const RoiAlignShape& shape, const float* gradOut, const float* boxes,
                                    long long boxCount, float* gradInput, void* stream) noexcept;
GpuStatus launch_roi_align_backward(const RoiAlignShape& shape, const double* gradOut, const double* boxes,
                                    long long boxCount, double* gradInput, void* stream) noexcept;

}  // namespace neco::gpu

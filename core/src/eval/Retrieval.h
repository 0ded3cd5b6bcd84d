#pragma once
// Dense nearest-neighbour retrieval (the Hummingbird protocol, METHOD.md §4.3), the numeric parts:
// exact k-nearest-neighbour search by inner product over a large memory bank, label transfer by a
// temperature softmax over the neighbours, per-patch soft labels and the bounded-memory sampling rule.
//
// The search is exact (no approximate index): queries against the memory in chunks, each chunk's
// top-k merged into a running top-k, so only a queryChunk x memoryChunk block of similarities exists
// at a time — a 10 M-patch memory never becomes a 10 M x N matrix. Works on CPU or CUDA tensors.

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace neco::eval {

struct Neighbours {
  at::Tensor similarities;  ///< (Q, k) float, descending per row
  at::Tensor indices;       ///< (Q, k) long, rows of the memory
};

/// The k largest inner products of each query (Q, D) with the memory (M, D), exactly (among tied
/// similarities any may be kept). Throws InvalidArgumentError for mismatched dimensions, k < 1, k > M, or chunks < 1.
Neighbours exactTopK(const at::Tensor& queries, const at::Tensor& memory, int k, std::int64_t memoryChunk = 65536,
                     std::int64_t queryChunk = 4096);

/// Hummingbird's label transfer: weights softmax(similarity / temperature) over each query's
/// neighbours, prediction = sum of weight x neighbour soft label -> (Q, C). memoryLabels is (M, C).
at::Tensor transferLabels(const Neighbours& neighbours, const at::Tensor& memoryLabels, double temperature = 0.02);

/// Per-patch soft labels of a label map (H, W) uint8 on a (H / patch) x (W / patch) grid: the class
/// histogram of each patch's pixels divided by patch^2 -> (gh * gw, classes) float. Values >= classes
/// (e.g. 255) count for `remapTo` when it is in range (the protocol maps 255 to 0), else for nothing.
at::Tensor patchSoftLabels(const at::Tensor& labels, int patch, int classes, int remapTo = 0);

/// The bounded-memory rule: of an image's patches (P, C soft labels) keep the `keep` with the smallest
/// score = (sum over the classes present in the patch of the number of the image's patches containing
/// that class) x U(0, 1), empty patches scoring 1e6 — rare classes first. Returns sorted indices.
at::Tensor boundedMemoryPatches(const at::Tensor& softLabels, std::int64_t keep, at::Generator& generator);

}  // namespace neco::eval

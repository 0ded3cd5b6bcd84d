#pragma once
// NeCo's reference queue (METHOD.md §2.5): one FIFO of teacher patch embeddings per global crop index,
// (crops, capacity, dim), zero-initialised, newest rows first.
//
// Faithful by default: the fill counter is shared by the queues and advanced by n for *each* crop's
// push (so by 2n per step with two global crops), as the reference code does; until the queues are
// really full the sampler can therefore return still-zero rows. `exactFill` keeps one counter per
// queue that counts its own rows instead (an option, documented in docs/TRAINING.md).

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

namespace neco::train {

class ReferenceQueue {
 public:
  /// Throws InvalidArgumentError for non-positive sizes.
  /// The rows live on `device`; sampled positions are drawn on the CPU (from the caller's generator).
  ReferenceQueue(int crops, std::int64_t capacity, std::int64_t dim, bool exactFill = false,
                 const at::Device& device = at::kCPU);

  /// Pushes `rows` (n, dim) at the front of queue `crop` (older rows shift back, the oldest fall off;
  /// n > capacity keeps the first capacity rows). Throws InvalidArgumentError on shape mismatch.
  void push(int crop, const at::Tensor& rows);

  /// count references for queue `crop`, as the reference samples them: `count` distinct positions
  /// from a permutation of [0, capacity), each taken modulo the fill count (so they may repeat once
  /// the fill is below capacity). Throws InvalidArgumentError when the queue is empty or count >
  /// capacity. `generator` may be undefined (the default generator).
  at::Tensor sample(int crop, std::int64_t count, const at::Generator& generator = {}) const;
  /// The queue positions sample() reads (count,), long; the same draw from the same generator state.
  at::Tensor samplePositions(int crop, std::int64_t count, const at::Generator& generator = {}) const;

  std::int64_t filled(int crop) const;  ///< the fill count sampling from queue `crop` uses
  std::int64_t capacity() const noexcept { return capacity_; }
  const at::Tensor& storage() const noexcept { return rows_; }  ///< (crops, capacity, dim)

  const std::vector<std::int64_t>& fillCounts() const noexcept { return filled_; }

  /// Checkpoint state: the storage and the fill counters. Throws InvalidArgumentError when the shape
  /// or the number of counters does not match this queue.
  void restore(const at::Tensor& storage, const std::vector<std::int64_t>& fillCounts);

 private:
  void checkCrop(int crop) const;
  at::Tensor rows_;
  std::int64_t capacity_ = 0;
  std::vector<std::int64_t> filled_;  // one per crop; in faithful mode all equal (the shared counter)
  bool exactFill_ = false;
};

}  // namespace neco::train

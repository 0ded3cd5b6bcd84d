#include "train/ReferenceQueue.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <string>

namespace neco::train {

ReferenceQueue::ReferenceQueue(int crops, std::int64_t capacity, std::int64_t dim, bool exactFill,
                               const at::Device& device)
    : capacity_(capacity), exactFill_(exactFill) {
  if (crops < 1 || capacity < 1 || dim < 1) {
    throw InvalidArgumentError("reference queue: crops, capacity and dim must be >= 1");
  }
  rows_ = at::zeros({crops, capacity, dim}, at::TensorOptions().device(device));
  filled_.assign(static_cast<std::size_t>(crops), 0);
}

std::int64_t ReferenceQueue::filled(int crop) const {
  checkCrop(crop);
  return filled_[static_cast<std::size_t>(crop)];
}

void ReferenceQueue::checkCrop(int crop) const {
  if (crop < 0 || crop >= rows_.size(0)) {
    throw InvalidArgumentError("reference queue: crop " + std::to_string(crop) + " outside [0, " +
                               std::to_string(rows_.size(0)) + ")");
  }
}

void ReferenceQueue::push(int crop, const at::Tensor& rows) {
  checkCrop(crop);
  if (rows.dim() != 2 || rows.size(1) != rows_.size(2)) {
    throw InvalidArgumentError("reference queue: rows must be (n, " + std::to_string(rows_.size(2)) + ")");
  }
  const std::int64_t n = std::min(rows.size(0), capacity_);
  if (n == 0) return;
  at::Tensor queue = rows_[crop];
  if (n < capacity_) queue.slice(0, n, capacity_).copy_(queue.slice(0, 0, capacity_ - n).clone());
  queue.slice(0, 0, n).copy_(rows.slice(0, 0, n).detach().to(rows_.scalar_type()));
  // The reference advances one shared counter by n on every crop's push (see the header).
  for (std::size_t i = 0; i < filled_.size(); ++i) {
    if (!exactFill_ || static_cast<int>(i) == crop) filled_[i] = std::min(capacity_, filled_[i] + n);
  }
}

at::Tensor ReferenceQueue::sample(int crop, std::int64_t count, const at::Generator& generator) const {
  return rows_[crop].index_select(0, samplePositions(crop, count, generator).to(rows_.device()));
}

at::Tensor ReferenceQueue::samplePositions(int crop, std::int64_t count, const at::Generator& generator) const {
  checkCrop(crop);
  const std::int64_t fill = filled_[static_cast<std::size_t>(crop)];
  if (fill == 0) throw InvalidArgumentError("reference queue: sampling from an empty queue");
  if (count < 0 || count > capacity_) {
    throw InvalidArgumentError("reference queue: cannot draw " + std::to_string(count) + " distinct positions from " +
                               std::to_string(capacity_));
  }
  return at::randperm(capacity_, generator, at::TensorOptions().dtype(at::kLong)).slice(0, 0, count).remainder(fill);
}

void ReferenceQueue::restore(const at::Tensor& storage, const std::vector<std::int64_t>& fillCounts) {
  if (!storage.sizes().equals(rows_.sizes()) || fillCounts.size() != filled_.size()) {
    throw InvalidArgumentError("reference queue: checkpointed queue has a different shape");
  }
  for (const std::int64_t f : fillCounts) {
    if (f < 0 || f > capacity_) throw InvalidArgumentError("reference queue: fill count out of range");
  }
  rows_.copy_(storage);
  filled_ = fillCounts;
}

}  // namespace neco::train

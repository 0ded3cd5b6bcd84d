#include "train/BatchLoader.h"

#include "neco/core/Error.h"

#include <ATen/ATen.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <chrono>
#include <utility>

namespace neco::train {
namespace {

// The permutation stream of an epoch: an index no sample can have.
constexpr std::uint64_t kOrderStream = ~std::uint64_t{0};

}  // namespace

std::vector<std::int64_t> epochOrder(std::int64_t n, std::uint64_t seed, std::uint64_t epoch) {
  if (n < 0) throw InvalidArgumentError("epoch order: negative dataset size");
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  CropRng rng = CropRng::forSample(seed, epoch, kOrderStream);
  for (std::int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates; the modulo bias of 64-bit draws is < 2^-40 here
    const auto j = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

BatchLoader::BatchLoader(const SampleSource& source, BatchPlan plan, int threads, int prefetch, std::int64_t firstStep)
    : source_(source), plan_(std::move(plan)), prefetch_(std::max(1, prefetch)), firstStep_(firstStep),
      consumerStep_(firstStep) {
  if (plan_.batchSize < 1) throw InvalidArgumentError("batch loader: batch size must be >= 1");
  if (firstStep < 0) throw InvalidArgumentError("batch loader: negative first step");
  perEpoch_ = source_.size() / plan_.batchSize;
  if (perEpoch_ < 1) {
    throw InvalidArgumentError("batch loader: the dataset has " + std::to_string(source_.size()) +
                               " usable images, fewer than one batch of " + std::to_string(plan_.batchSize));
  }
  for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  workCv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::shared_ptr<const std::vector<std::int64_t>> BatchLoader::orderOf(std::int64_t epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = orders_.find(epoch);
  if (it == orders_.end()) {
    it = orders_.emplace(epoch, std::make_shared<const std::vector<std::int64_t>>(
                                    epochOrder(source_.size(), plan_.seed, static_cast<std::uint64_t>(epoch))))
             .first;
    while (orders_.size() > 3) orders_.erase(orders_.begin());  // loaders span at most two epochs at once
  }
  return it->second;
}

BatchLoader::Sample BatchLoader::buildSample(std::int64_t step, int slot) {
  const std::int64_t epoch = step / perEpoch_;
  const auto order = orderOf(epoch);
  const std::int64_t n = source_.size();
  const std::int64_t first = (*order)[static_cast<std::size_t>((step % perEpoch_) * plan_.batchSize + slot)];
  Sample sample;
  for (int attempt = 0; attempt <= plan_.maxSubstitutes; ++attempt) {
    const std::int64_t index = (first + attempt) % n;
    try {
      const at::Tensor image = imageTensor(source_.image(index));
      CropRng rng = CropRng::forSample(plan_.seed, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(index));
      sample.crops = makeSampleCrops(image, plan_.crops, plan_.photometric, rng);
      sample.index = index;
      return sample;
    } catch (const Error& e) {
      sample.skipped.push_back(source_.describe(index) + ": " + e.what());
    }
  }
  throw TrainingError("batch loader: " + std::to_string(plan_.maxSubstitutes + 1) +
                      " images in a row could not be used, starting at " + source_.describe(first) + " (" +
                      sample.skipped.front() + ")");
}

void BatchLoader::store(std::int64_t step, int slot, std::unique_ptr<Sample> sample, std::exception_ptr error) {
  Pending& p = pending_[step];
  if (p.samples.empty()) {
    p.samples.resize(static_cast<std::size_t>(plan_.batchSize));
    p.remaining = plan_.batchSize;
  }
  p.samples[static_cast<std::size_t>(slot)] = std::move(sample);
  if (error && !p.error) p.error = error;
  --p.remaining;
}

void BatchLoader::work() {
#ifdef _OPENMP
  omp_set_num_threads(1);  // the loader's parallelism is its threads; tensor ops inside stay serial
#endif
  at::NoGradGuard noGrad;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    workCv_.wait(lock, [this] { return stop_ || firstStep_ + nextJob_ / plan_.batchSize < consumerStep_ + prefetch_; });
    if (stop_) return;
    const std::int64_t job = nextJob_++;
    const std::int64_t step = firstStep_ + job / plan_.batchSize;
    const int slot = static_cast<int>(job % plan_.batchSize);
    lock.unlock();
    std::unique_ptr<Sample> sample;
    std::exception_ptr error;
    try {
      sample = std::make_unique<Sample>(buildSample(step, slot));
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    store(step, slot, std::move(sample), error);
    doneCv_.notify_all();
  }
}

LoadedBatch BatchLoader::assemble(std::int64_t step, Pending pending) {
  if (pending.error) std::rethrow_exception(pending.error);
  LoadedBatch out;
  out.step = step;
  out.epoch = step / perEpoch_;
  std::vector<SampleCrops> crops;
  crops.reserve(pending.samples.size());
  for (auto& s : pending.samples) {
    out.indices.push_back(s->index);
    out.layouts.push_back(s->crops.layout);
    out.draws.push_back(s->crops.draws);
    out.skipped.insert(out.skipped.end(), s->skipped.begin(), s->skipped.end());
    crops.push_back(std::move(s->crops));
  }
  out.batch = collate(crops);
  return out;
}

LoadedBatch BatchLoader::next() {
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t step = 0;
  Pending pending;
  if (threads_.empty()) {
    step = consumerStep_++;
    for (int slot = 0; slot < plan_.batchSize; ++slot) {
      std::exception_ptr error;
      std::unique_ptr<Sample> sample;
      try {
        sample = std::make_unique<Sample>(buildSample(step, slot));
      } catch (...) {
        error = std::current_exception();
      }
      store(step, slot, std::move(sample), error);
    }
    pending = std::move(pending_[step]);
    pending_.erase(step);
  } else {
    std::unique_lock<std::mutex> lock(mutex_);
    step = consumerStep_;
    doneCv_.wait(lock, [&] {
      const auto it = pending_.find(step);
      return it != pending_.end() && it->second.remaining == 0;
    });
    pending = std::move(pending_[step]);
    pending_.erase(step);
    ++consumerStep_;
    workCv_.notify_all();
  }
  LoadedBatch out = assemble(step, std::move(pending));
  out.waitMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace neco::train

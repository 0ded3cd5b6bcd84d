#include "NecoTest.h"
#include "neco/core/Error.h"
#include "train/ReferenceQueue.h"

#include <ATen/ATen.h>

using neco::train::ReferenceQueue;

namespace {
at::Tensor rowsOf(std::int64_t n, std::int64_t dim, float first) {
  return (at::arange(n, at::kFloat) + first).unsqueeze(1).expand({n, dim}).contiguous();
}
}  // namespace

NECO_TEST(ReferenceQueue, fifoNewestFirstAndTheSharedFillCounter) {
  ReferenceQueue q(2, 8, 3);
  NECO_CHECK_EQ(q.filled(0), 0);
  q.push(0, rowsOf(3, 3, 10));  // rows 10, 11, 12
  // the reference's shared counter: one push advances both queues' fill
  NECO_CHECK_EQ(q.filled(0), 3);
  NECO_CHECK_EQ(q.filled(1), 3);
  q.push(0, rowsOf(2, 3, 20));  // rows 20, 21 go to the front
  const at::Tensor col = q.storage()[0].select(1, 0);
  const float expected[8] = {20, 21, 10, 11, 12, 0, 0, 0};
  for (int i = 0; i < 8; ++i) NECO_CHECK_EQ(col[i].item<float>(), expected[i]);
  NECO_CHECK(q.storage()[1].eq(0).all().item<bool>());  // the other queue is untouched
  q.push(1, rowsOf(6, 3, 30));
  NECO_CHECK_EQ(q.filled(0), 8);  // capped at capacity
  q.push(0, rowsOf(20, 3, 100));   // more than capacity: keeps the first 8
  NECO_CHECK_EQ(q.storage()[0][7][0].item<float>(), 107.f);
}

NECO_TEST(ReferenceQueue, exactFillCountsEachQueueOnItsOwn) {
  ReferenceQueue q(2, 8, 3, /*exactFill=*/true);
  q.push(0, rowsOf(3, 3, 1));
  NECO_CHECK_EQ(q.filled(0), 3);
  NECO_CHECK_EQ(q.filled(1), 0);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, q.sample(1, 2));
}

NECO_TEST(ReferenceQueue, samplingDrawsFilledRowsAndRestoreRoundTrips) {
  ReferenceQueue q(1, 64, 4, true);
  q.push(0, rowsOf(5, 4, 1));  // values 1..5
  const at::Tensor s = q.sample(0, 40, at::make_generator<at::CPUGeneratorImpl>(7));
  NECO_CHECK_EQ(s.size(0), 40);
  NECO_CHECK(s.ge(1).all().item<bool>() && s.le(5).all().item<bool>());  // modulo the fill: never a zero row
  NECO_CHECK_THROWS(neco::InvalidArgumentError, q.sample(0, 65));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, q.push(0, at::zeros({2, 3})));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, q.push(1, rowsOf(1, 4, 0)));
  ReferenceQueue copy(1, 64, 4, true);
  copy.restore(q.storage().clone(), q.fillCounts());
  NECO_CHECK(copy.storage().equal(q.storage()));
  NECO_CHECK_EQ(copy.filled(0), 5);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, copy.restore(at::zeros({1, 32, 4}), {5}));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, copy.restore(q.storage(), {65}));
}

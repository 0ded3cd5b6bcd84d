#include "NecoTest.h"
#include "neco/core/BuildInfo.h"
#include "neco/core/Error.h"

#include <ATen/Parallel.h>

NECO_TEST(BuildInfo, reportsVersionsAndAReasonWhenCudaIsMissing) {
  const neco::BuildInfo info = neco::buildInfo();
  NECO_CHECK(!info.version.empty());
  NECO_CHECK(info.torchVersion.find('.') != std::string::npos);
  NECO_CHECK(info.intraOpThreads >= 1);
  NECO_CHECK(info.cudaAvailable == info.cudaReason.empty());
  if (!info.cudaAvailable) NECO_CHECK(info.cudaReason.size() > 10);
  NECO_CHECK(info.cudaAvailable == (info.cudaDeviceCount > 0 && info.torchHasCuda));
}

NECO_TEST(BuildInfo, setsComputeThreads) {
  neco::setComputeThreads(1);
  NECO_CHECK_EQ(at::get_num_threads(), 1);
  neco::setComputeThreads(0);
  NECO_CHECK(at::get_num_threads() >= 1);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::setComputeThreads(-2));
}

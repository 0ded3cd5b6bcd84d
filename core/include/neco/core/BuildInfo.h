#pragma once
// What this binary was built with and what it finds at run time (`neco info`, the studio's About).

#include <string>

namespace neco {

struct BuildInfo {
  std::string version;          ///< project version
  std::string buildType;        ///< CMake build type
  std::string compiler;         ///< compiler id and version
  std::string torchVersion;     ///< LibTorch version compiled against
  bool torchHasCuda = false;    ///< LibTorch was built with CUDA
  bool cudaKernelsBuilt = false;///< gpu/ kernels were compiled in
  bool imageCodecs = false;     ///< OpenCV + zlib image codecs compiled in
  int intraOpThreads = 0;       ///< LibTorch intra-op threads in use
  int hardwareThreads = 0;      ///< std::thread::hardware_concurrency()
  bool cudaAvailable = false;   ///< a CUDA device is usable by both LibTorch and our kernels
  std::string cudaReason;       ///< why CUDA is not available (empty when it is)
  int cudaDeviceCount = 0;
};

/// Gathers build options and probes CUDA (never throws; a probe failure becomes cudaReason).
BuildInfo buildInfo();

/// Sets LibTorch's intra-op thread count; 0 means "all hardware threads". LibTorch 1.13 reports a
/// single thread on small VMs unless told otherwise. Throws InvalidArgumentError for negative counts.
void setComputeThreads(int threads);

}  // namespace neco

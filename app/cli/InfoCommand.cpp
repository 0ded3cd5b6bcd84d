// `neco info`: version, build options, LibTorch, threads and CUDA availability (with the reason).
#include "CliApp.h"
#include "ExitCodes.h"
#include "neco/core/BuildInfo.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/core/Paths.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace neco::cli {
namespace {

nlohmann::json toJson(const BuildInfo& b) {
  return {{"version", b.version},
          {"build_type", b.buildType},
          {"compiler", b.compiler},
          {"libtorch", b.torchVersion},
          {"libtorch_cuda", b.torchHasCuda},
          {"cuda_kernels", b.cudaKernelsBuilt},
          {"image_codecs", b.imageCodecs},
          {"threads", b.intraOpThreads},
          {"hardware_threads", b.hardwareThreads},
          {"cuda_available", b.cudaAvailable},
          {"cuda_devices", b.cudaDeviceCount},
          {"cuda_reason", b.cudaReason},
          {"log_file", logFilePath().string()},
          {"data_dir", dataDirectory().string()},
          {"cache_dir", cacheDirectory().string()}};
}

void printText(const BuildInfo& b) {
  auto yesNo = [](bool v) { return v ? "yes" : "no"; };
  std::printf("neco %s (%s, %s)\n", b.version.c_str(), b.buildType.c_str(), b.compiler.c_str());
  std::printf("  LibTorch        %s (CUDA: %s)\n", b.torchVersion.c_str(), yesNo(b.torchHasCuda));
  std::printf("  CUDA kernels    %s\n", b.cudaKernelsBuilt ? "built" : "not built");
  std::printf("  image codecs    %s\n", b.imageCodecs ? "OpenCV + zlib" : "none (LibTorch-only build)");
  std::printf("  threads         %d of %d hardware threads\n", b.intraOpThreads, b.hardwareThreads);
  if (b.cudaAvailable) {
    std::printf("  CUDA            available, %d device(s)\n", b.cudaDeviceCount);
  } else {
    std::printf("  CUDA            unavailable: %s\n", b.cudaReason.c_str());
  }
  std::printf("  log file        %s\n", logFilePath().empty() ? "(off)" : logFilePath().c_str());
  std::printf("  data directory  %s\n", dataDirectory().c_str());
}

}  // namespace

void addInfoCommand(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("info", "Version, build options, LibTorch, threads and CUDA availability");
  auto json = std::make_shared<bool>(false);
  auto model = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print machine-readable JSON");
  cmd->add_flag("--model", *model, "Also describe the built-in demo model");
  cmd->callback([&slot, json, model] {
    slot.action = [json, model] {
      const BuildInfo info = buildInfo();
      nlohmann::json j = toJson(info);
      if (*model) {
        const ModelDescription m = FeatureExtractor::createDemo()->describe();
        j["demo_model"] = {{"name", m.name}, {"patch_size", m.patchSize}, {"embed_dim", m.embedDim},
                           {"depth", m.depth}, {"heads", m.numHeads}, {"parameters", m.parameterCount}};
      }
      if (*json) {
        std::printf("%s\n", j.dump(2).c_str());
      } else {
        printText(info);
        if (*model) std::printf("  demo model      %s\n", j["demo_model"].dump().c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace neco::cli

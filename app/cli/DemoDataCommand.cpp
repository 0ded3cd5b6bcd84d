// `neco demo-data --out DIR`: writes the deterministic demo dataset (Pascal VOC layout).
#include "CliApp.h"
#include "ExitCodes.h"
#include "neco/core/DemoDataset.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

namespace neco::cli {

void addDemoDataCommand(CLI::App& app, CommandSlot& slot) {
  struct Args {
    std::string out;
    DemoDatasetOptions options;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("demo-data", "Write the built-in demo dataset (Pascal VOC 2012 layout, no network)");
  cmd->add_option("--out", args->out, "Output folder (created; must be empty or an identical demo dataset)")
      ->required();
  cmd->add_option("--train", args->options.trainCount, "Training images")->check(CLI::Range(1, 100000));
  cmd->add_option("--val", args->options.valCount, "Validation images")->check(CLI::Range(1, 100000));
  cmd->add_option("--seed", args->options.seed, "Generator seed");
  cmd->add_option("--min-side", args->options.minSide, "Smallest image side in pixels")->check(CLI::Range(64, 4096));
  cmd->add_option("--max-side", args->options.maxSide, "Largest image side in pixels")->check(CLI::Range(64, 4096));
  cmd->callback([&slot, args] {
    slot.action = [args] {
      const DemoDatasetSummary summary = writeDemoDataset(args->out, args->options);
      std::printf("demo dataset: %d train + %d val images in %s\n", summary.trainCount, summary.valCount,
                  summary.root.c_str());
      return kExitOk;
    };
  });
}

}  // namespace neco::cli

// `neco eval --protocol overcluster (--demo | --dataset KIND --data-dir D [--split S]) [--checkpoint C]
// [--k K ...] --out R.json`: dense evaluation (issue 6, METHOD.md §4). Writes R.json (config, model,
// checkpoint SHA-256, per-K and per-class numbers, `miou`), R.csv and R.md next to it. The linear
// probe and nearest-neighbour retrieval are part of the command's shape and say plainly that this
// version does not have them yet (exit status 3).
#include "CliApp.h"
#include "ExitCodes.h"
#include "neco/core/Error.h"
#include "neco/core/Evaluation.h"
#include "neco/core/FeatureExtractor.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace neco::cli {
namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::string protocol = "overcluster";
  bool demo = false;
  std::string dataset, dataDir, split = "val";
  std::size_t limit = 0;
  std::string checkpoint;
  CheckpointOptions options;
  bool nonStrict = false;
  std::vector<int> ks;
  int seeds = 5, inputSize = 448, maskSize = 100, pcaDims = 50, iterations = 100, restarts = 5;
  std::string out;
  bool force = false, noProgress = false;
};

void writeText(const fs::path& file, const std::string& text) {
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw IoError(file, "cannot write");
}

int run(EvalArgs& a) {
  if (a.protocol != "overcluster") {
    spdlog::error("neco eval: the {} protocol is not part of this version yet (overcluster is)", a.protocol);
    return kExitUnavailable;
  }
  if (a.demo == !a.dataset.empty()) throw InvalidArgumentError("neco eval: give exactly one of --demo or --dataset KIND --data-dir DIR");
  if (!a.dataset.empty() && a.dataDir.empty()) throw InvalidArgumentError("neco eval: --dataset needs --data-dir DIR");
  const fs::path out(a.out);
  const fs::path csv = fs::path(out).replace_extension(".csv"), md = fs::path(out).replace_extension(".md");
  if (!a.force) {
    for (const fs::path& f : {out, csv, md}) {
      std::error_code ec;
      if (fs::exists(f, ec)) throw InvalidArgumentError("neco eval: " + f.string() + " exists (use --force to replace it)");
    }
  }
  const std::unique_ptr<EvaluationData> data =
      a.demo ? demoEvaluationData() : openEvaluationData(a.dataset, a.dataDir, a.split, a.limit);
  const std::unique_ptr<FeatureExtractor> model = loadExtractor(a.checkpoint, a.options, a.nonStrict);
  OverclusterOptions o;
  o.ks = a.ks;
  o.seeds = a.seeds;
  o.inputSize = a.inputSize;
  o.maskSize = a.maskSize;
  o.pcaDims = a.pcaDims;
  o.iterations = a.iterations;
  o.restarts = a.restarts;
  spdlog::info("overclustering {} on {}", model->describe().name, data->describe());
  const bool bar = !a.noProgress && isatty(STDERR_FILENO);
  std::string lastStage;
  const OverclusterResult r = evaluateOvercluster(*model, *data, o, [&](std::size_t done, std::size_t total, const std::string& stage) {
    if (bar) {
      std::fprintf(stderr, "\r%-28s %zu / %zu   ", stage.c_str(), done, total);
      std::fflush(stderr);
    } else if (stage != lastStage && stage.rfind("features", 0) != 0) {
      spdlog::info("{}", stage);
    }
    lastStage = stage;
  });
  if (bar) std::fprintf(stderr, "\n");
  nlohmann::json j = nlohmann::json::parse(overclusterJson(r));
  j["checkpoint"] = a.checkpoint.empty() ? nlohmann::json("demo model") : nlohmann::json(a.checkpoint);
  if (!a.checkpoint.empty()) j["checkpoint_sha256"] = fileSha256(a.checkpoint);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  writeText(out, j.dump(2) + "\n");
  writeText(csv, overclusterCsv(r));
  writeText(md, overclusterMarkdown(r));
  std::printf("%s", overclusterMarkdown(r).c_str());
  std::printf("\n-> %s, %s, %s\n", out.string().c_str(), csv.string().c_str(), md.string().c_str());
  return kExitOk;
}

}  // namespace

void addEvalCommand(CLI::App& app, CommandSlot& slot) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Dense evaluation of a backbone: overclustering (linear probe and "
                                         "nearest-neighbour retrieval: not in this version yet)");
  cmd->add_option("--protocol", args->protocol, "overcluster, linear or nn-retrieval")
      ->check(CLI::IsMember({"overcluster", "linear", "nn-retrieval"}));
  cmd->add_flag("--demo", args->demo, "Evaluate on the built-in demo scenes (validation split, rendered in memory)");
  cmd->add_option("--dataset", args->dataset, "voc, ade20k, cityscapes or demo (a labelled dataset on disk)")
      ->check(CLI::IsMember({"voc", "ade20k", "cityscapes", "demo"}));
  cmd->add_option("--data-dir", args->dataDir, "The dataset's folder (METHOD.md §6 layouts)");
  cmd->add_option("--split", args->split, "Split to evaluate on (default val)");
  cmd->add_option("--limit", args->limit, "Only the first N images (quick looks; not the protocol)");
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint (default: the built-in demo model)");
  addCheckpointOptions(cmd, args->options, args->nonStrict);
  cmd->add_option("--k", args->ks, "Cluster counts (default: the class count); several allowed")->check(CLI::Range(1, 100000));
  cmd->add_option("--seeds", args->seeds, "k-means seeds 0..N-1, results averaged (default 5)")->check(CLI::Range(1, 100));
  cmd->add_option("--input-size", args->inputSize, "Square input side (default 448)")->check(CLI::Range(14, 2048));
  cmd->add_option("--mask-size", args->maskSize, "Side of the compared label maps (default 100)")->check(CLI::Range(1, 2048));
  cmd->add_option("--pca", args->pcaDims, "PCA dimensions (default 50)")->check(CLI::Range(1, 4096));
  cmd->add_option("--iterations", args->iterations, "k-means iterations (default 100)")->check(CLI::Range(1, 10000));
  cmd->add_option("--restarts", args->restarts, "k-means restarts per seed (default 5)")->check(CLI::Range(1, 100));
  cmd->add_option("--out", args->out, "Result JSON (a .csv and a .md are written next to it)")->required();
  cmd->add_flag("--force", args->force, "Replace existing result files");
  cmd->add_flag("--no-progress", args->noProgress, "No progress line");
  cmd->callback([&slot, args] { slot.action = [args] { return run(*args); }; });
}

}  // namespace neco::cli

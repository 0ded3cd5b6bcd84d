// `neco eval --protocol overcluster|linear|nn-retrieval (--demo | --dataset KIND --data-dir D [--split S])
// [--checkpoint C] ... --out R.json`: dense evaluation (issue 6, METHOD.md §4). Writes R.json (config,
// model, checkpoint SHA-256, per-class numbers, `miou`), R.csv and R.md next to it.
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
  // nn-retrieval
  std::string memorySplit;  // default: train (VOC: trainaug)
  int neighbours = 30, augmentationEpochs = 1;
  double temperature = 0.02, fraction = 1.0;
  std::int64_t memorySize = 0;
  std::vector<std::uint64_t> retrievalSeeds{42};
  int retrievalInput = 0;
  // linear
  std::string trainSplit;  // default: train (VOC: trainaug)
  int epochs = 25, decayEpoch = 20, batchSize = 128, cachedViews = 0, validateEvery = 0;
  double learningRate = 0.01;
  bool noAugment = false;
  std::uint64_t probeSeed = 0;
  std::string out;
  bool force = false, noProgress = false;
};

void writeText(const fs::path& file, const std::string& text) {
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw IoError(file, "cannot write");
}

int run(EvalArgs& a) {
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
  const bool bar = !a.noProgress && isatty(STDERR_FILENO);
  std::string lastStage;
  const auto progress = [&](std::size_t done, std::size_t total, const std::string& stage) {
    if (bar) {
      std::fprintf(stderr, "\r%-28s %zu / %zu   ", stage.c_str(), done, total);
      std::fflush(stderr);
    } else if (stage != lastStage) {
      spdlog::info("{}", stage);
    }
    lastStage = stage;
  };
  const auto finish = [&](nlohmann::json j, const std::string& csvText, const std::string& mdText) {
    if (bar) std::fprintf(stderr, "\n");
    j["checkpoint"] = a.checkpoint.empty() ? nlohmann::json("demo model") : nlohmann::json(a.checkpoint);
    if (!a.checkpoint.empty()) j["checkpoint_sha256"] = fileSha256(a.checkpoint);
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    writeText(out, j.dump(2) + "\n");
    writeText(csv, csvText);
    writeText(md, mdText);
    std::printf("%s", mdText.c_str());
    std::printf("\n-> %s, %s, %s\n", out.string().c_str(), csv.string().c_str(), md.string().c_str());
    return kExitOk;
  };
  if (a.protocol == "nn-retrieval") {
    const std::string memorySplit = !a.memorySplit.empty() ? a.memorySplit : a.dataset == "voc" ? "trainaug" : "train";
    const std::unique_ptr<EvaluationData> memory =
        a.demo ? demoEvaluationData({}, "train") : openEvaluationData(a.dataset, a.dataDir, memorySplit, 0);
    RetrievalOptions ro;
    ro.inputSize = a.retrievalInput;
    ro.k = a.neighbours;
    ro.temperature = a.temperature;
    ro.augmentationEpochs = a.augmentationEpochs;
    ro.memorySize = a.memorySize;
    ro.fraction = a.fraction;
    ro.seeds = a.retrievalSeeds;
    spdlog::info("nearest-neighbour retrieval with {}: memory {}, queries {}", model->describe().name, memory->describe(),
                 data->describe());
    const RetrievalResult r = evaluateRetrieval(*model, *memory, *data, ro, progress);
    return finish(nlohmann::json::parse(retrievalJson(r)), retrievalCsv(r), retrievalMarkdown(r));
  }
  if (a.protocol == "linear") {
    const std::string trainSplit = !a.trainSplit.empty() ? a.trainSplit : a.dataset == "voc" ? "trainaug" : "train";
    const std::unique_ptr<EvaluationData> train =
        a.demo ? demoEvaluationData({}, "train") : openEvaluationData(a.dataset, a.dataDir, trainSplit, 0);
    LinearProbeOptions lo;
    lo.inputSize = a.inputSize;
    lo.maskSize = a.maskSize;
    lo.epochs = a.epochs;
    lo.decayEpoch = a.decayEpoch;
    lo.learningRate = a.learningRate;
    lo.batchSize = a.batchSize;
    lo.augment = !a.noAugment;
    lo.cachedViews = a.cachedViews;
    lo.validateEvery = a.validateEvery;
    lo.seed = a.probeSeed;
    spdlog::info("linear probe of {}: trained on {}, scored on {}", model->describe().name, train->describe(), data->describe());
    const LinearProbeResult r = evaluateLinearProbe(*model, *train, *data, lo, progress);
    return finish(nlohmann::json::parse(linearProbeJson(r)), linearProbeCsv(r), linearProbeMarkdown(r));
  }
  OverclusterOptions o;
  o.ks = a.ks;
  o.seeds = a.seeds;
  o.inputSize = a.inputSize;
  o.maskSize = a.maskSize;
  o.pcaDims = a.pcaDims;
  o.iterations = a.iterations;
  o.restarts = a.restarts;
  spdlog::info("overclustering {} on {}", model->describe().name, data->describe());
  const OverclusterResult r = evaluateOvercluster(*model, *data, o, progress);
  return finish(nlohmann::json::parse(overclusterJson(r)), overclusterCsv(r), overclusterMarkdown(r));
}

}  // namespace

void addEvalCommand(CLI::App& app, CommandSlot& slot) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Dense evaluation of a backbone: overclustering, linear segmentation probe, "
                                         "nearest-neighbour retrieval (METHOD.md §4)");
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
  cmd->add_option("--memory-split", args->memorySplit, "nn-retrieval: split of the memory bank (default train; VOC trainaug)");
  cmd->add_option("--neighbours", args->neighbours, "nn-retrieval: k nearest memory patches (default 30)")->check(CLI::Range(1, 10000));
  cmd->add_option("--temperature", args->temperature, "nn-retrieval: softmax temperature (default 0.02)")->check(CLI::PositiveNumber);
  cmd->add_option("--aug-epochs", args->augmentationEpochs, "nn-retrieval: augmented passes over the memory images (default 1)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--memory-size", args->memorySize, "nn-retrieval: bound the memory to N patches (reference sampling; 0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--fraction", args->fraction, "nn-retrieval: fraction of the memory images (e.g. 0.0078125 = 1/128)")
      ->check(CLI::Range(1e-6, 1.0));
  cmd->add_option("--seed", args->retrievalSeeds, "nn-retrieval: memory seeds (default 42); several are averaged");
  cmd->add_option("--retrieval-input", args->retrievalInput,
                  "nn-retrieval: square input side (default 36 patches: 504 for /14, 512 for /16)")->check(CLI::Range(0, 2048));
  cmd->add_option("--train-split", args->trainSplit, "linear: split the head is trained on (default train; VOC trainaug)");
  cmd->add_option("--epochs", args->epochs, "linear: epochs (default 25)")->check(CLI::Range(1, 10000));
  cmd->add_option("--decay-epoch", args->decayEpoch, "linear: learning rate x0.1 from this epoch (default 20)")->check(CLI::Range(0, 10000));
  cmd->add_option("--lr", args->learningRate, "linear: SGD learning rate (default 0.01)")->check(CLI::PositiveNumber);
  cmd->add_option("--batch", args->batchSize, "linear: batch size (default 128)")->check(CLI::Range(1, 100000));
  cmd->add_flag("--no-augment", args->noAugment, "linear: no crop/flip augmentation (features computed once)");
  cmd->add_option("--cached-views", args->cachedViews,
                  "linear: augmented views per image computed once and cycled (default 0: a fresh view every epoch, as the reference)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--validate-every", args->validateEvery, "linear: validation mIoU every N epochs, recorded as a curve (default 0: at the end)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--probe-seed", args->probeSeed, "linear: seed of the head's initialisation, batch order and augmentation (default 0)");
  cmd->add_option("--out", args->out, "Result JSON (a .csv and a .md are written next to it)")->required();
  cmd->add_flag("--force", args->force, "Replace existing result files");
  cmd->add_flag("--no-progress", args->noProgress, "No progress line");
  cmd->callback([&slot, args] { slot.action = [args] { return run(*args); }; });
}

}  // namespace neco::cli

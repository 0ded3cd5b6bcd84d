#pragma once
// A training run's configuration as YAML, with the reference's keys (vpariza/NeCo
// experiments/configs/*.yml: top level, `data:`, `train:`) plus our own `neco:` section, and its
// resolution into the TrainerConfig the trainer consumes. Torch-free header.
//
//   RunConfig c = loadRunConfig("configs/demo.yml");
//   applyOverride(c, "train.lr_heads=2e-4");
//   for (const auto& w : c.warnings) log(w);          // unknown keys, reference keys missing
//   TrainerConfig t = toTrainerConfig(c);             // validates every value
//
// Missing keys take the reference script's behaviour (train_with_neco.py, METHOD.md §2.1 NOTE):
// is_queue_usable -> False, num_register_tokens -> 0, teacher_steepness -> the student's,
// grad_norm_clipping / trainable_blocks -> null. sim_dist absent or null -> 'cosine' with a warning
// (the script would pass None and fail; every shipped config says 'cosine'). A key the script reads
// unconditionally takes the canonical value (small/neco_dinov2r_xr.yml) with a warning, because the
// reference would stop with a KeyError. Keys of the `neco:` section are ours: absent is silent.
//
// Paths (data_dir, voc_data_path, checkpoint, neco.pretrained_path) are kept as written; relative
// ones are relative to the working directory, as in the reference.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace neco::train {

struct TrainerConfig;

struct RunConfig {
  // ---- top level (reference) ----
  int num_workers = 20;  ///< loader threads (0, PyTorch's "in the main process", means 1)
  int gpus = 1;          ///< 0 or 1; DDP (> 1) is not supported

  struct Data {
    /// One dataset folder; the reference's combined datasets ('coco,imagenet100k') take two. Empty = null.
    std::vector<std::string> data_dir;
    std::string dataset_name = "coco";     ///< coco, imagenet100k, voc; ours: demo, folder, ade20k, cityscapes
    std::vector<int> size_crops{518, 98};  ///< output side of [global, local] crops
    double jitter_strength = 1.0;
    double blur_strength = 1.0;
    std::vector<double> min_scale_crops{0.25, 0.05};
    std::vector<double> max_scale_crops{1.0, 0.25};
    double min_intersection_crops = 0.01;
    std::vector<int> nmb_samples{2, 4};  ///< [global, local] crop counts
    std::string voc_data_path;           ///< the training root when dataset_name is 'voc'
  } data;

  struct Train {
    bool use_teacher = true;
    int roi_align_kernel_size = 7;
    double momentum_teacher = 0.9995;
    double momentum_teacher_end = 1.0;
    bool exclude_norm_bias = true;
    std::string arch = "vit-small";   ///< vit-small, vit-base, vit-large
    std::string arch_version = "v2";  ///< v2 = DINOv2 layout (patch 14), v1 = DINO (patch 16 or 8)
    int patch_size = 14;
    std::optional<std::string> pretrained_weights = "dinov2-reg";  ///< null = random initialisation
    int projection_feat_dim = 256;
    int projection_hidden_dim = 2048;
    int n_layers_projection_head = 3;
    std::int64_t queue_length = 8192;
    std::string loss_mask = "all";  ///< all, fg, bg
    int batch_size = 64;
    int max_epochs = 25;
    std::vector<int> crops_for_assign{0, 1};
    std::string optimizer = "adamw";
    double lr_backbone = 1e-5;
    double lr_heads = 1e-4;
    double final_lr = 0.0;
    double weight_decay = 0.04;
    double weight_decay_end = 0.5;
    std::optional<std::string> checkpoint;  ///< weights to start from (with only_load_weights)
    bool only_load_weights = true;
    double student_steepness = 100;
    std::optional<double> teacher_steepness;   ///< null = the student's
    std::optional<double> grad_norm_clipping;  ///< null = off
    std::string sort_net = "bitonic";          ///< bitonic, odd_even
    /// null = all blocks; n = python's blocks[n:] (negative: the last -n); a list = those blocks.
    std::optional<std::variant<int, std::vector<int>>> trainable_blocks;
    std::string sim_dist = "cosine";  ///< cosine, euclidean
    bool is_queue_usable = false;     ///< absent in a file = False, as the reference script
    int num_register_tokens = 0;
  } train;

  /// Ours, not the reference's.
  struct Neco {
    std::string model;            ///< an architecture name (nn::ViTConfig::named) replacing train.arch*
    std::string pretrained_path;  ///< a weights file; wins over train.pretrained_weights / checkpoint
    std::string dataset_split;    ///< empty = the dataset's training split (voc: trainaug, else train)
    double max_bad_fraction = 0.01;
    bool scan_decode = false;
    int prefetch_batches = 2;
    std::int64_t checkpoint_every = 0;  ///< steps; 0 = once per epoch
    int keep_checkpoints = 3;
    std::int64_t monitor_every = 0;  ///< steps between held-out measurements; 0 = off
    // dense evaluation during training (docs/EVALUATION.md)
    std::int64_t eval_every = 0;            ///< steps between evaluations; 0 = off
    std::string eval_protocol = "overcluster";  ///< overcluster, nn-retrieval
    std::string eval_part = "student";      ///< student, teacher
    std::string eval_dataset;               ///< empty = the training dataset when it is labelled
    std::string eval_data_dir;              ///< empty = the training data's folder
    std::string eval_split = "val";
    std::int64_t eval_limit = 0;            ///< > 0: the first n images
    int eval_input_size = 0;                ///< 0 = the global crop size
    int eval_k = 0;                         ///< overclustering's K; 0 = the class count
    int eval_seeds = 1;                     ///< k-means seeds (overcluster) or memory seeds (nn-retrieval)
    std::int64_t max_steps = 0;  ///< 0 = the whole schedule
    int max_consecutive_non_finite = 10;
    bool exact_queue_fill = false;
    int max_overlap_retries = 1000;
    double log_floor = 1e-12;
    std::string relaxation = "cauchy";
    std::uint64_t seed = 400;  ///< the reference takes it from --seed (default 400)
    std::string device = "auto";  ///< auto (cuda when LibTorch sees a GPU, else cpu), cpu, cuda, cuda:N
    bool mixed_precision = true;  ///< bf16 autocast for the backbones on CUDA; the reference runs fp32
  } neco;

  // ---- diagnostics of the last parse (not part of the configuration) ----
  std::filesystem::path source;       ///< the file it came from; empty when built in code
  std::vector<std::string> warnings;  ///< "unknown key `train.foo` (line 12)", missing reference keys, ...
  std::vector<std::string> ignored;   ///< reference keys accepted but not used: "train.val_iters", ...
};

/// Equal configuration values (source and diagnostics are not compared).
bool operator==(const RunConfig& a, const RunConfig& b);
inline bool operator!=(const RunConfig& a, const RunConfig& b) {
  return !(a == b);
}

/// Parses a config. Unknown keys are warnings, not errors. Throws FormatError naming `source` and the
/// line for malformed YAML or a value of the wrong type.
RunConfig parseRunConfig(std::string_view yamlText, const std::filesystem::path& source);
/// Reads and parses a file. Throws IoError (unreadable) or FormatError.
RunConfig loadRunConfig(const std::filesystem::path& file);

/// Applies `--set key=value`: a dotted key ("train.lr_heads", "num_workers") and a YAML flow value
/// ("2e-4", "[224, 98]", "null"). Throws InvalidArgumentError naming the key and the value for an
/// unknown key, a reference key we do not use, or a value of the wrong type.
void applyOverride(RunConfig& config, std::string_view assignment);

/// Validates every value and resolves the run. Throws InvalidArgumentError naming the key and the
/// value, or UnsupportedError for valid reference settings this trainer cannot run (DDP, combined
/// datasets, a Lightning resume, momentum_teacher_end != 1, exclude_norm_bias False, a head of other
/// than 3 layers). `pretrained` is set only from a file path (neco.pretrained_path, or train.checkpoint
/// with only_load_weights); official weights are named by officialWeightsName.
TrainerConfig toTrainerConfig(const RunConfig& config);

/// The registry name (neco::findOfficialWeights) of train.pretrained_weights for this architecture,
/// e.g. 'dinov2-reg' + vit-small/14 -> "dinov2_vits14_reg"; "" when a file path is configured
/// (neco.pretrained_path or train.checkpoint), when pretrained_weights is null, or when the registry
/// has no such file (leopart, timetuning, custom: the caller reports it). With neco.model set (and
/// pretrained_weights not null): neco.model itself when the registry has it ("dinov2_vits14_reg"),
/// else "" ("tiny"). Never throws.
std::string officialWeightsName(const RunConfig& config);

/// The whole configuration as YAML (reference sections, then `neco:`), every key written:
/// parseRunConfig(toYaml(c)) == c. Never throws.
std::string toYaml(const RunConfig& config);

/// The built-in demo run (`neco train --demo`, the studio's Train button; configs/demo.yml): the tiny
/// ViT from scratch on the embedded demo scenes, a few minutes on a 2-core CPU.
RunConfig demoRunConfig();

}  // namespace neco::train

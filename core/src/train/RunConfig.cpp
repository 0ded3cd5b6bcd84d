// RunConfig <-> YAML: one table of keys (section, name, how the reference treats a missing key, how to
// read and write the value) drives parsing, --set overrides, the missing-key report and toYaml.
#include "train/RunConfig.h"

#include "config/Yaml.h"
#include "neco/core/Error.h"
#include "train/RunConfigKeys.h"

#include <climits>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace neco::train {

namespace {

using config::YamlNode;

// ---- reading and writing one value, by type ----

void read(const YamlNode& n, int& v) {
  v = static_cast<int>(n.asInt(INT_MIN, INT_MAX));
}
void read(const YamlNode& n, std::int64_t& v) {
  v = n.asInt();
}
void read(const YamlNode& n, std::uint64_t& v) {
  v = static_cast<std::uint64_t>(n.asInt(0));
}
void read(const YamlNode& n, double& v) {
  v = n.asDouble();
}
void read(const YamlNode& n, bool& v) {
  v = n.asBool();
}
void read(const YamlNode& n, std::string& v) {
  v = n.isNull() ? std::string() : n.asString();
}

void read(const YamlNode& n, std::variant<int, std::vector<int>>& v);

template <typename T>
void read(const YamlNode& n, std::vector<T>& v) {
  std::vector<T> out;
  for (const YamlNode& item : n.items()) read(item, out.emplace_back());
  v = std::move(out);
}

template <typename T>
void read(const YamlNode& n, std::optional<T>& v) {
  if (n.isNull()) {
    v.reset();
    return;
  }
  T value{};
  read(n, value);
  v = std::move(value);
}

std::string write(int v) {
  return std::to_string(v);
}
std::string write(std::int64_t v) {
  return std::to_string(v);
}
std::string write(std::uint64_t v) {
  return std::to_string(v);
}
std::string write(double v) {
  return config::formatYamlDouble(v);
}
std::string write(bool v) {
  return v ? "True" : "False";
}
std::string write(const std::string& v) {
  return v.empty() ? "null" : config::quoteYamlString(v, true);
}

std::string write(const std::variant<int, std::vector<int>>& v);

template <typename T>
std::string write(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + write(v[i]);
  return s + "]";
}

template <typename T>
std::string write(const std::optional<T>& v) {
  return v ? write(*v) : std::string("null");
}

void read(const YamlNode& n, std::variant<int, std::vector<int>>& v) {
  if (n.isSequence()) {
    std::vector<int> list;
    read(n, list);
    v = std::move(list);
  } else {
    int i = 0;
    read(n, i);
    v = i;
  }
}

std::string write(const std::variant<int, std::vector<int>>& v) {
  return std::holds_alternative<int>(v) ? write(std::get<int>(v)) : write(std::get<std::vector<int>>(v));
}

// ---- the key table ----

/// How the reference script (train_with_neco.py) treats the key when a file lacks it.
enum class Need {
  Required,  ///< read unconditionally (a KeyError): we warn and use the canonical value
  Optional,  ///< read with a default: silent, that default is ours too
  Ours,      ///< the `neco:` section
};

struct KeySpec {
  std::string section;  ///< "", "data", "train", "neco"
  std::string name;
  Need need;
  std::function<void(RunConfig&, const YamlNode&)> read;
  std::function<std::string(const RunConfig&)> write;
  const char* doc = nullptr;  ///< a trailing comment in toYaml
  std::string dotted() const { return section.empty() ? name : section + "." + name; }
};

template <typename T>
KeySpec top(const char* name, Need need, T RunConfig::*member, const char* doc = nullptr) {
  return {"",
          name,
          need,
          [member](RunConfig& c, const YamlNode& n) { read(n, c.*member); },
          [member](const RunConfig& c) { return write(c.*member); },
          doc};
}

template <typename S, typename T>
KeySpec in(const char* section, S RunConfig::*part, const char* name, Need need, T S::*member,
           const char* doc = nullptr) {
  return {section,
          name,
          need,
          [part, member](RunConfig& c, const YamlNode& n) { read(n, (c.*part).*member); },
          [part, member](const RunConfig& c) { return write((c.*part).*member); },
          doc};
}

std::vector<KeySpec> buildKeys() {
  using D = RunConfig::Data;
  using T = RunConfig::Train;
  using N = RunConfig::Neco;
  const Need R = Need::Required, O = Need::Optional;
  const auto d = [](const char* name, Need need, auto member, const char* doc = nullptr) {
    return in("data", &RunConfig::data, name, need, member, doc);
  };
  const auto t = [](const char* name, Need need, auto member, const char* doc = nullptr) {
    return in("train", &RunConfig::train, name, need, member, doc);
  };
  const auto n = [](const char* name, auto member, const char* doc = nullptr) {
    return in("neco", &RunConfig::neco, name, Need::Ours, member, doc);
  };
  std::vector<KeySpec> k = {
      top("num_workers", R, &RunConfig::num_workers, "image loader threads"),
      top("gpus", R, &RunConfig::gpus, "0 or 1 (no multi-GPU)"),
      d("data_dir", R, &D::data_dir),
      d("dataset_name", R, &D::dataset_name, "coco, imagenet100k, voc; demo, folder"),
      d("size_crops", R, &D::size_crops, "[global, local] crop sides in pixels"),
      d("jitter_strength", R, &D::jitter_strength),
      d("blur_strength", R, &D::blur_strength),
      d("min_scale_crops", R, &D::min_scale_crops),
      d("max_scale_crops", R, &D::max_scale_crops),
      d("min_intersection_crops", R, &D::min_intersection_crops),
      d("nmb_samples", R, &D::nmb_samples, "[global, local] crop counts"),
      d("voc_data_path", R, &D::voc_data_path, "the training root when dataset_name is voc"),
      t("use_teacher", R, &T::use_teacher),
      t("roi_align_kernel_size", R, &T::roi_align_kernel_size),
      t("momentum_teacher", R, &T::momentum_teacher),
      t("momentum_teacher_end", R, &T::momentum_teacher_end),
      t("exclude_norm_bias", R, &T::exclude_norm_bias),
      t("arch", R, &T::arch, "vit-small, vit-base, vit-large"),
      t("arch_version", R, &T::arch_version, "v2 (DINOv2, patch 14) or v1 (DINO, patch 16 / 8)"),
      t("patch_size", R, &T::patch_size),
      t("pretrained_weights", R, &T::pretrained_weights, "dinov2-reg, dinov2, dino, ... or null"),
      t("projection_feat_dim", R, &T::projection_feat_dim),
      t("projection_hidden_dim", R, &T::projection_hidden_dim),
      t("n_layers_projection_head", R, &T::n_layers_projection_head),
      t("queue_length", R, &T::queue_length),
      t("loss_mask", R, &T::loss_mask, "all, fg, bg"),
      t("batch_size", R, &T::batch_size),
      t("max_epochs", R, &T::max_epochs),
      t("crops_for_assign", R, &T::crops_for_assign),
      t("optimizer", R, &T::optimizer),
      t("lr_backbone", R, &T::lr_backbone),
      t("lr_heads", R, &T::lr_heads),
      t("final_lr", R, &T::final_lr),
      t("weight_decay", R, &T::weight_decay),
      t("weight_decay_end", R, &T::weight_decay_end),
      t("checkpoint", R, &T::checkpoint, "a weights file to start from (with only_load_weights)"),
      t("only_load_weights", R, &T::only_load_weights),
      t("student_steepness", R, &T::student_steepness),
      t("teacher_steepness", O, &T::teacher_steepness, "null: the student's"),
      t("grad_norm_clipping", O, &T::grad_norm_clipping),
      t("sort_net", R, &T::sort_net, "bitonic, odd_even"),
      t("trainable_blocks", O, &T::trainable_blocks, "null: all; n: blocks[n:]; or a list"),
      t("sim_dist", O, &T::sim_dist, "cosine, euclidean"),
      t("is_queue_usable", O, &T::is_queue_usable),
      t("num_register_tokens", O, &T::num_register_tokens),
      n("model", &N::model, "an architecture name (tiny, dinov2_vits14, ...) replacing train.arch*"),
      n("pretrained_path", &N::pretrained_path, "a weights file; wins over pretrained_weights"),
      n("dataset_split", &N::dataset_split, "null: train (voc: trainaug)"),
      n("max_bad_fraction", &N::max_bad_fraction, "stop when more of the files cannot be read"),
      n("scan_decode", &N::scan_decode, "the pre-scan decodes every image"),
      n("prefetch_batches", &N::prefetch_batches),
      n("checkpoint_every", &N::checkpoint_every, "steps; 0: once per epoch"),
      n("keep_checkpoints", &N::keep_checkpoints),
      n("monitor_every", &N::monitor_every, "steps between held-out loss / agreement; 0: off"),
      n("eval_every", &N::eval_every, "steps between dense evaluations of the live weights; 0: off"),
      n("eval_protocol", &N::eval_protocol, "overcluster, nn-retrieval"),
      n("eval_part", &N::eval_part, "student, teacher"),
      n("eval_dataset", &N::eval_dataset, "null: the training dataset (demo, voc, ade20k, cityscapes)"),
      n("eval_data_dir", &N::eval_data_dir, "null: the training data's folder"),
      n("eval_split", &N::eval_split, "the split evaluated (nn-retrieval's memory: the training split)"),
      n("eval_limit", &N::eval_limit, "0: every image of the split"),
      n("eval_input_size", &N::eval_input_size, "0: the global crop size"),
      n("eval_k", &N::eval_k, "overclustering's K; 0: the class count"),
      n("eval_seeds", &N::eval_seeds),
      n("max_steps", &N::max_steps, "0: the whole schedule"),
      n("max_consecutive_non_finite", &N::max_consecutive_non_finite),
      n("exact_queue_fill", &N::exact_queue_fill),
      n("max_overlap_retries", &N::max_overlap_retries, "per crop; the reference retries forever"),
      n("log_floor", &N::log_floor),
      n("relaxation", &N::relaxation, "cauchy, logistic, logistic_phi, gaussian, reciprocal, optimal"),
      n("seed", &N::seed, "the reference's --seed"),
      n("device", &N::device, "auto, cpu, cuda, cuda:N"),
      n("mixed_precision", &N::mixed_precision, "bf16 backbones on CUDA (the head, loss and sorts stay fp32)"),
  };
  for (KeySpec& s : k) {
    if (s.dotted() == "data.data_dir") {
      // A path, null, or (the reference's combined datasets) a list of paths.
      s.read = [](RunConfig& c, const YamlNode& node) {
        if (node.isSequence()) {
          read(node, c.data.data_dir);
        } else {
          c.data.data_dir = node.isNull() ? std::vector<std::string>() : std::vector<std::string>{node.asString()};
        }
      };
      s.write = [](const RunConfig& c) {
        if (c.data.data_dir.empty()) return std::string("null");
        return c.data.data_dir.size() == 1 ? config::quoteYamlString(c.data.data_dir[0], true) : write(c.data.data_dir);
      };
    }
    if (s.dotted() != "train.sim_dist") continue;
    // sim_dist: null reads as cosine with a warning (the reference would pass None and fail).
    s.read = [](RunConfig& c, const YamlNode& node) {
      if (node.isNull()) {
        c.train.sim_dist = "cosine";
        c.warnings.push_back("`train.sim_dist` is null (line " + std::to_string(node.line()) +
                             "): using 'cosine' (the reference would fail)");
      } else {
        c.train.sim_dist = node.asString();
      }
    };
  }
  return k;
}

const std::vector<KeySpec>& keys() {
  static const std::vector<KeySpec> table = buildKeys();
  return table;
}

const KeySpec* findKey(std::string_view section, std::string_view name) {
  for (const KeySpec& k : keys())
    if (k.section == section && k.name == name) return &k;
  return nullptr;
}

/// Reference keys that only drive Lightning, neptune, the VOC monitor or code paths NeCo does not use.
bool isIgnoredKey(std::string_view section, std::string_view name) {
  static const std::set<std::pair<std::string, std::string>> ignored = {
      {"", "log_status"},
      {"", "tags"},
      {"", "seed"},
      {"data", "size_crops_val"},
      {"data", "num_classes_val"},
      {"train", "val_batch_size"},
      {"train", "fast_dev_run"},
      {"train", "num_clusters_kmeans_miou"},
      {"train", "val_downsample_masks"},
      {"train", "val_iters"},
      {"train", "val_every_n_epochs"},
      {"train", "save_checkpoint_every_n_epochs"},
      {"train", "checkpoint_dir"},
      {"train", "eval_attn_maps"},
      {"train", "nmb_prototypes"},
      {"train", "temperature"},
      {"train", "sinkhorn_iterations"},
      {"train", "epsilon"},
      {"train", "lambda_knn_imp"},
      {"train", "knn_roi_align_kernel_size"},
      {"train", "l2_wu_reg_lambda"},
  };
  return ignored.count({std::string(section), std::string(name)}) > 0;
}

bool isSection(std::string_view key) {
  return key == "data" || key == "train" || key == "neco";
}

void readKey(RunConfig& c, std::set<std::string>& seen, const std::string& section, const std::string& name,
             const YamlNode& value) {
  const std::string dotted = section.empty() ? name : section + "." + name;
  if (const KeySpec* k = findKey(section, name)) {
    k->read(c, value);
    seen.insert(dotted);
  } else if (isIgnoredKey(section, name)) {
    c.ignored.push_back(dotted);
    if (dotted == "seed") {
      c.warnings.push_back("top-level `seed` (line " + std::to_string(value.line()) +
                           ") is not used, as in the reference (its --seed wins): set neco.seed");
    }
  } else {
    c.warnings.push_back("unknown key `" + dotted + "` (line " + std::to_string(value.line()) + ")");
  }
}

void reportMissing(RunConfig& c, const std::set<std::string>& seen) {
  for (const KeySpec& k : keys()) {
    const std::string dotted = k.dotted();
    if (seen.count(dotted)) continue;
    if (k.need == Need::Required) {
      c.warnings.push_back("missing key `" + dotted + "` (the reference requires it): using " + k.write(c));
    } else if (dotted == "train.sim_dist") {
      c.warnings.push_back("missing key `train.sim_dist`: using 'cosine' (the reference would fail)");
    }
  }
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

namespace detail {

std::string runConfigValueText(const RunConfig& config, std::string_view key) {
  const std::size_t dot = key.find('.');
  const std::string_view section = dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
  const std::string_view name = dot == std::string_view::npos ? key : key.substr(dot + 1);
  const KeySpec* k = findKey(section, name);
  return k ? k->write(config) : std::string("?");
}

}  // namespace detail

bool operator==(const RunConfig& a, const RunConfig& b) {
  for (const KeySpec& k : keys())
    if (k.write(a) != k.write(b)) return false;
  return true;
}

RunConfig parseRunConfig(std::string_view yamlText, const std::filesystem::path& source) {
  const YamlNode root = config::parseYaml(yamlText, source);
  if (root.isNull()) throw FormatError(source, "no configuration in the file (expected data:, train: ... keys)");
  if (!root.isMapping()) root.fail("expected a mapping of keys and sections at the top level, got " + root.describe());
  RunConfig c;
  c.source = source;
  std::set<std::string> seen;
  for (const auto& [key, value] : root.entries()) {
    if (!isSection(key)) {
      readKey(c, seen, "", key, value);
      continue;
    }
    if (value.isNull()) continue;  // an empty section
    if (!value.isMapping()) value.fail("expected the section's `key: value` lines, got " + value.describe());
    for (const auto& [name, item] : value.entries()) readKey(c, seen, key, name, item);
  }
  reportMissing(c, seen);
  return c;
}

RunConfig loadRunConfig(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError(file, "cannot open the config file");
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > config::kMaxYamlBytes) {
      throw FormatError(file, "larger than 1 MiB: not a config file");
    }
  }
  if (in.bad()) throw IoError(file, "read failed");
  return parseRunConfig(text, file);
}

void applyOverride(RunConfig& config, std::string_view assignment) {
  const std::size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    throw InvalidArgumentError("--set expects key=value (e.g. train.lr_heads=2e-4), got '" + std::string(assignment) +
                               "'");
  }
  const std::string key = trim(assignment.substr(0, eq));
  const std::size_t dot = key.find('.');
  const std::string section = dot == std::string::npos ? std::string() : key.substr(0, dot);
  const std::string name = dot == std::string::npos ? key : key.substr(dot + 1);
  const KeySpec* spec = findKey(section, name);
  if (!spec) {
    if (isIgnoredKey(section, name)) {
      throw InvalidArgumentError("--set " + key + ": a reference key this trainer accepts in files but does not use");
    }
    std::string known;
    for (const KeySpec& k : keys())
      if (k.section == section) known += (known.empty() ? "" : ", ") + k.name;
    throw InvalidArgumentError(
        "--set " + key + ": unknown key" +
        (known.empty() ? std::string(" (sections: data, train, neco)") : " (known: " + known + ")"));
  }
  const std::string where = "--set " + std::string(assignment);
  try {
    const YamlNode value = config::parseYamlValue(assignment.substr(eq + 1), where, key);
    spec->read(config, value);
  } catch (const FormatError& e) {
    throw InvalidArgumentError(e.what());
  }
}

std::string toYaml(const RunConfig& config) {
  std::ostringstream out;
  out << "# NeCo Studio run configuration. The reference's keys (vpariza/NeCo experiments/configs) first,\n"
         "# ours under `neco:`. Load with `neco train --config <file>`.\n";
  std::string section = "-";
  for (const KeySpec& k : keys()) {
    if (k.section != section) {
      if (!k.section.empty()) out << "\n" << k.section << ":\n";
      section = k.section;
    }
    std::string line = (section.empty() ? "" : "  ") + k.name + ": " + k.write(config);
    if (k.doc) line += std::string(line.size() < 40 ? 40 - line.size() : 1, ' ') + "# " + k.doc;
    out << line << "\n";
  }
  return out.str();
}

RunConfig demoRunConfig() {
  RunConfig c;
  c.num_workers = 2;
  c.data.dataset_name = "demo";
  c.data.size_crops = {112, 56};  // the tiny ViT's patch 14: 8 x 8 and 4 x 4 tokens
  c.data.nmb_samples = {2, 4};
  c.train.pretrained_weights.reset();  // from scratch: no download, no file
  c.train.projection_hidden_dim = 256;
  c.train.projection_feat_dim = 64;
  c.train.lr_backbone = 1e-4;
  c.train.lr_heads = 1e-3;
  c.train.queue_length = 2048;
  c.train.is_queue_usable = true;
  c.train.batch_size = 8;
  c.train.max_epochs = 50;  // 48 demo train images / 8 = 6 steps per epoch: 300 steps, ~0.8 s each on 2 cores
  c.neco.model = "tiny";
  c.neco.checkpoint_every = 50;
  c.neco.monitor_every = 25;
  c.neco.eval_every = 50;  // overclustering of the 16 validation scenes at 112: about a second each
  return c;
}

}  // namespace neco::train

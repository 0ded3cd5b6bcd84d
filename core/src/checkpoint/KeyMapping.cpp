#include "checkpoint/KeyMapping.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <regex>
#include <set>

namespace neco::checkpoint {

using formats::DType;
using formats::NamedTensor;
using formats::RawTensor;
using formats::TensorList;

namespace {

bool startsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const RawTensor* findTensor(const TensorList& list, const std::string& name) {
  for (const auto& t : list) {
    if (t.name == name) return &t.tensor;
  }
  return nullptr;
}

RawTensor ownedTensor(DType dtype, std::vector<std::int64_t> shape, std::vector<std::uint8_t> bytes) {
  auto storage = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
  RawTensor t;
  t.dtype = dtype;
  t.strides = RawTensor::contiguousStrides(shape);
  t.shape = std::move(shape);
  t.storage = formats::viewOf(storage);
  return t;
}

// HF stores q, k and v separately; DINOv2's qkv is their concatenation along the output dimension.
RawTensor concatRows(const std::vector<const RawTensor*>& parts, const std::string& what) {
  std::vector<std::uint8_t> bytes;
  std::vector<std::int64_t> shape = parts.front()->shape;
  shape[0] = 0;
  for (const RawTensor* p : parts) {
    if (p->dtype != parts.front()->dtype || p->shape.size() != shape.size() ||
        !std::equal(p->shape.begin() + 1, p->shape.end(), parts.front()->shape.begin() + 1)) {
      throw InvalidArgumentError(what + ": query/key/value shapes or dtypes differ");
    }
    const auto chunk = p->contiguousBytes();
    bytes.insert(bytes.end(), chunk.begin(), chunk.end());
    shape[0] += p->shape[0];
  }
  return ownedTensor(parts.front()->dtype, shape, std::move(bytes));
}

// timm keeps only the patch positions (1, G*G, D) and folds the CLS position into cls_token; a zero
// CLS row makes it the DINOv2 layout with identical outputs.
RawTensor prependZeroPosition(const RawTensor& pos) {
  const auto body = pos.contiguousBytes();
  const std::size_t rowBytes = static_cast<std::size_t>(pos.shape[2]) * formats::dtypeSize(pos.dtype);
  std::vector<std::uint8_t> bytes(rowBytes, 0);  // +0.0 in every float format
  bytes.insert(bytes.end(), body.begin(), body.end());
  return ownedTensor(pos.dtype, {1, pos.shape[1] + 1, pos.shape[2]}, std::move(bytes));
}

struct Candidate {
  const SourceStateDict* dict;
  std::string prefix;
  std::string role;  // "student", "teacher" or ""
};

std::string roleOf(const std::string& dictPath, const std::string& prefix) {
  const std::string where = dictPath + "/" + prefix;
  if (where.find("teacher") != std::string::npos) return "teacher";
  if (where.find("student") != std::string::npos || startsWith(prefix, "model.")) return "student";
  return "";
}

std::vector<Candidate> findBackbones(const SourceCheckpoint& source) {
  std::vector<Candidate> out;
  for (const auto& sd : source.stateDicts) {
    std::set<std::string> prefixes;
    for (const auto& t : sd.tensors) {
      if (!endsWith(t.name, "cls_token")) continue;
      std::string prefix = t.name.substr(0, t.name.size() - std::strlen("cls_token"));
      if (endsWith(prefix, "embeddings.")) prefix.resize(prefix.size() - std::strlen("embeddings."));  // HF
      if (!prefix.empty() && prefix.back() != '.') continue;  // "my_cls_token" is not ours
      prefixes.insert(prefix);
    }
    for (const auto& p : prefixes) out.push_back({&sd, p, roleOf(sd.path, p)});
  }
  return out;
}

Candidate choose(const std::vector<Candidate>& all, const MappingOptions& options, const SourceCheckpoint& source,
                 std::vector<std::string>& notes) {
  if (all.empty()) {
    std::string dicts;
    for (const auto& sd : source.stateDicts) dicts += (dicts.empty() ? "'" : ", '") + sd.path + "'";
    throw FormatError(source.path, "no ViT backbone found: no key ends in 'cls_token' (state dicts: " + dicts + ")");
  }
  if (options.part != "auto") {
    for (const auto& c : all) {
      if (c.role == options.part) return c;
    }
    if (all.size() == 1 && all.front().role.empty()) {
      throw InvalidArgumentError(source.path.string() + ": --part " + options.part +
                                 " asked for, but the checkpoint holds a single network");
    }
    throw InvalidArgumentError(source.path.string() + ": no " + options.part + " network in this checkpoint");
  }
  const bool hasStudent = std::any_of(all.begin(), all.end(), [](const Candidate& c) { return c.role == "student"; });
  const bool hasTeacher = std::any_of(all.begin(), all.end(), [](const Candidate& c) { return c.role == "teacher"; });
  if (hasStudent && hasTeacher) {
    // NeCo evaluates the student of its Lightning checkpoints ('ours'); DINO and NeCo initialise from
    // the teacher of a DINO v1 training checkpoint.
    const bool lightning = std::any_of(all.begin(), all.end(), [](const Candidate& c) { return startsWith(c.prefix, "model."); });
    const std::string want = lightning ? "student" : "teacher";
    notes.push_back("checkpoint holds a student and a teacher; loaded the " + want + " (choose with --part)");
    for (const auto& c : all) {
      if (c.role == want) return c;
    }
  }
  // Several unrelated candidates (e.g. a root dict and a nested copy): take the largest.
  return *std::max_element(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return a.dict->tensors.size() < b.dict->tensors.size();
  });
}

// Hugging Face Dinov2Model / Dinov2WithRegistersModel names -> DINOv2 names.
TensorList fromHuggingFace(const TensorList& in, std::vector<std::string>& ignored) {
  static const std::map<std::string, std::string> simple = {
      {"embeddings.cls_token", "cls_token"},
      {"embeddings.mask_token", "mask_token"},
      {"embeddings.register_tokens", "register_tokens"},
      {"embeddings.position_embeddings", "pos_embed"},
      {"embeddings.patch_embeddings.projection.weight", "patch_embed.proj.weight"},
      {"embeddings.patch_embeddings.projection.bias", "patch_embed.proj.bias"},
      {"layernorm.weight", "norm.weight"},
      {"layernorm.bias", "norm.bias"}};
  static const std::regex layer(R"(encoder\.layer\.(\d+)\.(.+))");
  static const std::map<std::string, std::string> inLayer = {
      {"norm1.weight", "norm1.weight"}, {"norm1.bias", "norm1.bias"},
      {"norm2.weight", "norm2.weight"}, {"norm2.bias", "norm2.bias"},
      {"attention.output.dense.weight", "attn.proj.weight"}, {"attention.output.dense.bias", "attn.proj.bias"},
      {"layer_scale1.lambda1", "ls1.gamma"}, {"layer_scale2.lambda1", "ls2.gamma"},
      {"mlp.fc1.weight", "mlp.fc1.weight"}, {"mlp.fc1.bias", "mlp.fc1.bias"},
      {"mlp.fc2.weight", "mlp.fc2.weight"}, {"mlp.fc2.bias", "mlp.fc2.bias"},
      {"mlp.weights_in.weight", "mlp.w12.weight"}, {"mlp.weights_in.bias", "mlp.w12.bias"},
      {"mlp.weights_out.weight", "mlp.w3.weight"}, {"mlp.weights_out.bias", "mlp.w3.bias"}};
  TensorList out;
  std::map<std::string, std::map<std::string, const RawTensor*>> qkvParts;  // "blocks.i.attn.qkv.weight" -> q/k/v
  for (const auto& t : in) {
    if (auto it = simple.find(t.name); it != simple.end()) {
      out.push_back({it->second, t.tensor});
      continue;
    }
    std::smatch m;
    if (std::regex_match(t.name, m, layer)) {
      const std::string block = "blocks." + m[1].str() + ".";
      const std::string rest = m[2].str();
      if (auto it = inLayer.find(rest); it != inLayer.end()) {
        out.push_back({block + it->second, t.tensor});
        continue;
      }
      static const std::regex qkv(R"(attention\.attention\.(query|key|value)\.(weight|bias))");
      std::smatch q;
      if (std::regex_match(rest, q, qkv)) {
        qkvParts[block + "attn.qkv." + q[2].str()][q[1].str()] = &t.tensor;
        continue;
      }
    }
    out.push_back(t);  // left as is: reported as unexpected unless it is something we know to drop
  }
  for (const auto& [name, parts] : qkvParts) {
    if (parts.size() != 3) {
      ignored.push_back(name + ": query/key/value incomplete in the Hugging Face checkpoint");
      continue;
    }
    out.push_back({name, concatRows({parts.at("query"), parts.at("key"), parts.at("value")}, name)});
  }
  return out;
}

int inferHeads(int dim, const SourceCheckpoint& source, const MappingOptions& options) {
  if (options.numHeads > 0) return options.numHeads;
  for (const char* key : {"num_heads", "hf.num_attention_heads"}) {
    if (const std::string* v = source.metadataValue(key)) {
      try {
        const int heads = std::stoi(*v);
        if (heads > 0) return heads;
      } catch (const std::exception&) {
      }
    }
  }
  switch (dim) {  // the released widths (head dimension 64) and the tiny demo model
    case 192: return 3;
    case 384: return 6;
    case 768: return 12;
    case 1024: return 16;
    case 1536: return 24;
    default: break;
  }
  if (dim % 64 == 0) return dim / 64;
  throw FormatError(source.path, "cannot infer the number of attention heads for width " + std::to_string(dim) +
                                     " (pass --heads)");
}

}  // namespace

namespace {

nn::ViTConfig detectArchitecture(const TensorList& backbone, const SourceCheckpoint& source,
                                 const MappingOptions& options, const std::string& layout,
                                 std::vector<std::string>& notes) {
  const RawTensor* patch = findTensor(backbone, "patch_embed.proj.weight");
  const RawTensor* pos = findTensor(backbone, "pos_embed");
  if (!patch || patch->shape.size() != 4 || patch->shape[2] != patch->shape[3] || patch->shape[1] != 3) {
    throw FormatError(source.path, "backbone has no usable patch_embed.proj.weight (expected (D, 3, p, p))");
  }
  if (!pos || pos->shape.size() != 3) throw FormatError(source.path, "backbone has no pos_embed of shape (1, N, D)");
  nn::ViTConfig c;
  c.embedDim = static_cast<int>(patch->shape[0]);
  c.patchSize = static_cast<int>(patch->shape[2]);
  const std::int64_t positions = pos->shape[1] - 1;
  const int grid = static_cast<int>(std::llround(std::sqrt(static_cast<double>(positions))));
  if (positions <= 0 || static_cast<std::int64_t>(grid) * grid != positions) {
    throw FormatError(source.path, "pos_embed " + formats::shapeString(pos->shape) + " is not 1 + a square grid");
  }
  c.posEmbedGrid = grid;
  int depth = 0;
  static const std::regex blockKey(R"(blocks\.(\d+)\..+)");
  for (const auto& t : backbone) {
    std::smatch m;
    if (std::regex_match(t.name, m, blockKey)) depth = std::max(depth, std::stoi(m[1].str()) + 1);
  }
  if (depth == 0) throw FormatError(source.path, "backbone has no transformer blocks (blocks.N.*)");
  c.depth = depth;
  const bool swiglu = findTensor(backbone, "blocks.0.mlp.w12.weight") != nullptr;
  const bool layerScale = findTensor(backbone, "blocks.0.ls1.gamma") != nullptr;
  if (!options.architecture.empty()) {
    const nn::ViTConfig want = nn::ViTConfig::named(options.architecture);
    if (want.embedDim != c.embedDim || want.depth != c.depth || want.patchSize != c.patchSize ||
        (want.mlp == nn::MlpKind::SwiGlu) != swiglu || want.layerScale != layerScale) {
      throw FormatError(source.path, "checkpoint has width " + std::to_string(c.embedDim) + ", " +
                                         std::to_string(c.depth) + " blocks, patch " + std::to_string(c.patchSize) +
                                         (swiglu ? ", SwiGLU" : "") + (layerScale ? "" : ", no LayerScale") + "; not " +
                                         options.architecture + " (" + want.summary() + ")");
    }
  }
  c.numHeads = inferHeads(c.embedDim, source, options);
  if (c.embedDim % c.numHeads != 0) {
    throw FormatError(source.path, "width " + std::to_string(c.embedDim) + " is not divisible by " +
                                       std::to_string(c.numHeads) + " heads");
  }
  c.layerScale = findTensor(backbone, "blocks.0.ls1.gamma") != nullptr;
  if (const RawTensor* w12 = findTensor(backbone, "blocks.0.mlp.w12.weight")) {
    c.mlp = nn::MlpKind::SwiGlu;
    (void)w12;  // hidden width follows DINOv2's rule from the ratio 4
  } else if (const RawTensor* fc1 = findTensor(backbone, "blocks.0.mlp.fc1.weight"); fc1 && !fc1->shape.empty()) {
    c.mlpRatio = static_cast<double>(fc1->shape[0]) / c.embedDim;
  }
  const RawTensor* regs = findTensor(backbone, "register_tokens");
  const int fileRegisters = regs && regs->shape.size() == 3 ? static_cast<int>(regs->shape[1]) : 0;
  c.numRegisters = fileRegisters;
  if (options.numRegisters >= 0) {
    c.numRegisters = options.numRegisters;
  } else if (fileRegisters > 0 && source.path.filename().string().find("_xr") != std::string::npos) {
    c.numRegisters = 0;
    notes.push_back("file name says XR: the register tokens in the file are not used (model with 0 registers; "
                    "override with --registers)");
  }
  c.family = (c.layerScale || fileRegisters > 0 || c.patchSize == 14) ? "dinov2" : "dino";
  c.maskToken = c.family == "dinov2";
  if (const std::string* eps = source.metadataValue("hf.layer_norm_eps")) c.layerNormEps = std::stod(*eps);
  // Name it when it is a released architecture.
  c.name = "custom";
  for (const auto& known : nn::ViTConfig::knownNames()) {
    const nn::ViTConfig k = nn::ViTConfig::named(known);
    if (k.embedDim == c.embedDim && k.depth == c.depth && k.patchSize == c.patchSize && k.family == c.family &&
        k.mlp == c.mlp && (k.numRegisters > 0) == (c.numRegisters > 0)) {
      c.name = known;
      break;
    }
  }
  // Interpolation default per family of files (METHOD.md §2.3, §7.4).
  const bool neco = layout.rfind("neco", 0) == 0 ||
                    source.path.filename().string().find("neco") != std::string::npos;
  const std::string* stored = source.metadataValue("interpolation");  // files written by neco convert
  if (options.interpolation) {
    c.interpolation = *options.interpolation;
  } else if (stored && (*stored == "offset" || *stored == "antialias" || *stored == "size")) {
    c.interpolation = nn::parseInterpolation(*stored);
  } else if (neco || c.family == "dino") {
    c.interpolation = nn::PosEmbedInterpolation::OffsetScaleFactor;
  } else if (layout == "huggingface" && fileRegisters == 0) {
    c.interpolation = nn::PosEmbedInterpolation::ExplicitSize;  // HF Dinov2Model: explicit size, no antialias
  } else if (layout == "huggingface" || layout == "timm" || fileRegisters > 0) {
    c.interpolation = nn::PosEmbedInterpolation::ExplicitSizeAntialias;
  } else {
    c.interpolation = nn::PosEmbedInterpolation::OffsetScaleFactor;
  }
  c.validate();
  return c;
}

}  // namespace

MappedCheckpoint mapCheckpoint(const SourceCheckpoint& source, const MappingOptions& options) {
  if (options.part != "auto" && options.part != "student" && options.part != "teacher") {
    throw InvalidArgumentError("part must be auto, student or teacher, not '" + options.part + "'");
  }
  MappedCheckpoint out;
  const Candidate chosen = choose(findBackbones(source), options, source, out.notes);
  out.stateDictPath = chosen.dict->path;
  out.prefix = chosen.prefix;
  out.part = chosen.role;

  TensorList raw;
  for (const auto& t : chosen.dict->tensors) {
    if (!startsWith(t.name, chosen.prefix)) {
      out.ignored.push_back(t.name + ": belongs to another network or prefix");
      continue;
    }
    const std::string name = t.name.substr(chosen.prefix.size());
    if (startsWith(name, "projection_head.")) {
      out.projectionHead.push_back({name, t.tensor});
    } else if (startsWith(name, "head.") || name == "head" || startsWith(name, "heads.") || startsWith(name, "fc_norm.")) {
      out.ignored.push_back(t.name + ": classification / DINO head, not part of the backbone");
    } else {
      raw.push_back({name, t.tensor});
    }
  }

  const bool hf = findTensor(raw, "embeddings.cls_token") != nullptr;
  const bool timm = !hf && findTensor(raw, "reg_token") != nullptr;
  if (hf) {
    out.backbone = fromHuggingFace(raw, out.ignored);
    out.layout = "huggingface";
  } else {
    for (auto& t : raw) {
      if (t.name == "reg_token") {
        out.backbone.push_back({"register_tokens", t.tensor});
      } else {
        out.backbone.push_back(std::move(t));
      }
    }
    out.layout = timm ? "timm" : "official";
  }
  // timm's no_embed_class layout (CLS position folded into cls_token): 1369 instead of 1370 positions.
  for (auto& t : out.backbone) {
    if (t.name != "pos_embed" || t.tensor.shape.size() != 3) continue;
    const auto n = t.tensor.shape[1];
    const auto g = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
    if (g * g == n) {
      t.tensor = prependZeroPosition(t.tensor);
      out.layout = "timm";
      out.notes.push_back("timm layout: the CLS position is folded into cls_token; pos_embed got a zero CLS row");
    }
  }
  // A more specific name for the report.
  if (out.layout == "official") {
    if (chosen.dict->path == "state_dict" && (out.part == "student" || out.part == "teacher")) {
      out.layout = "neco-lightning";
    } else if (chosen.dict->path == "student" || chosen.dict->path == "teacher") {
      out.layout = "dino-v1-training";
    } else if (!out.projectionHead.empty()) {
      out.layout = "neco-released";
    } else if (chosen.prefix == "module.") {
      out.layout = "ddp";
    }
  }
  out.config = detectArchitecture(out.backbone, source, options, out.layout, out.notes);
  if (out.layout == "official" || out.layout == "ddp") {
    out.layout = (out.config.family == "dino" ? "dino-v1-" : "dinov2-") + out.layout;
  }
  if (out.config.numRegisters == 0 && findTensor(out.backbone, "register_tokens")) {
    out.ignored.push_back("register_tokens: the model runs without registers (XR)");
    out.backbone.erase(std::remove_if(out.backbone.begin(), out.backbone.end(),
                                      [](const NamedTensor& t) { return t.name == "register_tokens"; }),
                       out.backbone.end());
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> expectedParameters(const nn::ViTConfig& c) {
  const std::int64_t D = c.embedDim, H = c.mlpHidden(), G = c.posEmbedGrid, P = c.patchSize;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> out = {{"cls_token", {1, 1, D}},
                                                                      {"pos_embed", {1, 1 + G * G, D}}};
  if (c.numRegisters > 0) out.push_back({"register_tokens", {1, c.numRegisters, D}});
  if (c.maskToken) out.push_back({"mask_token", {1, D}});
  out.push_back({"patch_embed.proj.weight", {D, 3, P, P}});
  out.push_back({"patch_embed.proj.bias", {D}});
  for (int i = 0; i < c.depth; ++i) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    out.push_back({b + "norm1.weight", {D}});
    out.push_back({b + "norm1.bias", {D}});
    out.push_back({b + "attn.qkv.weight", {3 * D, D}});
    out.push_back({b + "attn.qkv.bias", {3 * D}});
    out.push_back({b + "attn.proj.weight", {D, D}});
    out.push_back({b + "attn.proj.bias", {D}});
    if (c.layerScale) out.push_back({b + "ls1.gamma", {D}});
    out.push_back({b + "norm2.weight", {D}});
    out.push_back({b + "norm2.bias", {D}});
    if (c.mlp == nn::MlpKind::SwiGlu) {
      out.push_back({b + "mlp.w12.weight", {2 * H, D}});
      out.push_back({b + "mlp.w12.bias", {2 * H}});
      out.push_back({b + "mlp.w3.weight", {D, H}});
      out.push_back({b + "mlp.w3.bias", {D}});
    } else {
      out.push_back({b + "mlp.fc1.weight", {H, D}});
      out.push_back({b + "mlp.fc1.bias", {H}});
      out.push_back({b + "mlp.fc2.weight", {D, H}});
      out.push_back({b + "mlp.fc2.bias", {D}});
    }
    if (c.layerScale) out.push_back({b + "ls2.gamma", {D}});
  }
  out.push_back({"norm.weight", {D}});
  out.push_back({"norm.bias", {D}});
  return out;
}

KeyComparison compareKeys(const TensorList& backbone, const nn::ViTConfig& config) {
  KeyComparison result;
  std::set<std::string> expectedNames;
  for (const auto& [name, shape] : expectedParameters(config)) {
    expectedNames.insert(name);
    const RawTensor* t = findTensor(backbone, name);
    if (!t) {
      if (name == "mask_token") result.filled.push_back(name);  // unused by NeCo; timm drops it
      else result.missing.push_back(name);
      continue;
    }
    const bool floating = t->dtype == DType::F16 || t->dtype == DType::BF16 || t->dtype == DType::F32 ||
                          t->dtype == DType::F64;
    if (t->shape != shape || !floating) {
      result.mismatched.push_back(name + ": checkpoint " + formats::shapeString(t->shape) + " " +
                                  formats::dtypeName(t->dtype) + " vs model " + formats::shapeString(shape) + " float");
    }
  }
  for (const auto& t : backbone) {
    if (!expectedNames.count(t.name)) result.unexpected.push_back(t.name);
  }
  return result;
}

}  // namespace neco::checkpoint

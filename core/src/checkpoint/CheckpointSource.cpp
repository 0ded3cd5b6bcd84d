#include "checkpoint/CheckpointSource.h"

#include "formats/MappedFile.h"
#include "formats/Safetensors.h"
#include "formats/TorchArchive.h"
#include "formats/ZipArchive.h"
#include "neco/core/Error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace neco::checkpoint {

namespace fs = std::filesystem;

const std::string* SourceCheckpoint::metadataValue(const std::string& key) const {
  for (const auto& [k, v] : metadata) {
    if (k == key) return &v;
  }
  return nullptr;
}

namespace {

constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

void addSafetensors(SourceCheckpoint& out, const fs::path& file, const std::string& dictPath) {
  formats::SafetensorsFile st = formats::readSafetensors(file);
  out.fileTensorCount += static_cast<std::int64_t>(st.tensors.size());
  for (auto& kv : st.metadata) out.metadata.push_back(std::move(kv));
  // Shards of one model merge into a single state dict.
  for (auto& sd : out.stateDicts) {
    if (sd.path == dictPath) {
      for (auto& t : st.tensors) sd.tensors.push_back(std::move(t));
      return;
    }
  }
  out.stateDicts.push_back({dictPath, std::move(st.tensors)});
}

void addTorch(SourceCheckpoint& out, const fs::path& file) {
  formats::TorchCheckpoint ckpt = formats::readTorchCheckpoint(file);
  for (auto& sd : formats::findStateDicts(*ckpt.root)) {
    out.fileTensorCount += static_cast<std::int64_t>(sd.tensors.size());
    out.stateDicts.push_back({sd.path, std::move(sd.tensors)});
  }
  out.opaqueObjects = ckpt.report.opaqueTypes;
  out.format = ckpt.format;
}

// HF config.json: every scalar field becomes a metadata string ("num_attention_heads" -> "6").
void addHfConfig(SourceCheckpoint& out, const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) throw IoError(file, "cannot read: " + ec.message());
  if (size > kMaxConfigBytes) throw FormatError(file, "config.json larger than 1 MiB");
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) throw FormatError(file, "not a JSON object");
  for (const auto& [key, value] : json.items()) {
    if (value.is_string()) out.metadata.emplace_back("hf." + key, value.get<std::string>());
    else if (value.is_number_integer()) out.metadata.emplace_back("hf." + key, std::to_string(value.get<long long>()));
    else if (value.is_number_float()) out.metadata.emplace_back("hf." + key, std::to_string(value.get<double>()));
    else if (value.is_boolean()) out.metadata.emplace_back("hf." + key, value.get<bool>() ? "true" : "false");
  }
}

std::vector<fs::path> shardsFromIndex(const fs::path& index) {
  std::ifstream in(index, std::ios::binary);
  if (!in) throw IoError(index, "cannot open");
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (!json.is_object() || !json.contains("weight_map") || !json["weight_map"].is_object()) {
    throw FormatError(index, "no weight_map object");
  }
  std::set<std::string> names;
  for (const auto& [key, value] : json["weight_map"].items()) {
    if (!value.is_string()) throw FormatError(index, "weight_map entry '" + key + "' is not a file name");
    const std::string name = value.get<std::string>();
    if (name.find('/') != std::string::npos || name == ".." || name.empty()) {
      throw FormatError(index, "shard name '" + name + "' must be a plain file name in the same folder");
    }
    names.insert(name);
  }
  std::vector<fs::path> shards;
  for (const auto& n : names) shards.push_back(index.parent_path() / n);
  return shards;
}

void openFolder(SourceCheckpoint& out, const fs::path& dir) {
  if (fs::exists(dir / "config.json")) addHfConfig(out, dir / "config.json");
  if (fs::exists(dir / "model.safetensors")) {
    out.format = "Hugging Face folder (model.safetensors)";
    addSafetensors(out, dir / "model.safetensors", "");
  } else if (fs::exists(dir / "model.safetensors.index.json")) {
    out.format = "Hugging Face folder (sharded safetensors)";
    for (const auto& shard : shardsFromIndex(dir / "model.safetensors.index.json")) addSafetensors(out, shard, "");
  } else if (fs::exists(dir / "pytorch_model.bin")) {
    addTorch(out, dir / "pytorch_model.bin");
    out.format = "Hugging Face folder (pytorch_model.bin, " + out.format + ")";
  } else {
    throw FormatError(dir, "folder has no model.safetensors, model.safetensors.index.json or pytorch_model.bin");
  }
}

}  // namespace

SourceCheckpoint openCheckpoint(const fs::path& path) {
  SourceCheckpoint out;
  out.path = path;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw IoError(path, "no such file or folder");
  if (fs::is_directory(status)) {
    openFolder(out, path);
  } else {
    // Sniff the content, not the extension: users rename files freely.
    const formats::ByteView head = formats::mapFile(path);
    if (head.size == 0) throw FormatError(path, "empty file");
    if (formats::looksLikeZip(head) || formats::looksLikeTorchLegacy(head)) {
      addTorch(out, path);
    } else if (formats::looksLikeSafetensors(head)) {
      out.format = "safetensors";
      addSafetensors(out, path, "");
    } else {
      throw FormatError(path, "not a checkpoint: neither safetensors nor a torch.save file (zip or legacy)");
    }
    const fs::path config = path.parent_path() / "config.json";
    if (path.filename() == "model.safetensors" && fs::exists(config)) addHfConfig(out, config);
  }
  if (out.stateDicts.empty()) throw FormatError(path, "no tensors found (no state dict inside)");
  return out;
}

}  // namespace neco::checkpoint

#include "train/TrainingCheckpoint.h"

#include "checkpoint/BackboneLoader.h"
#include "formats/AtomicFile.h"
#include "formats/Safetensors.h"
#include "formats/Sha256.h"
#include "neco/core/Error.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/optim/adamw.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <type_traits>

namespace neco::train {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "neco-training-checkpoint";
constexpr int kVersion = 1;
constexpr const char* kStateFile = "state.safetensors";
constexpr const char* kManifestFile = "manifest.json";

void fsyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw IoError(path, std::string("cannot open to fsync: ") + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) throw IoError(path, std::string("fsync failed: ") + std::strerror(error));
}

/// AdamW's per-parameter state is keyed by the TensorImpl, as a string in LibTorch 1.x and as the
/// pointer itself in 2.x.
template <typename State>
auto stateKey(const State&, const at::Tensor& p) {
  using Key = typename std::decay_t<State>::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    return c10::guts::to_string(p.unsafeGetTensorImpl());
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

std::string optimizerName(std::size_t group, std::size_t index, const char* field) {
  return "optimizer/" + std::to_string(group) + "/" + std::to_string(index) + "/" + field;
}

at::Tensor generatorState(at::Generator& g) {
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}

void setGeneratorState(at::Generator& g, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state);
}

/// Every tensor of the step's state, by checkpoint name (in a fixed order).
std::vector<std::pair<std::string, at::Tensor>> stateTensors(NecoStep& step) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const char* part : {"student", "teacher"}) {
    NecoNetworkImpl& net = std::strcmp(part, "student") == 0 ? *step.student() : *step.teacher();
    for (const auto& p : net.named_parameters()) out.emplace_back(std::string(part) + "/" + p.key(), p.value());
    for (const auto& b : net.named_buffers()) out.emplace_back(std::string(part) + "/" + b.key(), b.value());
  }
  auto& optimizer = step.optimizer();
  const auto& groups = optimizer.param_groups();
  auto& state = optimizer.state();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t i = 0; i < groups[g].params().size(); ++i) {
      const auto it = state.find(stateKey(state, groups[g].params()[i]));
      if (it == state.end()) continue;  // never stepped yet
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
      out.emplace_back(optimizerName(g, i, "step"), at::full({1}, s.step(), at::kLong));
      out.emplace_back(optimizerName(g, i, "exp_avg"), s.exp_avg());
      out.emplace_back(optimizerName(g, i, "exp_avg_sq"), s.exp_avg_sq());
      if (s.max_exp_avg_sq().defined()) out.emplace_back(optimizerName(g, i, "max_exp_avg_sq"), s.max_exp_avg_sq());
    }
  }
  if (ReferenceQueue* q = step.queue()) {
    out.emplace_back("queue/rows", q->storage());
    out.emplace_back("queue/filled", at::tensor(q->fillCounts(), at::kLong));
  }
  out.emplace_back("rng/step", generatorState(step.generator()));
  out.emplace_back("rng/drop_path", generatorState(step.dropPathGenerator()));
  // NOTE: LibTorch's global generator is deliberately not part of the state: every draw of a step
  // comes from a generator the step owns (these two, and CropRng for the data), so a resume is exact
  // without it (TrainCrash test), and what other code draws from it must not change a checkpoint.
  return out;
}

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::int64_t stepOfName(const std::string& name) {
  if (name.size() != 17 || name.rfind("step-", 0) != 0) return -1;
  std::int64_t v = 0;
  for (std::size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

std::string metaValue(const formats::Metadata& meta, const std::string& key, const fs::path& file) {
  for (const auto& [k, v] : meta) {
    if (k == key) return v;
  }
  throw FormatError(file, "metadata entry `" + key + "` is missing");
}

std::int64_t metaInt(const formats::Metadata& meta, const std::string& key, const fs::path& file) {
  const std::string v = metaValue(meta, key, file);
  try {
    std::size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used == v.size()) return x;
  } catch (const std::exception&) {
  }
  throw FormatError(file, "metadata entry `" + key + "` is not an integer: " + v);
}

}  // namespace

void faultPoint(const char* point) {
  const char* fault = std::getenv("NECO_FAULT");
  if (fault != nullptr && std::strcmp(fault, point) == 0) ::raise(SIGKILL);
}

std::string checkpointName(std::int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%012lld", static_cast<long long>(step));
  return buf;
}

CheckpointStore::CheckpointStore(fs::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw IoError(dir_, "cannot create the checkpoint folder: " + ec.message());
}

fs::path CheckpointStore::save(NecoStep& step, const RunCounters& counters) {
  const fs::path final = dir_ / checkpointName(counters.step);
  if (fs::exists(final / kManifestFile)) {
    verify(final);
    formats::writeFileAtomically(dir_ / "latest", final.filename().c_str(), final.filename().string().size());
    return final;
  }
  const fs::path temp = dir_ / (".tmp-" + checkpointName(counters.step) + "-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(temp, ec);
  fs::create_directory(temp, ec);
  if (ec) throw IoError(temp, "cannot create the temporary checkpoint folder: " + ec.message());
  try {
    formats::TensorList tensors;
    for (auto& [name, tensor] : stateTensors(step)) tensors.push_back({name, checkpoint::fromTensor(tensor)});
    const formats::Metadata meta = {
        {"format", kFormat},
        {"version", std::to_string(kVersion)},
        {"step", std::to_string(counters.step)},
        {"skipped_steps", std::to_string(counters.skippedSteps)},
        {"non_finite_run", std::to_string(counters.nonFiniteRun)},
        {"skipped_samples", std::to_string(counters.skippedSamples)},
        {"config_fingerprint", counters.configFingerprint},
    };
    const fs::path state = temp / kStateFile;
    formats::writeSafetensors(state, tensors, meta);  // fsynced file, fsynced folder
    faultPoint("checkpoint.state");
    nlohmann::json manifest = {{"format", kFormat},
                               {"version", kVersion},
                               {"step", counters.step},
                               {"files", nlohmann::json::array({{{"name", kStateFile},
                                                                 {"bytes", fs::file_size(state)},
                                                                 {"sha256", formats::sha256OfFile(state)}}})}};
    const std::string text = manifest.dump(2) + "\n";
    formats::writeFileAtomically(temp / kManifestFile, text.data(), text.size());
    faultPoint("checkpoint.manifest");
    fs::remove_all(final, ec);  // an uncommitted leftover of this step (no manifest)
    if (::rename(temp.c_str(), final.c_str()) != 0) {
      throw IoError(final, std::string("cannot commit the checkpoint (rename): ") + std::strerror(errno));
    }
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
  fsyncPath(dir_, /*directory=*/true);
  faultPoint("checkpoint.rename");
  const std::string name = final.filename().string();
  formats::writeFileAtomically(dir_ / "latest", name.data(), name.size());
  faultPoint("checkpoint.latest");
  return final;
}

std::vector<fs::path> CheckpointStore::list() const {
  std::vector<std::pair<std::int64_t, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::int64_t s = stepOfName(entry.path().filename().string());
    if (s >= 0 && entry.is_directory()) found.emplace_back(s, entry.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::optional<fs::path> CheckpointStore::latest(std::vector<std::string>* notes) const {
  const auto note = [notes](const std::string& n) {
    if (notes != nullptr) notes->push_back(n);
  };
  const fs::path pointer = dir_ / "latest";
  if (fs::exists(pointer)) {
    try {
      std::string name = readText(pointer);
      while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
      if (stepOfName(name) < 0) throw FormatError(pointer, "does not name a checkpoint: `" + name.substr(0, 40) + "`");
      verify(dir_ / name);
      // A newer committed checkpoint can exist when the crash came between rename and pointer.
      const auto all = list();
      if (!all.empty() && all.back().filename() != name) {
        try {
          verify(all.back());
          return all.back();
        } catch (const Error& e) {
          note(std::string("skipped ") + e.what());
        }
      }
      return dir_ / name;
    } catch (const Error& e) {
      note(std::string("`latest` not used: ") + e.what());
    }
  }
  auto all = list();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      verify(*it);
      return *it;
    } catch (const Error& e) {
      note(std::string("skipped ") + e.what());
    }
  }
  return std::nullopt;
}

void CheckpointStore::removeTemporaries(std::vector<std::string>* notes) const {
  std::error_code ec;
  std::vector<fs::path> temporaries;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().rfind(".tmp-", 0) == 0) temporaries.push_back(entry.path());
  }
  for (const fs::path& t : temporaries) {
    fs::remove_all(t, ec);
    if (notes != nullptr) notes->push_back("removed the unfinished save " + t.filename().string());
  }
}

void CheckpointStore::prune(int keep) const {
  if (keep < 1) return;
  std::string current;
  try {
    current = readText(dir_ / "latest");
  } catch (const Error&) {
  }
  auto all = list();
  const auto excess = static_cast<std::ptrdiff_t>(all.size()) - keep;
  std::error_code ec;
  for (std::ptrdiff_t i = 0; i < excess; ++i) {
    if (all[static_cast<std::size_t>(i)].filename().string() == current) continue;
    // Unlink the manifest first: a crash mid-removal leaves an uncommitted folder, never a broken one.
    fs::remove(all[static_cast<std::size_t>(i)] / kManifestFile, ec);
    fs::remove_all(all[static_cast<std::size_t>(i)], ec);
  }
}

void CheckpointStore::verify(const fs::path& checkpoint) {
  const fs::path manifestPath = checkpoint / kManifestFile;
  if (!fs::exists(manifestPath)) throw FormatError(checkpoint, "not committed (no manifest.json)");
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(readText(manifestPath));
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(manifestPath, std::string("malformed manifest: ") + e.what());
  }
  try {
    if (manifest.at("format").get<std::string>() != kFormat) throw FormatError(manifestPath, "not a NeCo training checkpoint");
    if (manifest.at("version").get<int>() != kVersion) {
      throw FormatError(manifestPath, "checkpoint version " + manifest.at("version").dump() + " is not supported (expected " +
                                          std::to_string(kVersion) + ")");
    }
    for (const auto& f : manifest.at("files")) {
      const std::string name = f.at("name").get<std::string>();
      if (name.find('/') != std::string::npos || name == "..") throw FormatError(manifestPath, "bad file name " + name);
      const fs::path file = checkpoint / name;
      std::error_code ec;
      const auto bytes = fs::file_size(file, ec);
      if (ec) throw FormatError(file, "listed in the manifest but missing");
      if (bytes != f.at("bytes").get<std::uint64_t>()) {
        throw FormatError(file, "size " + std::to_string(bytes) + " differs from the manifest's " + f.at("bytes").dump());
      }
      if (formats::sha256OfFile(file) != f.at("sha256").get<std::string>()) {
        throw FormatError(file, "SHA-256 differs from the manifest (the file is damaged)");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(manifestPath, std::string("malformed manifest: ") + e.what());
  }
}

RunCounters CheckpointStore::load(const fs::path& checkpoint, NecoStep& step, const std::string& expectedFingerprint) {
  verify(checkpoint);
  const fs::path file = checkpoint / kStateFile;
  const formats::SafetensorsFile st = formats::readSafetensors(file);
  std::map<std::string, const formats::RawTensor*> byName;
  for (const auto& t : st.tensors) byName[t.name] = &t.tensor;
  if (metaValue(st.metadata, "format", file) != kFormat) throw FormatError(file, "not a NeCo training state");
  if (metaInt(st.metadata, "step", file) != stepOfName(checkpoint.filename().string())) {
    throw FormatError(file, "holds step " + metaValue(st.metadata, "step", file) + ", not the folder's");
  }
  const std::string saved = metaValue(st.metadata, "config_fingerprint", file);
  if (!expectedFingerprint.empty() && saved != expectedFingerprint) {
    throw InvalidArgumentError(checkpoint.string() + ": saved by a run with different settings (config fingerprint " +
                               saved.substr(0, 12) + ", this run " + expectedFingerprint.substr(0, 12) +
                               "); resume with the run's own config.yml");
  }

  const auto take = [&](const std::string& name) -> at::Tensor {
    const auto it = byName.find(name);
    if (it == byName.end()) throw FormatError(file, "tensor `" + name + "` is missing");
    at::Tensor t = checkpoint::toTensorAsStored(*it->second);
    byName.erase(it);
    return t;
  };
  const auto into = [&](const std::string& name, const at::Tensor& target) {
    const at::Tensor v = take(name);
    if (!v.sizes().equals(target.sizes()) || v.scalar_type() != target.scalar_type()) {
      throw FormatError(file, "tensor `" + name + "` has shape " + c10::str(v.sizes()) + " " +
                                  c10::toString(v.scalar_type()) + ", the run expects " + c10::str(target.sizes()) +
                                  " " + c10::toString(target.scalar_type()));
    }
    at::NoGradGuard noGrad;
    target.copy_(v);
  };

  // Names are checked before anything is modified where cheap; shapes as they are copied.
  for (auto& [name, tensor] : stateTensors(step)) {
    if (name.rfind("optimizer/", 0) == 0 || name.rfind("rng/", 0) == 0 || name == "queue/filled") continue;
    into(name, tensor);
  }
  auto& optimizer = step.optimizer();
  auto& state = optimizer.state();
  const auto& groups = optimizer.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t i = 0; i < groups[g].params().size(); ++i) {
      const at::Tensor& p = groups[g].params()[i];
      const std::string stepName = optimizerName(g, i, "step");
      if (byName.count(stepName) == 0) {
        state.erase(stateKey(state, p));
        continue;
      }
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(take(stepName).item<std::int64_t>());
      s->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
      s->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
      into(optimizerName(g, i, "exp_avg"), s->exp_avg());
      into(optimizerName(g, i, "exp_avg_sq"), s->exp_avg_sq());
      const std::string maxName = optimizerName(g, i, "max_exp_avg_sq");
      if (byName.count(maxName) != 0) {
        s->max_exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
        into(maxName, s->max_exp_avg_sq());
      }
      state[stateKey(state, p)] = std::move(s);
    }
  }
  if (ReferenceQueue* q = step.queue()) {
    const at::Tensor filled = take("queue/filled").to(at::kLong).contiguous();
    std::vector<std::int64_t> counts(filled.data_ptr<std::int64_t>(), filled.data_ptr<std::int64_t>() + filled.numel());
    q->restore(q->storage(), counts);
  }
  setGeneratorState(step.generator(), take("rng/step"));
  setGeneratorState(step.dropPathGenerator(), take("rng/drop_path"));
  if (!byName.empty()) throw FormatError(file, "unexpected tensor `" + byName.begin()->first + "` (another configuration?)");

  RunCounters c;
  c.step = metaInt(st.metadata, "step", file);
  c.skippedSteps = metaInt(st.metadata, "skipped_steps", file);
  c.nonFiniteRun = static_cast<int>(metaInt(st.metadata, "non_finite_run", file));
  c.skippedSamples = metaInt(st.metadata, "skipped_samples", file);
  c.configFingerprint = metaValue(st.metadata, "config_fingerprint", file);
  step.restoreProgress(c.step, c.skippedSteps, c.nonFiniteRun);
  return c;
}

}  // namespace neco::train

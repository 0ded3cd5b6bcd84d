#include "formats/Safetensors.h"
#include "neco/core/Checkpoint.h"
#include "neco/core/Error.h"

#include <cstring>

namespace neco {

namespace {

formats::NamedTensor floatTensor(const std::string& name, const std::vector<float>& values,
                                 std::vector<std::int64_t> shape) {
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(bytes->data(), values.data(), bytes->size());
  formats::RawTensor t;
  t.dtype = formats::DType::F32;
  t.strides = formats::RawTensor::contiguousStrides(shape);
  t.shape = std::move(shape);
  t.storage = formats::viewOf(bytes);
  return {name, t};
}

}  // namespace

void saveFeatures(const std::filesystem::path& out, const PatchFeatures& f,
                  const std::vector<std::pair<std::string, std::string>>& metadata, bool overwrite) {
  if (f.empty()) throw InvalidArgumentError("saveFeatures: no features to save");
  std::error_code ec;
  if (!overwrite && std::filesystem::exists(out, ec)) {
    throw InvalidArgumentError(out.string() + " exists (pass --force to replace it)");
  }
  formats::TensorList tensors;
  tensors.push_back(floatTensor("patch_tokens", f.tokens, {f.gridH, f.gridW, f.dim}));
  if (!f.cls.empty()) tensors.push_back(floatTensor("cls", f.cls, {f.dim}));
  if (!f.registers.empty()) {
    tensors.push_back(floatTensor("registers", f.registers, {static_cast<std::int64_t>(f.registers.size()) / f.dim, f.dim}));
  }
  formats::Metadata meta = {{"grid_h", std::to_string(f.gridH)},
                            {"grid_w", std::to_string(f.gridW)},
                            {"dim", std::to_string(f.dim)},
                            {"patch_size", std::to_string(f.patchSize)},
                            {"input_width", std::to_string(f.inputWidth)},
                            {"input_height", std::to_string(f.inputHeight)},
                            {"l2_normalised", f.normalised ? "1" : "0"}};
  for (const auto& kv : metadata) meta.push_back(kv);
  formats::writeSafetensors(out, tensors, meta);
}

}  // namespace neco

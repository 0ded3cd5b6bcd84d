#include "checkpoint/BackboneLoader.h"

#include "checkpoint/MappingFromOptions.h"
#include "neco/core/Error.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <spdlog/spdlog.h>

namespace neco::checkpoint {

namespace {

at::ScalarType scalarType(formats::DType d) {
  using formats::DType;
  switch (d) {
    case DType::Bool: return at::kBool;
    case DType::U8: return at::kByte;
    case DType::I8: return at::kChar;
    case DType::I16: return at::kShort;
    case DType::I32: return at::kInt;
    case DType::I64: return at::kLong;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::F32: return at::kFloat;
    case DType::F64: return at::kDouble;
  }
  return at::kFloat;
}

}  // namespace

at::Tensor toTensor(const formats::RawTensor& t) {
  const std::string bounds = formats::checkTensorBounds(t);
  if (!bounds.empty()) throw FormatError("", "tensor view: " + bounds);
  // The view reads the mapped bytes in place; .to(kFloat) / clone makes an owned float32 copy.
  const auto elements = static_cast<std::int64_t>(t.storage.size / formats::dtypeSize(t.dtype));
  const at::Tensor view = at::from_blob(const_cast<std::uint8_t*>(t.storage.data), {elements},
                                        at::TensorOptions().dtype(scalarType(t.dtype)))
                              .as_strided(t.shape, t.strides, t.storageOffset);
  return view.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true).contiguous();
}

at::Tensor toTensorAsStored(const formats::RawTensor& t) {
  const std::string bounds = formats::checkTensorBounds(t);
  if (!bounds.empty()) throw FormatError("", "tensor view: " + bounds);
  const auto elements = static_cast<std::int64_t>(t.storage.size / formats::dtypeSize(t.dtype));
  return at::from_blob(const_cast<std::uint8_t*>(t.storage.data), {elements},
                       at::TensorOptions().dtype(scalarType(t.dtype)))
      .as_strided(t.shape, t.strides, t.storageOffset)
      .clone(at::MemoryFormat::Contiguous);
}

formats::RawTensor fromTensor(const at::Tensor& tensor) {
  const at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
  formats::RawTensor raw;
  switch (t.scalar_type()) {
    case at::kFloat: raw.dtype = formats::DType::F32; break;
    case at::kHalf: raw.dtype = formats::DType::F16; break;
    case at::kBFloat16: raw.dtype = formats::DType::BF16; break;
    case at::kDouble: raw.dtype = formats::DType::F64; break;
    case at::kLong: raw.dtype = formats::DType::I64; break;
    case at::kInt: raw.dtype = formats::DType::I32; break;
    case at::kByte: raw.dtype = formats::DType::U8; break;
    case at::kBool: raw.dtype = formats::DType::Bool; break;
    default: throw UnsupportedError(std::string("tensor dtype ") + c10::toString(t.scalar_type()) + " cannot be saved");
  }
  raw.shape = t.sizes().vec();
  raw.strides = formats::RawTensor::contiguousStrides(raw.shape);
  auto holder = std::make_shared<at::Tensor>(t);
  raw.storage.data = static_cast<const std::uint8_t*>(t.data_ptr());
  raw.storage.size = static_cast<std::size_t>(t.numel()) * t.element_size();
  raw.storage.owner = holder;
  return raw;
}

std::vector<std::string> copyIntoModel(nn::VisionTransformer& model, const formats::TensorList& backbone) {
  torch::NoGradGuard noGrad;
  auto params = model->named_parameters(/*recurse=*/true);
  std::vector<std::string> loaded;
  for (const auto& t : backbone) {
    at::Tensor* target = params.find(t.name);
    if (!target) continue;
    const at::Tensor value = toTensor(t.tensor);
    if (value.sizes() != target->sizes()) continue;  // reported by compareKeys
    target->copy_(value);
    loaded.push_back(t.name);
  }
  return loaded;
}

LoadedBackbone loadBackbone(const std::filesystem::path& path, const CheckpointOptions& options) {
  LoadedBackbone out;
  out.source = openCheckpoint(path);
  out.mapped = mapCheckpoint(out.source, mappingFromOptions(options));
  verifyArchitecture(out.mapped, options, path);
  out.keys = compareKeys(out.mapped.backbone, out.mapped.config);
  if (!out.keys.clean()) {
    const std::string problems = describeKeys(out.keys);
    if (options.strict) {
      throw FormatError(path, "checkpoint does not match the detected architecture " + out.mapped.config.summary() +
                                  ": " + problems + " (load anyway with non-strict loading)");
    }
    spdlog::warn("{}: loading non-strictly: {}", path.string(), problems);
  }
  out.model = nn::VisionTransformer(out.mapped.config);
  out.model->initialiseRandom(0);  // whatever the file does not provide is at least deterministic
  {
    torch::NoGradGuard noGrad;
    if (out.model->maskToken.defined()) out.model->maskToken.zero_();
  }
  const auto loaded = copyIntoModel(out.model, out.mapped.backbone);
  out.model->eval();
  spdlog::info("{}: loaded {} tensors into {} ({}, layout {}, {} interpolation)", path.string(), loaded.size(),
               out.mapped.config.name, out.mapped.config.summary(), out.mapped.layout,
               nn::interpolationName(out.mapped.config.interpolation));
  for (const auto& note : out.mapped.notes) spdlog::info("{}: {}", path.string(), note);
  return out;
}

}  // namespace neco::checkpoint

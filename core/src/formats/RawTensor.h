#pragma once
// Torch-free description of a tensor read from a checkpoint file: dtype, shape, strides and a view
// into bytes owned by someone else (usually a read-only file mapping). The format parsers in this
// folder produce these after validating every size and offset; core/src/checkpoint turns them into
// at::Tensor. Nothing here depends on LibTorch, so the parsers build and fuzz without it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neco::formats {

enum class DType : std::uint8_t { Bool, U8, I8, I16, I32, I64, F16, BF16, F32, F64 };

/// Bytes per element.
std::size_t dtypeSize(DType dtype) noexcept;
/// The safetensors spelling: "BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "BF16", "F32", "F64".
const char* dtypeName(DType dtype) noexcept;
std::optional<DType> dtypeFromName(std::string_view safetensorsName) noexcept;

/// A read-only span of bytes kept alive by `owner` (a mapping, a vector, ...).
struct ByteView {
  std::shared_ptr<const void> owner;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  ByteView sub(std::size_t offset, std::size_t length) const;  ///< throws std::out_of_range
  std::string_view chars() const noexcept { return {reinterpret_cast<const char*>(data), size}; }
};

/// Wraps an owned vector (tests, in-memory archives).
ByteView viewOf(std::shared_ptr<const std::vector<std::uint8_t>> bytes);

struct RawTensor {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;  ///< in elements; same length as shape
  std::int64_t storageOffset = 0;     ///< in elements
  ByteView storage;                   ///< the whole storage the view lives in

  std::int64_t numel() const noexcept;
  bool isContiguous() const noexcept;
  /// Row-major strides for `shape`.
  static std::vector<std::int64_t> contiguousStrides(const std::vector<std::int64_t>& shape);
  /// Element `linear` (row-major index over shape) converted to double; for tests and reports.
  double valueAt(std::int64_t linear) const;
  /// The bytes of this view in row-major order (a copy when not contiguous).
  std::vector<std::uint8_t> contiguousBytes() const;
};

/// Checks that every element the view can address lies inside `storage` (non-negative sizes and
/// strides, checked arithmetic). Returns an empty string when valid, else the reason.
std::string checkTensorBounds(const RawTensor& tensor);

struct NamedTensor {
  std::string name;
  RawTensor tensor;
};
using TensorList = std::vector<NamedTensor>;

/// "(1, 1370, 384)"
std::string shapeString(const std::vector<std::int64_t>& shape);

}  // namespace neco::formats

#include "formats/RawTensor.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace neco::formats {

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

bool mulOverflows(std::int64_t a, std::int64_t b, std::int64_t& out) { return __builtin_mul_overflow(a, b, &out); }
bool addOverflows(std::int64_t a, std::int64_t b, std::int64_t& out) { return __builtin_add_overflow(a, b, &out); }

float halfToFloat(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exponent = 127 - 15 + 1;
      while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        --exponent;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

std::size_t dtypeSize(DType dtype) noexcept {
  switch (dtype) {
    case DType::Bool: case DType::U8: case DType::I8: return 1;
    case DType::I16: case DType::F16: case DType::BF16: return 2;
    case DType::I32: case DType::F32: return 4;
    case DType::I64: case DType::F64: return 8;
  }
  return 1;
}

const char* dtypeName(DType dtype) noexcept {
  switch (dtype) {
    case DType::Bool: return "BOOL";
    case DType::U8: return "U8";
    case DType::I8: return "I8";
    case DType::I16: return "I16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F32: return "F32";
    case DType::F64: return "F64";
  }
  return "?";
}

std::optional<DType> dtypeFromName(std::string_view n) noexcept {
  static constexpr DType all[] = {DType::Bool, DType::U8, DType::I8, DType::I16, DType::I32,
                                  DType::I64, DType::F16, DType::BF16, DType::F32, DType::F64};
  for (DType d : all) {
    if (n == dtypeName(d)) return d;
  }
  return std::nullopt;
}

ByteView ByteView::sub(std::size_t offset, std::size_t length) const {
  if (offset > size || length > size - offset) throw std::out_of_range("ByteView::sub out of range");
  return ByteView{owner, data + offset, length};
}

ByteView viewOf(std::shared_ptr<const std::vector<std::uint8_t>> bytes) {
  ByteView v;
  v.data = bytes->data();
  v.size = bytes->size();
  v.owner = std::move(bytes);
  return v;
}

std::int64_t RawTensor::numel() const noexcept {
  // Saturates instead of overflowing: parsers reject such shapes before anyone asks.
  std::int64_t n = 1;
  for (std::int64_t s : shape) {
    if (mulOverflows(n, s, n)) return kMax;
  }
  return n;
}

std::vector<std::int64_t> RawTensor::contiguousStrides(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * std::max<std::int64_t>(shape[i], 1);
  return strides;
}

bool RawTensor::isContiguous() const noexcept {
  std::int64_t expected = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && shape[i] != 0 && strides[i] != expected) return false;
    expected *= std::max<std::int64_t>(shape[i], 1);
  }
  return true;
}

std::string checkTensorBounds(const RawTensor& t) {
  if (t.shape.size() != t.strides.size()) return "shape and stride ranks differ";
  if (t.storageOffset < 0) return "negative storage offset";
  const std::int64_t elementSize = static_cast<std::int64_t>(dtypeSize(t.dtype));
  std::int64_t lastIndex = t.storageOffset;  // highest element index addressed
  bool empty = false;
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    if (t.shape[i] < 0) return "negative dimension " + std::to_string(t.shape[i]);
    if (t.strides[i] < 0) return "negative stride " + std::to_string(t.strides[i]);
    if (t.shape[i] == 0) empty = true;
    std::int64_t span = 0;
    if (t.shape[i] > 0 && (mulOverflows(t.shape[i] - 1, t.strides[i], span) || addOverflows(lastIndex, span, lastIndex))) {
      return "size or stride overflows 64 bits";
    }
  }
  std::int64_t n = 1;
  for (std::int64_t s : t.shape) {
    if (mulOverflows(n, s, n)) return "element count overflows 64 bits";
  }
  std::int64_t endByte = 0;
  if (empty) {
    // An empty view addresses nothing, but its offset must still lie inside the storage.
    if (mulOverflows(t.storageOffset, elementSize, endByte)) return "storage offset overflows 64 bits";
  } else {
    std::int64_t endIndex = 0;
    if (addOverflows(lastIndex, 1, endIndex) || mulOverflows(endIndex, elementSize, endByte)) {
      return "byte extent overflows 64 bits";
    }
  }
  if (endByte > static_cast<std::int64_t>(std::min<std::size_t>(t.storage.size, static_cast<std::size_t>(kMax)))) {
    return "view needs " + std::to_string(endByte) + " bytes but its storage has " + std::to_string(t.storage.size);
  }
  return {};
}

double RawTensor::valueAt(std::int64_t linear) const {
  std::int64_t index = storageOffset;
  for (std::size_t i = shape.size(); i-- > 0;) {
    const std::int64_t extent = shape[i] > 0 ? shape[i] : 1;
    index += (linear % extent) * strides[i];
    linear /= extent;
  }
  const std::uint8_t* p = storage.data + index * static_cast<std::int64_t>(dtypeSize(dtype));
  auto load = [p](auto value) {
    std::memcpy(&value, p, sizeof(value));
    return value;
  };
  switch (dtype) {
    case DType::Bool: return load(std::uint8_t{}) != 0 ? 1.0 : 0.0;
    case DType::U8: return load(std::uint8_t{});
    case DType::I8: return load(std::int8_t{});
    case DType::I16: return load(std::int16_t{});
    case DType::I32: return load(std::int32_t{});
    case DType::I64: return static_cast<double>(load(std::int64_t{}));
    case DType::F16: return halfToFloat(load(std::uint16_t{}));
    case DType::BF16: {
      const std::uint32_t bits = static_cast<std::uint32_t>(load(std::uint16_t{})) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case DType::F32: return load(float{});
    case DType::F64: return load(double{});
  }
  return 0.0;
}

std::vector<std::uint8_t> RawTensor::contiguousBytes() const {
  const std::size_t es = dtypeSize(dtype);
  const std::int64_t n = numel();
  std::vector<std::uint8_t> out(static_cast<std::size_t>(n) * es);
  if (n == 0) return out;
  if (isContiguous()) {
    std::memcpy(out.data(), storage.data + storageOffset * static_cast<std::int64_t>(es), out.size());
    return out;
  }
  std::vector<std::int64_t> counter(shape.size(), 0);
  for (std::int64_t k = 0; k < n; ++k) {
    std::int64_t index = storageOffset;
    for (std::size_t i = 0; i < shape.size(); ++i) index += counter[i] * strides[i];
    std::memcpy(out.data() + static_cast<std::size_t>(k) * es, storage.data + index * static_cast<std::int64_t>(es), es);
    for (std::size_t i = shape.size(); i-- > 0;) {
      if (++counter[i] < shape[i]) break;
      counter[i] = 0;
    }
  }
  return out;
}

std::string shapeString(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace neco::formats

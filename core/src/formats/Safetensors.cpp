#include "formats/Safetensors.h"

#include "formats/AtomicFile.h"
#include "formats/MappedFile.h"
#include "neco/core/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_set>

namespace neco::formats {

namespace {

constexpr std::uint64_t kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

/// A name or token made safe for an error message: control and non-UTF-8-looking bytes escaped,
/// very long names cut (a header may hold a 100 MB key).
std::string printable(std::string_view text, bool escapeNonAscii = false) {
  constexpr std::size_t kMaxShown = 160;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (out.size() >= kMaxShown && (c & 0xC0u) != 0x80u) return out + "...";
    if (c < 0x20 || c == 0x7f || (escapeNonAscii && c >= 0x80)) {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string inQuotes(std::string_view name) {
  return "'" + printable(name) + "'";
}

/// Every dtype the reference knows, with its size in bits; `dtype` is empty for those NeCo cannot
/// turn into a tensor (they are validated like the others, then refused as unsupported).
struct DtypeInfo {
  const char* name = nullptr;
  std::uint64_t bits = 0;
  std::optional<DType> dtype;
};

constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 8, DType::Bool},     {"U8", 8, DType::U8},         {"I8", 8, DType::I8},
    {"I16", 16, DType::I16},      {"I32", 32, DType::I32},      {"I64", 64, DType::I64},
    {"F16", 16, DType::F16},      {"BF16", 16, DType::BF16},    {"F32", 32, DType::F32},
    {"F64", 64, DType::F64},      {"F4", 4, std::nullopt},      {"F6_E2M3", 6, std::nullopt},
    {"F6_E3M2", 6, std::nullopt}, {"F8_E5M2", 8, std::nullopt}, {"F8_E4M3", 8, std::nullopt},
    {"F8_E8M0", 8, std::nullopt}, {"U16", 16, std::nullopt},    {"U32", 32, std::nullopt},
    {"U64", 64, std::nullopt},    {"C64", 64, std::nullopt}};

const DtypeInfo* findDtype(std::string_view name) {
  for (const DtypeInfo& info : kDtypes) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

/// One header entry as written in the file, before validation.
struct Entry {
  std::string name;
  std::string dtypeName;
  std::vector<std::int64_t> shape;
  std::uint64_t offsets[2] = {0, 0};
  std::size_t offsetCount = 0;
  unsigned fieldsSeen = 0;  // bit per field, see kField*
  const DtypeInfo* dtype = nullptr;
};

constexpr unsigned kFieldDtype = 1, kFieldShape = 2, kFieldOffsets = 4;

/// SAX consumer of the JSON header. Builds entries directly (no DOM: nesting deeper than a shape
/// array is refused at once) and sees every key, so duplicates are caught, which nlohmann's DOM
/// would hide by keeping the last one. A handler returning false stops the parse with `error`.
class HeaderSax {
 public:
  std::vector<Entry> entries;
  Metadata metadata;
  std::string error;

  bool null() { return unexpected("null"); }
  bool boolean(bool) { return unexpected("a boolean"); }
  bool number_integer(std::int64_t value) {
    // nlohmann reports only numbers written with '-' here ("-0" included).
    if (value >= 0) return number_unsigned(static_cast<std::uint64_t>(value));
    return unexpected("the negative number " + std::to_string(value));
  }
  bool number_unsigned(std::uint64_t value) {
    if (state_ == State::Shape) {
      if (value > kInt64Max)
        return fail(tensorPrefix() + "dimension " + std::to_string(value) + " does not fit in int64");
      entry_.shape.push_back(static_cast<std::int64_t>(value));
      return true;
    }
    if (state_ == State::Offsets) {
      if (entry_.offsetCount == 2) return fail(tensorPrefix() + "data_offsets holds more than 2 numbers");
      entry_.offsets[entry_.offsetCount++] = value;
      return true;
    }
    return unexpected("a number");
  }
  bool number_float(double, const std::string& text) { return unexpected("the non-integer number " + printable(text)); }
  bool string(std::string& value) {
    if (state_ == State::MetadataValue) {
      metadata.emplace_back(std::move(key_), std::move(value));
      state_ = State::Metadata;
      return true;
    }
    if (state_ == State::TensorField && field_ == kFieldDtype) {
      entry_.dtypeName = std::move(value);
      state_ = State::Tensor;
      return true;
    }
    return unexpected("a string");
  }
  template <class Binary>
  bool binary(Binary&) {
    return unexpected("binary data");
  }
  bool start_object(std::size_t) {
    if (state_ == State::Start) {
      state_ = State::Header;
      return true;
    }
    if (state_ != State::HeaderValue) return unexpected("an object");
    if (key_ == "__metadata__") {
      state_ = State::Metadata;
      return true;
    }
    if (key_.empty()) return fail("a tensor has an empty name");
    entry_ = Entry{};
    entry_.name = std::move(key_);
    state_ = State::Tensor;
    return true;
  }
  bool key(std::string& name) {
    if (state_ == State::Header) {
      if (!headerKeys_.insert(name).second) return fail("key " + inQuotes(name) + " appears twice in the header");
      key_ = std::move(name);
      state_ = State::HeaderValue;
      return true;
    }
    if (state_ == State::Metadata) {
      if (!metadataKeys_.insert(name).second) return fail("__metadata__ key " + inQuotes(name) + " appears twice");
      key_ = std::move(name);
      state_ = State::MetadataValue;
      return true;
    }
    // State::Tensor: the only other state in which the JSON grammar allows a key.
    field_ = name == "dtype" ? kFieldDtype : name == "shape" ? kFieldShape : name == "data_offsets" ? kFieldOffsets : 0;
    if (field_ == 0)
      return fail(tensorPrefix() + "unexpected field " + inQuotes(name) + " (allowed: dtype, shape, data_offsets)");
    if ((entry_.fieldsSeen & field_) != 0) return fail(tensorPrefix() + "field " + inQuotes(name) + " appears twice");
    entry_.fieldsSeen |= field_;
    state_ = State::TensorField;
    return true;
  }
  bool end_object() {
    if (state_ == State::Metadata) {
      state_ = State::Header;
      return true;
    }
    if (state_ == State::Tensor) return finishEntry();
    state_ = State::Done;  // State::Header: the top-level object closed
    return true;
  }
  bool start_array(std::size_t) {
    if (state_ == State::TensorField && field_ == kFieldShape) {
      state_ = State::Shape;
      return true;
    }
    if (state_ == State::TensorField && field_ == kFieldOffsets) {
      state_ = State::Offsets;
      return true;
    }
    return unexpected("an array");
  }
  bool end_array() {
    if (state_ == State::Offsets && entry_.offsetCount != 2) {
      return fail(tensorPrefix() + "data_offsets holds " + std::to_string(entry_.offsetCount) + " numbers, not 2");
    }
    state_ = State::Tensor;  // Shape or Offsets: nothing else can hold an array
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& ex) {
    std::string what = ex.what();
    const std::size_t bracket = what.find("] ");
    if (what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) what.erase(0, bracket + 2);
    return fail("header is not valid JSON: " + printable(what, true));
  }

 private:
  enum class State { Start, Header, HeaderValue, Metadata, MetadataValue, Tensor, TensorField, Shape, Offsets, Done };

  bool fail(std::string reason) {
    if (error.empty()) error = std::move(reason);
    return false;
  }
  std::string tensorPrefix() const { return "tensor " + inQuotes(entry_.name) + ": "; }

  /// A value of the wrong JSON type, described in the words of the place where it appeared.
  bool unexpected(const std::string& what) {
    switch (state_) {
      case State::HeaderValue:
        if (key_ == "__metadata__") return fail("__metadata__ is " + what + ", not an object of strings");
        return fail("tensor " + inQuotes(key_) + ": entry is " + what + ", not an object");
      case State::MetadataValue:
        return fail("__metadata__ value of " + inQuotes(key_) + " is " + what + ", not a string");
      case State::TensorField:
        return fail(tensorPrefix() + (field_ == kFieldDtype   ? "dtype is " + what + ", not a string"
                                      : field_ == kFieldShape ? "shape is " + what + ", not an array"
                                                              : "data_offsets is " + what + ", not an array"));
      case State::Shape:
        return fail(tensorPrefix() + "shape holds " + what + ", not a non-negative integer");
      case State::Offsets:
        return fail(tensorPrefix() + "data_offsets holds " + what + ", not an unsigned integer");
      default:
        return fail("header is " + what + ", not a JSON object");
    }
  }

  bool finishEntry() {
    if (entry_.fieldsSeen != (kFieldDtype | kFieldShape | kFieldOffsets)) {
      const char* missing = (entry_.fieldsSeen & kFieldDtype) == 0   ? "dtype"
                            : (entry_.fieldsSeen & kFieldShape) == 0 ? "shape"
                                                                     : "data_offsets";
      return fail(tensorPrefix() + "missing field '" + missing + "'");
    }
    entry_.dtype = findDtype(entry_.dtypeName);
    if (entry_.dtype == nullptr) return fail(tensorPrefix() + "unknown dtype " + inQuotes(entry_.dtypeName));
    entries.push_back(std::move(entry_));
    state_ = State::Header;
    return true;
  }

  State state_ = State::Start;
  unsigned field_ = 0;
  std::string key_;
  Entry entry_;
  std::unordered_set<std::string> headerKeys_;
  std::unordered_set<std::string> metadataKeys_;
};

std::string offsetsText(const Entry& e) {
  return "data_offsets [" + std::to_string(e.offsets[0]) + ", " + std::to_string(e.offsets[1]) + "]";
}

/// Byte size of an entry from dtype and shape with checked arithmetic; empty optional + reason.
std::optional<std::uint64_t> entryBytes(const Entry& e, std::string& reason) {
  std::uint64_t count = 1, strideSpan = 1;
  for (std::int64_t d : e.shape) {
    const auto dim = static_cast<std::uint64_t>(d);
    // NOTE: both products are checked on every dimension; a zero never ends the check early.
    if (__builtin_mul_overflow(count, dim, &count) || count > kInt64Max ||
        __builtin_mul_overflow(strideSpan, std::max<std::uint64_t>(dim, 1), &strideSpan) || strideSpan > kInt64Max) {
      reason = "shape " + shapeString(e.shape) + " overflows 64-bit element counts";
      return std::nullopt;
    }
  }
  std::uint64_t bits = 0;
  if (__builtin_mul_overflow(count, e.dtype->bits, &bits)) {
    reason = "shape " + shapeString(e.shape) + " of " + e.dtype->name + " overflows 64-bit byte sizes";
    return std::nullopt;
  }
  if (bits % 8 != 0) {
    reason = std::string(e.dtype->name) + " " + shapeString(e.shape) + " does not fill whole bytes";
    return std::nullopt;
  }
  return bits / 8;
}

/// The reference's Metadata::validate plus the end-of-file rule of read_metadata.
void validateLayout(std::vector<Entry>& entries, std::uint64_t dataSize, const std::filesystem::path& source) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.offsets[0] != b.offsets[0] ? a.offsets[0] < b.offsets[0] : a.offsets[1] < b.offsets[1];
  });
  std::uint64_t expectedBegin = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    // Messages are built only on failure: a checkpoint may hold thousands of tensors.
    auto fail = [&](const std::string& reason) {
      throw FormatError(source, "tensor " + inQuotes(e.name) + ": " + offsetsText(e) + " " + reason);
    };
    auto previousEnd = [&] {
      return previous
                 ? "the previous tensor " + inQuotes(previous->name) + " ends at byte " + std::to_string(expectedBegin)
                 : std::string("the data section starts at byte 0");
    };
    if (e.offsets[0] < expectedBegin) fail("overlap another tensor: " + previousEnd());
    if (e.offsets[0] > expectedBegin) fail("leave a hole: " + previousEnd());
    if (e.offsets[1] < e.offsets[0]) fail("end before they begin");
    if (e.offsets[1] > dataSize) {
      fail("run past the end of the file: the data section holds " + std::to_string(dataSize) + " bytes");
    }
    std::string reason;
    const std::optional<std::uint64_t> bytes = entryBytes(e, reason);
    if (!bytes) throw FormatError(source, "tensor " + inQuotes(e.name) + ": " + reason);
    const std::uint64_t span = e.offsets[1] - e.offsets[0];
    if (*bytes != span) {
      fail("hold " + std::to_string(span) + " bytes but " + e.dtype->name + " " + shapeString(e.shape) + " needs " +
           std::to_string(*bytes));
    }
    expectedBegin = e.offsets[1];
    previous = &e;
  }
  if (expectedBegin != dataSize) {
    throw FormatError(source, "the tensors end at byte " + std::to_string(expectedBegin) +
                                  " of the data section but it holds " + std::to_string(dataSize) + " bytes (" +
                                  std::to_string(dataSize - expectedBegin) + " trailing bytes)");
  }
}

std::uint64_t readHeaderLength(const ByteView& file) noexcept {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file.data[i];
  return n;
}

/// A tensor validated for writing with its byte size.
struct PlannedTensor {
  const NamedTensor* named;
  std::uint64_t bytes;
};

/// Validates the writer's input and renders the padded header. Throws InvalidArgumentError.
std::string planHeader(const TensorList& tensors, const Metadata& metadata, std::vector<PlannedTensor>& plan) {
  auto jsonString = [](const std::string& text, const std::string& what) {
    try {
      return nlohmann::json(text).dump();  // escapes, and throws type_error 316 for invalid UTF-8
    } catch (const nlohmann::json::exception&) {
      throw InvalidArgumentError("safetensors writer: " + what + " '" + printable(text, true) + "' is not valid UTF-8");
    }
  };
  std::string header = "{";
  if (!metadata.empty()) {
    std::unordered_set<std::string> keys;
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      if (!keys.insert(key).second)
        throw InvalidArgumentError("safetensors writer: metadata key " + inQuotes(key) + " appears twice");
      if (keys.size() > 1) header += ",";
      header += jsonString(key, "metadata key") + ":" + jsonString(value, "metadata value of " + inQuotes(key));
    }
    header += "}";
  }
  std::unordered_set<std::string> names;
  std::uint64_t offset = 0;
  for (const NamedTensor& t : tensors) {
    auto fail = [&t](const std::string& reason) {
      throw InvalidArgumentError("safetensors writer: tensor " + inQuotes(t.name) + ": " + reason);
    };
    if (t.name.empty()) fail("the name is empty");
    if (t.name == "__metadata__") fail("the name is reserved for metadata");
    if (!names.insert(t.name).second) fail("the name appears twice");
    if (const std::string bad = checkTensorBounds(t.tensor); !bad.empty()) fail(bad);
    Entry e;  // reuse the reader's size rule so that everything written can be read back
    e.shape = t.tensor.shape;
    e.dtype = findDtype(dtypeName(t.tensor.dtype));
    if (e.dtype == nullptr) fail("invalid dtype value");
    std::string reason;
    const std::optional<std::uint64_t> bytes = entryBytes(e, reason);
    if (!bytes) fail(reason);
    std::uint64_t end = 0;
    if (__builtin_add_overflow(offset, *bytes, &end)) fail("the data section would exceed 2^64 bytes");
    if (header.size() > 1) header += ',';
    header += jsonString(t.name, "tensor name");
    header += ":{\"dtype\":\"";
    header += dtypeName(t.tensor.dtype);
    header += "\",\"shape\":[";
    for (std::size_t i = 0; i < e.shape.size(); ++i) {
      if (i > 0) header += ',';
      header += std::to_string(e.shape[i]);
    }
    header += "],\"data_offsets\":[";
    header += std::to_string(offset);
    header += ',';
    header += std::to_string(end);
    header += "]}";
    plan.push_back({&t, *bytes});
    offset = end;
  }
  header += "}";
  // The reference writer pads with spaces so that the data section starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
}

/// Emits the whole file to `sink(const void*, size_t)`: length, header, then each tensor's bytes.
template <class Sink>
void emitFile(const std::string& header, const std::vector<PlannedTensor>& plan, Sink&& sink) {
  std::uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
  sink(length, sizeof length);
  sink(header.data(), header.size());
  for (const PlannedTensor& p : plan) {
    if (p.bytes == 0) continue;
    const RawTensor& t = p.named->tensor;
    if (t.isContiguous()) {
      sink(t.storage.data + static_cast<std::size_t>(t.storageOffset) * dtypeSize(t.dtype),
           static_cast<std::size_t>(p.bytes));
    } else {
      const std::vector<std::uint8_t> copy = t.contiguousBytes();
      sink(copy.data(), copy.size());
    }
  }
}

}  // namespace

bool looksLikeSafetensors(const ByteView& file) noexcept {
  if (file.data == nullptr || file.size < 10) return false;
  const std::uint64_t n = readHeaderLength(file);
  return n >= 2 && n <= kSafetensorsMaxHeaderBytes && n <= file.size - 8 && file.data[8] == '{';
}

SafetensorsFile parseSafetensors(const ByteView& file, const std::filesystem::path& source) {
  if (file.size < 8) {
    throw FormatError(
        source, "file is " + std::to_string(file.size) + " bytes, too short for the 8-byte safetensors header length");
  }
  const std::uint64_t n = readHeaderLength(file);
  if (n > kSafetensorsMaxHeaderBytes) {
    throw FormatError(source, "header length " + std::to_string(n) + " exceeds the limit of " +
                                  std::to_string(kSafetensorsMaxHeaderBytes) + " bytes");
  }
  if (n > file.size - 8) {  // written so that 8 + n cannot overflow
    throw FormatError(source, "header length " + std::to_string(n) + " runs past the end of the " +
                                  std::to_string(file.size) + "-byte file");
  }
  const char* header = reinterpret_cast<const char*>(file.data) + 8;
  if (n == 0 || header[0] != '{') throw FormatError(source, "header does not start with '{' (not a safetensors file?)");
  // nlohmann treats a NUL byte as the end of input; JSON has no raw NUL anywhere, so refuse it here.
  if (std::memchr(header, 0, n) != nullptr)
    throw FormatError(source, "header contains a NUL byte, which is not valid JSON");

  HeaderSax sax;
  bool parsed = false;
  try {
    parsed = nlohmann::json::sax_parse(header, header + n, &sax, nlohmann::json::input_format_t::json, true);
  } catch (const nlohmann::json::exception& ex) {
    throw FormatError(source, std::string("header is not valid JSON: ") + printable(ex.what(), true));
  }
  if (!parsed) throw FormatError(source, sax.error.empty() ? std::string("header is not valid JSON") : sax.error);

  const std::uint64_t dataSize = file.size - 8 - n;
  validateLayout(sax.entries, dataSize, source);
  for (const Entry& e : sax.entries) {
    if (!e.dtype->dtype) {
      throw UnsupportedError(source.string() + ": tensor " + inQuotes(e.name) + ": dtype " + e.dtype->name +
                             " is not supported (NeCo reads BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64)");
    }
  }

  SafetensorsFile result;
  result.metadata = std::move(sax.metadata);
  result.tensors.reserve(sax.entries.size());
  const std::size_t dataStart = 8 + static_cast<std::size_t>(n);
  for (Entry& e : sax.entries) {
    RawTensor t;
    t.dtype = *e.dtype->dtype;
    t.strides = RawTensor::contiguousStrides(e.shape);
    t.shape = std::move(e.shape);
    t.storage = file.sub(dataStart + static_cast<std::size_t>(e.offsets[0]),
                         static_cast<std::size_t>(e.offsets[1] - e.offsets[0]));
    result.tensors.push_back({std::move(e.name), std::move(t)});
  }
  return result;
}

SafetensorsFile readSafetensors(const std::filesystem::path& path) {
  return parseSafetensors(mapFile(path), path);
}

std::vector<std::uint8_t> serializeSafetensors(const TensorList& tensors, const Metadata& metadata) {
  std::vector<PlannedTensor> plan;
  const std::string header = planHeader(tensors, metadata, plan);
  std::size_t total = 8 + header.size();
  for (const PlannedTensor& p : plan) total += static_cast<std::size_t>(p.bytes);
  std::vector<std::uint8_t> out;
  out.reserve(total);
  emitFile(header, plan, [&out](const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    out.insert(out.end(), p, p + size);
  });
  return out;
}

void writeSafetensors(const std::filesystem::path& path, const TensorList& tensors, const Metadata& metadata) {
  std::vector<PlannedTensor> plan;
  const std::string header = planHeader(tensors, metadata, plan);  // throws before any file exists
  AtomicFileWriter writer(path);
  emitFile(header, plan, [&writer](const void* data, std::size_t size) { writer.write(data, size); });
  writer.commit();
}

}  // namespace neco::formats

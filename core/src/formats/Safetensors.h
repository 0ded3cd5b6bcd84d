#pragma once
// Reader and writer of the safetensors format (https://github.com/huggingface/safetensors):
//
//   [u64 little-endian N][N bytes of UTF-8 JSON header, space padded][data section]
//
// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// relative to the data section) plus an optional "__metadata__" object of strings. The reader
// enforces every rule of the reference parser (SafeTensors::read_metadata / Metadata::validate)
// and a few stricter ones, listed at parseSafetensors(); see RELIABILITY.md, promise 3.

#include "formats/RawTensor.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace neco::formats {

/// The reference parser's limit on the JSON header (HeaderTooLarge).
constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

/// "__metadata__" entries in file (or writing) order.
using Metadata = std::vector<std::pair<std::string, std::string>>;

struct SafetensorsFile {
  TensorList tensors;  ///< sorted by data offset (file order of the bytes)
  Metadata metadata;
};

/// Cheap sniff for format detection, no validation: at least 10 bytes, a plausible header length
/// (2 .. 100 MB, inside the file) and a header that starts with '{'.
bool looksLikeSafetensors(const ByteView& file) noexcept;

/// Parses and validates a whole safetensors file held in `file`; the tensors' storage views point
/// into `file` (and keep its owner alive). `source` only names the file in error messages.
///
/// Rules (each violation throws FormatError(source, reason naming the tensor and the numbers)):
///  - file >= 8 bytes; header length N <= kSafetensorsMaxHeaderBytes and 8 + N <= file size;
///  - the header is a JSON object (UTF-8, no NUL bytes, trailing whitespace allowed) that starts
///    with '{'; no key appears twice, neither at the top level nor inside an entry or metadata;
///  - "__metadata__", when present, is an object whose values are all strings;
///  - every other entry is an object with exactly "dtype" (a safetensors dtype name), "shape" (array
///    of integers in [0, 2^63)) and "data_offsets" (exactly two unsigned integers), and a non-empty
///    name;
///  - sorted by (begin, end) the entries are contiguous from 0, end >= begin, and the last end is
///    exactly the size of the data section (no holes, no overlaps, no trailing bytes);
///  - element count x dtype bits (checked multiplications, even when a dimension is zero) equals the
///    byte span, and the product of the dimensions with zeros counted as 1 fits int64 (so that
///    contiguous strides exist; stricter than the reference, which no real file violates).
/// Duplicate keys are rejected although the reference (serde) silently keeps one of them: two
/// parsers reading different weights from one file is exactly the ambiguity an attacker wants.
///
/// Throws UnsupportedError (message starts with `source`) for a well-formed file holding a dtype the
/// reference knows but NeCo does not (F8_E4M3, F8_E5M2, U16, U32, U64, C64, F4, ...).
SafetensorsFile parseSafetensors(const ByteView& file, const std::filesystem::path& source);

/// mapFile(path) + parseSafetensors; tensors point into the read-only mapping, which stays alive as
/// long as any of their storages does. Throws IoError, FormatError or UnsupportedError.
SafetensorsFile readSafetensors(const std::filesystem::path& path);

/// Writes `tensors` (header keys and data in the given order) and `metadata` to `path` atomically
/// (AtomicFileWriter: the old file survives any failure). Tensor bytes are streamed, one tensor
/// copy at most for non-contiguous views. The header is padded with spaces to a multiple of 8.
/// Throws InvalidArgumentError (nothing written) for an empty, duplicate or "__metadata__" tensor
/// name, a duplicate metadata key, text that is not UTF-8, or a view outside its storage; IoError
/// when the file cannot be written.
void writeSafetensors(const std::filesystem::path& path, const TensorList& tensors, const Metadata& metadata = {});

/// The bytes writeSafetensors would write, in memory (tests, fuzzing). Throws InvalidArgumentError.
std::vector<std::uint8_t> serializeSafetensors(const TensorList& tensors, const Metadata& metadata = {});

}  // namespace neco::formats

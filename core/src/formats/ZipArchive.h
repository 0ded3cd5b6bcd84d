#pragma once
// Reader of the zip container that torch.save writes (PyTorch's miniz writer): stored entries whose
// data is 64-byte aligned through extra-field padding, sizes in a data descriptor after the data,
// and zip64 records once the file passes 4 GiB (ViT-g checkpoints are 4.4 GB). Only what such an
// archive needs is read, and every offset and size is checked against the file before use
// (RELIABILITY.md, promise 3): a zip is a table of pointers written by a stranger.

#include "formats/RawTensor.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace neco::formats {

struct ZipEntry {
  std::string name;
  std::uint64_t dataOffset = 0;      ///< first byte of the entry's (possibly compressed) data in the file
  std::uint64_t size = 0;            ///< uncompressed size
  std::uint64_t compressedSize = 0;  ///< bytes at dataOffset; equals `size` for stored entries
  std::uint16_t method = 0;          ///< 0 stored, 8 deflated, ...
  std::uint32_t crc32 = 0;           ///< from the central directory
};

/// A parsed, validated zip directory over bytes owned by a ByteView (usually a file mapping).
class ZipArchive {
 public:
  /// Upper bound on the number of entries (a 4.4 GB torch checkpoint has a few thousand).
  static constexpr std::uint64_t kMaxEntries = 1'000'000;

  /// Reads the end-of-central-directory record (searched in the last 65557 bytes, zip64 locator and
  /// record when present) and every central and local header. Throws FormatError(source, reason)
  /// naming the entry ("zip entry 'archive/data/3': ...") when:
  ///  - the end record is missing, a disk number is not 0, a zip64 record disagrees with the end
  ///    record, or the central directory lies outside the file or overlaps the end records;
  ///  - there are more than kMaxEntries entries, or more than its size can hold;
  ///  - an entry is encrypted, a stored entry's compressed and uncompressed sizes differ, or a zip64
  ///    extra field is missing or short where a size or offset says 0xFFFFFFFF;
  ///  - a local header is missing or disagrees with the central directory (name, method, sizes and
  ///    CRC unless deferred to a data descriptor), or an entry's data leaves the file, runs into the
  ///    central directory or overlaps another entry;
  ///  - a name is empty, absolute ("/x", "C:x"), contains a backslash, a NUL or a ".." component, or
  ///    appears twice.
  /// Deflated entries are listed (data() refuses them). CRCs are not verified here (see crcMatches).
  static ZipArchive parse(const ByteView& file, const std::filesystem::path& source);

  /// Entries in central-directory order.
  const std::vector<ZipEntry>& entries() const noexcept { return entries_; }
  /// The entry with exactly this name, or nullptr.
  const ZipEntry* find(std::string_view name) const noexcept;
  /// The bytes of a stored entry (a view sharing the file's owner). Throws UnsupportedError naming
  /// the entry and its method for any other method (deflated entries are refused: torch.save never
  /// writes them, and a deflated entry is how zip bombs work); InvalidArgumentError for an entry that
  /// does not lie inside this archive's file.
  ByteView data(const ZipEntry& entry) const;
  /// CRC-32 of data(entry) against the central directory's value; reads the whole entry (about
  /// 1 GB/s). Throws what data() throws.
  bool crcMatches(const ZipEntry& entry) const;
  const std::filesystem::path& source() const noexcept { return source_; }

 private:
  ByteView file_;
  std::filesystem::path source_;
  std::vector<ZipEntry> entries_;
  std::vector<std::size_t> byName_;  ///< indices into entries_, sorted by name (binary search in find)
};

/// True when the file starts with a local file header ("PK\x03\x04"); no validation.
bool looksLikeZip(const ByteView& file) noexcept;

/// "'archive/data/3'" with control and non-ASCII bytes escaped as \xHH and long names shortened, for
/// error messages about names read from untrusted files.
std::string quotedEntryName(std::string_view name);

}  // namespace neco::formats

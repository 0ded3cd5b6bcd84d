#include "formats/ZipArchive.h"

#include "formats/Sha256.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace neco::formats {

namespace {

constexpr std::uint32_t kLocalSignature = 0x04034b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50;
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr std::uint64_t kEndSize = 22;
constexpr std::uint64_t kMaxCommentSize = 0xffff;
constexpr std::uint64_t kZip64LocatorSize = 20;
constexpr std::uint64_t kZip64EndMinSize = 56;
constexpr std::uint64_t kCentralHeaderSize = 46;
constexpr std::uint64_t kLocalHeaderSize = 30;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint32_t kMax32 = 0xffffffffu;
constexpr std::uint16_t kMax16 = 0xffffu;
// General-purpose flags: 0 encrypted, 6 strong encryption, 13 encrypted central directory.
constexpr std::uint16_t kEncryptionFlags = (1u << 0) | (1u << 6) | (1u << 13);
constexpr std::uint16_t kDataDescriptorFlag = 1u << 3;

/// Little-endian reads at an offset the caller has already bounds-checked.
std::uint16_t u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t u64(const std::uint8_t* p) {
  return u32(p) | (static_cast<std::uint64_t>(u32(p + 4)) << 32);
}

/// a + b <= limit without overflow.
bool fits(std::uint64_t a, std::uint64_t b, std::uint64_t limit) {
  return a <= limit && b <= limit - a;
}

struct Context {
  const ByteView& file;
  const std::filesystem::path& source;

  [[noreturn]] void fail(const std::string& reason) const { throw FormatError(source, reason); }
  [[noreturn]] void failEntry(std::string_view name, const std::string& reason) const {
    throw FormatError(source, "zip entry " + quotedEntryName(name) + ": " + reason);
  }
};

/// Values of a zip64 extended-information extra field (id 1). Only the fields whose 32-bit (or
/// 16-bit disk) counterpart is saturated are present, in this fixed order (APPNOTE 4.5.3).
struct Zip64Fields {
  std::uint64_t size, compressedSize, localHeaderOffset;
  std::uint32_t diskStart;
};

/// Walks the extra-field records (id, length, data); returns the zip64 record's bytes if present.
std::optional<std::pair<const std::uint8_t*, std::size_t>> findZip64Extra(const Context& ctx, std::string_view name,
                                                                          const std::uint8_t* extra,
                                                                          std::size_t length) {
  std::optional<std::pair<const std::uint8_t*, std::size_t>> found;
  std::size_t at = 0;
  while (at < length) {
    if (length - at < 4) ctx.failEntry(name, "truncated extra field");
    const std::uint16_t id = u16(extra + at);
    const std::uint16_t size = u16(extra + at + 2);
    if (size > length - at - 4) ctx.failEntry(name, "extra field record runs past the extra field");
    if (id == kZip64ExtraId) {
      if (found) ctx.failEntry(name, "two zip64 extra fields");
      found = std::make_pair(extra + at + 4, static_cast<std::size_t>(size));
    }
    at += 4 + static_cast<std::size_t>(size);
  }
  return found;
}

/// Replaces saturated 32-bit values with their zip64 extra-field values.
void resolveZip64(const Context& ctx, std::string_view name, const std::uint8_t* extra, std::size_t extraLength,
                  Zip64Fields& f, bool includeOffsetAndDisk) {
  const bool needSize = f.size == kMax32, needCompressed = f.compressedSize == kMax32;
  const bool needOffset = includeOffsetAndDisk && f.localHeaderOffset == kMax32;
  const bool needDisk = includeOffsetAndDisk && f.diskStart == kMax16;
  const auto record = findZip64Extra(ctx, name, extra, extraLength);
  if (!needSize && !needCompressed && !needOffset && !needDisk) return;
  if (!record) ctx.failEntry(name, "a size or offset is 0xFFFFFFFF but there is no zip64 extra field");
  const std::uint8_t* p = record->first;
  std::size_t left = record->second;
  auto take = [&](std::size_t n) {
    if (left < n) ctx.failEntry(name, "zip64 extra field too short");
    const std::uint8_t* q = p;
    p += n;
    left -= n;
    return q;
  };
  if (needSize) f.size = u64(take(8));
  if (needCompressed) f.compressedSize = u64(take(8));
  if (needOffset) f.localHeaderOffset = u64(take(8));
  if (needDisk) f.diskStart = u32(take(4));
}

struct Directory {
  std::uint64_t entryCount = 0;
  std::uint64_t offset = 0;  ///< of the central directory
  std::uint64_t size = 0;
  std::uint64_t limit = 0;  ///< where the end records start: the directory must end at or before it
};

std::uint64_t findEndRecord(const Context& ctx) {
  const ByteView& f = ctx.file;
  if (f.size < kEndSize) ctx.fail("not a zip archive: " + std::to_string(f.size) + " bytes is too short");
  // The end record is the last thing in the file, followed only by its comment (<= 65535 bytes).
  const std::uint64_t lowest = f.size >= kEndSize + kMaxCommentSize ? f.size - kEndSize - kMaxCommentSize : 0;
  for (std::uint64_t pos = f.size - kEndSize;; --pos) {
    if (u32(f.data + pos) == kEndSignature && pos + kEndSize + u16(f.data + pos + 20) == f.size) return pos;
    if (pos == lowest) break;
  }
  ctx.fail("no zip end-of-central-directory record in the last 65557 bytes (truncated or not a zip archive)");
}

Directory readDirectory(const Context& ctx) {
  const ByteView& f = ctx.file;
  const std::uint64_t end = findEndRecord(ctx);
  const std::uint8_t* e = f.data + end;
  if (u16(e + 4) != 0 || u16(e + 6) != 0) ctx.fail("multi-disk zip archives are not supported");
  const std::uint16_t entriesOnDisk = u16(e + 8), entries = u16(e + 10);
  const std::uint32_t size = u32(e + 12), offset = u32(e + 16);
  if (entriesOnDisk != entries) ctx.fail("multi-disk zip archives are not supported");
  Directory d{entries, offset, size, end};

  const bool hasLocator = end >= kZip64LocatorSize && u32(f.data + end - kZip64LocatorSize) == kZip64LocatorSignature;
  if (!hasLocator) {
    if (size == kMax32 || offset == kMax32) ctx.fail("zip end record points to zip64 records that are missing");
    return d;
  }
  const std::uint8_t* loc = f.data + end - kZip64LocatorSize;
  const std::uint64_t recordAt = u64(loc + 8);
  if (u32(loc + 4) != 0 || u32(loc + 16) > 1) ctx.fail("multi-disk zip64 archives are not supported");
  const std::uint64_t locatorAt = end - kZip64LocatorSize;
  if (!fits(recordAt, kZip64EndMinSize, locatorAt)) ctx.fail("zip64 end record lies outside the file");
  const std::uint8_t* r = f.data + recordAt;
  if (u32(r) != kZip64EndSignature) ctx.fail("zip64 locator does not point to a zip64 end record");
  const std::uint64_t recordSize = u64(r + 4);  // excludes the leading 12 bytes
  if (recordSize < kZip64EndMinSize - 12 || !fits(recordAt + 12, recordSize, locatorAt)) {
    ctx.fail("zip64 end record has an impossible size");
  }
  if (u32(r + 16) != 0 || u32(r + 20) != 0) ctx.fail("multi-disk zip64 archives are not supported");
  const std::uint64_t entries64 = u64(r + 32), size64 = u64(r + 40), offset64 = u64(r + 48);
  if (u64(r + 24) != entries64) ctx.fail("multi-disk zip64 archives are not supported");
  // The 16/32-bit fields are either saturated or equal to the zip64 values; two readers must never
  // disagree about where the directory is.
  if ((entries != kMax16 && entries != entries64) || (size != kMax32 && size != size64) ||
      (offset != kMax32 && offset != offset64)) {
    ctx.fail("zip end record and zip64 end record disagree");
  }
  return Directory{entries64, offset64, size64, recordAt};
}

/// Checks a name read from the archive: it will be looked up and may end up in paths and messages.
void checkName(const Context& ctx, std::string_view name) {
  if (name.empty()) ctx.failEntry(name, "empty name");
  if (name.find('\0') != std::string_view::npos) ctx.failEntry(name, "name contains a NUL byte");
  if (name.find('\\') != std::string_view::npos) ctx.failEntry(name, "name contains a backslash");
  if (name.front() == '/' || (name.size() >= 2 && name[1] == ':')) ctx.failEntry(name, "absolute name");
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    if (name.substr(start, slash - start) == "..") ctx.failEntry(name, "name escapes the archive ('..' component)");
    start = slash + 1;
  }
}

struct Located {
  ZipEntry entry;
  std::uint64_t localHeaderOffset;
};

/// Reads one central-directory header at `at` (inside [at, end)); returns the offset after it.
std::uint64_t readCentralHeader(const Context& ctx, std::uint64_t at, std::uint64_t end, Located& out) {
  const std::uint8_t* base = ctx.file.data;
  if (!fits(at, kCentralHeaderSize, end)) ctx.fail("central directory truncated");
  const std::uint8_t* h = base + at;
  if (u32(h) != kCentralSignature) ctx.fail("bad central directory header signature");
  const std::uint16_t nameLength = u16(h + 28), extraLength = u16(h + 30), commentLength = u16(h + 32);
  const std::uint64_t variable = std::uint64_t{nameLength} + extraLength + commentLength;
  if (!fits(at + kCentralHeaderSize, variable, end)) ctx.fail("central directory header runs past the directory");
  std::string name(reinterpret_cast<const char*>(h + kCentralHeaderSize), nameLength);
  checkName(ctx, name);
  const std::uint16_t flags = u16(h + 8);
  if (flags & kEncryptionFlags) ctx.failEntry(name, "is encrypted; encrypted entries are refused");
  Zip64Fields z{u32(h + 24), u32(h + 20), u32(h + 42), u16(h + 34)};
  resolveZip64(ctx, name, h + kCentralHeaderSize + nameLength, extraLength, z, true);
  if (z.diskStart != 0) ctx.failEntry(name, "lies on another disk (multi-disk archives are not supported)");
  out.entry.method = u16(h + 10);
  if (out.entry.method == 0 && z.size != z.compressedSize) {
    ctx.failEntry(name, "stored entry with compressed size " + std::to_string(z.compressedSize) + " != size " +
                            std::to_string(z.size));
  }
  out.entry.name = std::move(name);
  out.entry.crc32 = u32(h + 16);
  out.entry.size = z.size;
  out.entry.compressedSize = z.compressedSize;
  out.localHeaderOffset = z.localHeaderOffset;
  return at + kCentralHeaderSize + variable;
}

/// Checks the local header against the central directory and sets the entry's data offset.
void readLocalHeader(const Context& ctx, Located& l, std::uint64_t directoryOffset) {
  ZipEntry& e = l.entry;
  if (!fits(l.localHeaderOffset, kLocalHeaderSize, directoryOffset)) {
    ctx.failEntry(e.name, "local header offset " + std::to_string(l.localHeaderOffset) + " is outside the data area");
  }
  const std::uint8_t* h = ctx.file.data + l.localHeaderOffset;
  if (u32(h) != kLocalSignature) ctx.failEntry(e.name, "no local header at its offset");
  const std::uint16_t flags = u16(h + 6), nameLength = u16(h + 26), extraLength = u16(h + 28);
  if (flags & kEncryptionFlags) ctx.failEntry(e.name, "is encrypted; encrypted entries are refused");
  if (u16(h + 8) != e.method) ctx.failEntry(e.name, "local header and central directory disagree on the method");
  const std::uint64_t dataOffset = l.localHeaderOffset + kLocalHeaderSize + nameLength + extraLength;
  if (dataOffset > directoryOffset) ctx.failEntry(e.name, "local header runs into the central directory");
  const std::string_view localName(reinterpret_cast<const char*>(h + kLocalHeaderSize), nameLength);
  if (localName != e.name) ctx.failEntry(e.name, "local header names " + quotedEntryName(localName));
  // miniz (torch.save) sets flag 3 and leaves CRC and sizes 0 here, writing them in a data descriptor
  // after the data; otherwise they must match, through the local zip64 field when saturated.
  Zip64Fields z{u32(h + 22), u32(h + 18), 0, 0};
  const std::uint32_t crc = u32(h + 14);
  const bool deferred = (flags & kDataDescriptorFlag) != 0;
  if (!(deferred && z.size == 0 && z.compressedSize == 0 && crc == 0)) {
    resolveZip64(ctx, e.name, h + kLocalHeaderSize + nameLength, extraLength, z, false);
    if (z.size != e.size || z.compressedSize != e.compressedSize || crc != e.crc32) {
      ctx.failEntry(e.name, "local header and central directory disagree on sizes or CRC");
    }
  }
  if (!fits(dataOffset, e.compressedSize, directoryOffset)) {
    ctx.failEntry(e.name, std::to_string(e.compressedSize) + " bytes at offset " + std::to_string(dataOffset) +
                              " run past the data area (truncated file?)");
  }
  e.dataOffset = dataOffset;
}

}  // namespace

std::string quotedEntryName(std::string_view name) {
  constexpr std::size_t kMaxShown = 200;
  std::string out = "'";
  for (std::size_t i = 0; i < name.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (name.size() > kMaxShown) out += "...";
  return out + "'";
}

bool looksLikeZip(const ByteView& file) noexcept {
  return file.size >= 4 && u32(file.data) == kLocalSignature;
}

ZipArchive ZipArchive::parse(const ByteView& file, const std::filesystem::path& source) {
  const Context ctx{file, source};
  const Directory dir = readDirectory(ctx);
  if (!fits(dir.offset, dir.size, dir.limit))
    ctx.fail("central directory lies outside the file or overlaps its end records");
  if (dir.entryCount > kMaxEntries) {
    ctx.fail(std::to_string(dir.entryCount) + " zip entries exceed the limit of " + std::to_string(kMaxEntries));
  }
  if (dir.entryCount > dir.size / kCentralHeaderSize) ctx.fail("central directory too small for its entry count");

  std::vector<Located> located(static_cast<std::size_t>(dir.entryCount));
  std::uint64_t at = dir.offset;
  for (Located& l : located) at = readCentralHeader(ctx, at, dir.offset + dir.size, l);
  if (at != dir.offset + dir.size) ctx.fail("central directory has bytes after its last entry");
  for (Located& l : located) readLocalHeader(ctx, l, dir.offset);

  // Entries in file order must not overlap: overlapping entries are how non-recursive zip bombs
  // (and two readers seeing different contents) are made.
  std::vector<const Located*> byOffset;
  byOffset.reserve(located.size());
  for (const Located& l : located) byOffset.push_back(&l);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const Located* a, const Located* b) { return a->localHeaderOffset < b->localHeaderOffset; });
  for (std::size_t i = 1; i < byOffset.size(); ++i) {
    const ZipEntry& previous = byOffset[i - 1]->entry;
    if (previous.dataOffset + previous.compressedSize > byOffset[i]->localHeaderOffset) {
      ctx.failEntry(byOffset[i]->entry.name, "overlaps entry " + quotedEntryName(previous.name));
    }
  }

  ZipArchive archive;
  archive.file_ = file;
  archive.source_ = source;
  archive.entries_.reserve(located.size());
  for (Located& l : located) archive.entries_.push_back(std::move(l.entry));
  archive.byName_.resize(archive.entries_.size());
  for (std::size_t i = 0; i < archive.byName_.size(); ++i) archive.byName_[i] = i;
  const auto& entries = archive.entries_;
  std::sort(archive.byName_.begin(), archive.byName_.end(),
            [&entries](std::size_t a, std::size_t b) { return entries[a].name < entries[b].name; });
  for (std::size_t i = 1; i < archive.byName_.size(); ++i) {
    if (entries[archive.byName_[i - 1]].name == entries[archive.byName_[i]].name) {
      ctx.failEntry(entries[archive.byName_[i]].name, "appears twice");
    }
  }
  return archive;
}

const ZipEntry* ZipArchive::find(std::string_view name) const noexcept {
  const auto it = std::lower_bound(byName_.begin(), byName_.end(), name,
                                   [this](std::size_t i, std::string_view n) { return entries_[i].name < n; });
  if (it == byName_.end() || entries_[*it].name != name) return nullptr;
  return &entries_[*it];
}

ByteView ZipArchive::data(const ZipEntry& entry) const {
  if (entry.method == 8) {
    throw UnsupportedError(source_.string() + ": zip entry " + quotedEntryName(entry.name) +
                           " is deflated (method 8): deflated entries are refused: torch.save never writes them; "
                           "a deflated entry is how zip bombs work");
  }
  if (entry.method != 0) {
    throw UnsupportedError(source_.string() + ": zip entry " + quotedEntryName(entry.name) +
                           " uses compression method " + std::to_string(entry.method) +
                           ": only stored (uncompressed) entries are read");
  }
  if (!fits(entry.dataOffset, entry.compressedSize, file_.size)) {
    throw InvalidArgumentError(source_.string() + ": zip entry " + quotedEntryName(entry.name) +
                               " does not lie inside this archive");
  }
  return file_.sub(static_cast<std::size_t>(entry.dataOffset), static_cast<std::size_t>(entry.compressedSize));
}

bool ZipArchive::crcMatches(const ZipEntry& entry) const {
  const ByteView bytes = data(entry);
  return crc32(bytes.data, bytes.size) == entry.crc32;
}

}  // namespace neco::formats

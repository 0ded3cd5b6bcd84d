#pragma once
// Test helper: writes small zip archives byte by byte the way the writers we meet do (miniz inside
// torch.save: data descriptors and 64-byte alignment; zip64 records), so that the reader's checks can
// be exercised one field at a time. Members may be "holes" of N zero bytes that are not materialised,
// for sparse multi-GiB files.

#include "TestFiles.h"
#include "formats/Sha256.h"

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace neco::test {

struct ZipMember {
  std::string name;
  Bytes data;
  std::uint64_t holeSize = 0;  ///< when > 0: the data is this many zero bytes, not materialised
  std::uint16_t method = 0;    ///< written as is; data is taken as already compressed
  std::uint16_t flags = 0;
  bool descriptor = false;  ///< miniz style: flag 3, zero CRC and sizes locally, descriptor after the data
  bool align64 = false;     ///< torch style: pad the local extra field so the data is 64-byte aligned
};

struct ZipOptions {
  bool zip64 = false;  ///< saturate 32-bit fields and write zip64 extras and end records
  std::string comment;
};

/// A zip as chunks at offsets (a hole member leaves a gap).
struct ZipImage {
  struct Chunk {
    std::uint64_t offset;
    Bytes bytes;
  };
  std::vector<Chunk> chunks;
  std::uint64_t size = 0;
  std::vector<std::uint64_t> localHeaderOffsets;
  std::uint64_t centralOffset = 0;

  Bytes flat() const {
    Bytes out(static_cast<std::size_t>(size), 0);
    for (const Chunk& c : chunks)
      std::copy(c.bytes.begin(), c.bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(c.offset));
    return out;
  }
  /// Writes a sparse file; false when the file system refuses.
  bool writeSparse(const std::filesystem::path& path) const {
    std::ofstream out(path, std::ios::binary);
    for (const Chunk& c : chunks) {
      out.seekp(static_cast<std::streamoff>(c.offset));
      out.write(reinterpret_cast<const char*>(c.bytes.data()), static_cast<std::streamsize>(c.bytes.size()));
    }
    return static_cast<bool>(out);
  }
};

inline void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void put32(Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v));
  put16(b, static_cast<std::uint16_t>(v >> 16));
}
inline void put64(Bytes& b, std::uint64_t v) {
  put32(b, static_cast<std::uint32_t>(v));
  put32(b, static_cast<std::uint32_t>(v >> 32));
}
inline void poke16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
inline void poke32(Bytes& b, std::size_t at, std::uint32_t v) {
  poke16(b, at, static_cast<std::uint16_t>(v));
  poke16(b, at + 2, static_cast<std::uint16_t>(v >> 16));
}
inline void putText(Bytes& b, const std::string& s) {
  b.insert(b.end(), s.begin(), s.end());
}

inline ZipImage buildZip(const std::vector<ZipMember>& members, const ZipOptions& options = {}) {
  constexpr std::uint32_t kSat32 = 0xffffffffu;
  ZipImage image;
  std::uint64_t at = 0;
  auto emit = [&](Bytes bytes) {
    at += bytes.size();
    image.chunks.push_back({at - bytes.size(), std::move(bytes)});
  };
  std::vector<std::uint32_t> crcs;
  for (const ZipMember& m : members) {
    const std::uint64_t size = m.holeSize > 0 ? m.holeSize : m.data.size();
    const std::uint32_t crc = m.holeSize > 0 ? 0 : neco::formats::crc32(m.data.data(), m.data.size());
    crcs.push_back(crc);
    image.localHeaderOffsets.push_back(at);
    Bytes extra;
    const bool localZip64 = options.zip64 && !m.descriptor;
    if (localZip64) {
      put16(extra, 1);
      put16(extra, 16);
      put64(extra, size);
      put64(extra, size);
    }
    if (m.align64) {
      const std::uint64_t dataAt = at + 30 + m.name.size() + extra.size() + 4;
      const std::uint64_t pad = (64 - dataAt % 64) % 64;
      put16(extra, 0x4246);  // "FB", as torch's writer spells its padding record
      put16(extra, static_cast<std::uint16_t>(pad));
      extra.insert(extra.end(), pad, 'Z');
    }
    Bytes h;
    put32(h, 0x04034b50);
    put16(h, options.zip64 ? 45 : 20);
    put16(h, static_cast<std::uint16_t>(m.flags | (m.descriptor ? 8 : 0)));
    put16(h, m.method);
    put32(h, 0);  // time, date
    put32(h, m.descriptor ? 0 : crc);
    put32(h, m.descriptor ? 0 : localZip64 ? kSat32 : static_cast<std::uint32_t>(size));
    put32(h, m.descriptor ? 0 : localZip64 ? kSat32 : static_cast<std::uint32_t>(size));
    put16(h, static_cast<std::uint16_t>(m.name.size()));
    put16(h, static_cast<std::uint16_t>(extra.size()));
    putText(h, m.name);
    h.insert(h.end(), extra.begin(), extra.end());
    if (m.holeSize == 0) h.insert(h.end(), m.data.begin(), m.data.end());
    emit(std::move(h));
    at += m.holeSize;
    if (m.descriptor) {
      Bytes d;
      put32(d, 0x08074b50);
      put32(d, crc);
      if (options.zip64) {
        put64(d, size);
        put64(d, size);
      } else {
        put32(d, static_cast<std::uint32_t>(size));
        put32(d, static_cast<std::uint32_t>(size));
      }
      emit(std::move(d));
    }
  }
  image.centralOffset = at;
  Bytes cd;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const ZipMember& m = members[i];
    const std::uint64_t size = m.holeSize > 0 ? m.holeSize : m.data.size();
    Bytes extra;
    if (options.zip64) {
      put16(extra, 1);
      put16(extra, 24);
      put64(extra, size);
      put64(extra, size);
      put64(extra, image.localHeaderOffsets[i]);
    }
    put32(cd, 0x02014b50);
    put16(cd, 0x031e);
    put16(cd, options.zip64 ? 45 : 20);
    put16(cd, static_cast<std::uint16_t>(m.flags | (m.descriptor ? 8 : 0)));
    put16(cd, m.method);
    put32(cd, 0);
    put32(cd, crcs[i]);
    put32(cd, options.zip64 ? kSat32 : static_cast<std::uint32_t>(size));
    put32(cd, options.zip64 ? kSat32 : static_cast<std::uint32_t>(size));
    put16(cd, static_cast<std::uint16_t>(m.name.size()));
    put16(cd, static_cast<std::uint16_t>(extra.size()));
    put16(cd, 0);  // comment
    put16(cd, 0);  // disk
    put16(cd, 0);  // internal attributes
    put32(cd, 0);  // external attributes
    put32(cd, options.zip64 ? kSat32 : static_cast<std::uint32_t>(image.localHeaderOffsets[i]));
    putText(cd, m.name);
    cd.insert(cd.end(), extra.begin(), extra.end());
  }
  const std::uint64_t cdSize = cd.size();
  emit(std::move(cd));
  Bytes end;
  if (options.zip64) {
    const std::uint64_t recordAt = at;
    put32(end, 0x06064b50);
    put64(end, 44);
    put16(end, 0x031e);
    put16(end, 45);
    put32(end, 0);
    put32(end, 0);
    put64(end, members.size());
    put64(end, members.size());
    put64(end, cdSize);
    put64(end, image.centralOffset);
    put32(end, 0x07064b50);
    put32(end, 0);
    put64(end, recordAt);
    put32(end, 1);
  }
  put32(end, 0x06054b50);
  put16(end, 0);
  put16(end, 0);
  put16(end, options.zip64 ? 0xffff : static_cast<std::uint16_t>(members.size()));
  put16(end, options.zip64 ? 0xffff : static_cast<std::uint16_t>(members.size()));
  put32(end, options.zip64 ? kSat32 : static_cast<std::uint32_t>(cdSize));
  put32(end, options.zip64 ? kSat32 : static_cast<std::uint32_t>(image.centralOffset));
  put16(end, static_cast<std::uint16_t>(options.comment.size()));
  putText(end, options.comment);
  emit(std::move(end));
  image.size = at;
  return image;
}

inline Bytes textBytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace neco::test

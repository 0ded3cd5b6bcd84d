#pragma once
// Checksums computed without third-party code: SHA-256 (FIPS 180-4) for checkpoint manifests and
// downloaded weights, and CRC-32 (the zip / IEEE 802.3 polynomial) for verifying zip entries.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace neco::formats {

/// Streaming SHA-256: call update() any number of times with any chunk sizes, then finish() once.
class Sha256 {
 public:
  Sha256() noexcept;
  void update(const void* data, std::size_t n) noexcept;
  /// The digest of everything passed to update(). The object is reset afterwards, ready for reuse.
  std::array<std::uint8_t, 32> finish() noexcept;

 private:
  void compress(const std::uint8_t* block) noexcept;

  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t totalBytes_ = 0;
};

/// Lower-case hex of a digest (64 characters).
std::string toHex(const std::array<std::uint8_t, 32>& digest);
/// Lower-case hex SHA-256 of a buffer.
std::string sha256Hex(const void* data, std::size_t n);
/// Lower-case hex SHA-256 of a file, read in 1 MiB chunks (constant memory for multi-GB files).
/// Throws IoError (naming `path` and the OS reason) when the file cannot be opened or read.
std::string sha256OfFile(const std::filesystem::path& path);

/// CRC-32 as zip and zlib compute it (reflected polynomial 0xEDB88320, initial and final XOR
/// 0xFFFFFFFF). Incremental: crc32(b, nb, crc32(a, na)) == crc32(ab, na + nb). Never throws.
std::uint32_t crc32(const void* data, std::size_t n, std::uint32_t previous = 0) noexcept;

}  // namespace neco::formats

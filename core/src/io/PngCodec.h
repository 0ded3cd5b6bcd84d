#pragma once
// Our own indexed-PNG codec (zlib only), behind readPalettePng / writePalettePng in ImageIo.h.
//
// Why not OpenCV: it cannot write palette PNGs and always expands palettes to colour on read, while a
// segmentation mask must round-trip its class indices exactly. The decoder reads files strangers
// made, so every length, size and CRC is checked before it is trusted (see RELIABILITY.md, images).
//
// The header and structure checks and io_detail are plain byte parsing and exist in every build (the
// probes of ImageIo.h use them); decodeIndexed / encodeIndexed exist only when NECO_HAVE_IMAGE_CODECS
// is 1. Callers outside src/io use ImageIo.h.

#include "neco/core/Image.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace neco::png {

/// The fields of an IHDR chunk, as stored (not yet validated against what we support).
struct Header {
  int width = 0;
  int height = 0;
  int bitDepth = 0;
  int colorType = 0;
  int interlace = 0;
};

/// Checks the PNG signature and the IHDR chunk (first, 13 bytes, CRC), the dimension cap, and that
/// the colour type / bit depth pair and the interlace method exist in the PNG specification.
/// `source` only names the file in error messages. Throws FormatError.
Header parseHeader(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& source);

/// parseHeader, then every chunk up to IEND without inflating anything: lengths inside the file, CRCs,
/// PLTE before the image data of a palette image (valid length, once), consecutive IDATs, at least one
/// IDAT, no unknown critical chunk. With `indexedMask`, also decodeIndexed's restrictions (8-bit
/// palette or grayscale, not interlaced). Bytes after IEND are not looked at. Throws FormatError.
Header checkStructure(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& source, bool indexedMask);

/// Decodes an 8-bit palette (colour type 3) or 8-bit grayscale (type 0) PNG into indices.
/// `paletteOut` receives the PLTE entries (empty for grayscale). Throws FormatError.
LabelImage decodeIndexed(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& source,
                         std::vector<PaletteColor>* paletteOut);

/// Encodes labels as an 8-bit palette PNG (filter type 0 on every row, one IDAT).
/// Throws InvalidArgumentError for an inconsistent image, an empty or >256-entry palette, or a label
/// with no palette entry.
std::vector<std::uint8_t> encodeIndexed(const LabelImage& labels, const std::vector<PaletteColor>& palette);

}  // namespace neco::png

namespace neco::io_detail {

/// Largest file the image readers load into memory (a 64 Mpixel JPEG stays far below this).
inline constexpr std::uintmax_t kMaxImageFileBytes = 512ull * 1024 * 1024;

/// Reads a whole file. Throws IoError (missing, unreadable) or FormatError (larger than maxBytes).
std::vector<std::uint8_t> readFileBytes(const std::filesystem::path& path, std::uintmax_t maxBytes);

/// Writes a whole file, replacing it; a partly written file is removed. Throws IoError.
void writeFileBytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);

/// Throws FormatError(source, ...) when width x height is empty or over the image caps of ImageIo.h.
void checkImageDimensions(long long width, long long height, const std::filesystem::path& source);

}  // namespace neco::io_detail

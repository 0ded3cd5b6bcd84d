#pragma once
// Reading and writing the image files of a dataset: JPEG/PNG photos and indexed-PNG masks.
//
// Every reader treats its file as hostile: the format is sniffed from magic bytes (never the file
// name), the header's dimensions are checked against the caps below before anything is decoded, and
// a truncated file is an error rather than a half-grey image. Readers never modify the file.
//
// The codecs need OpenCV and zlib. A build configured without them still has these functions; they
// throw UnsupportedError (see imageCodecsAvailable()). The probes are plain byte parsing and work in
// every build.

#include "neco/core/Image.h"

#include <cstdint>
#include <filesystem>
#include <vector>

namespace neco {

/// Largest accepted width or height of an image or mask.
inline constexpr int kMaxImageSide = 8192;
/// Largest accepted pixel count (64 Mi pixels).
inline constexpr std::int64_t kMaxImagePixels = 64ll * 1024 * 1024;

/// The container format of an image file, sniffed from its magic bytes.
enum class ImageFileFormat { Jpeg, Png };

/// What a probe learns from a file without decoding its pixels.
struct ImageProbe {
  ImageFileFormat format = ImageFileFormat::Jpeg;
  int width = 0;
  int height = 0;
};

/// True when this build has the image codecs (OpenCV + zlib); otherwise the functions below throw
/// UnsupportedError.
bool imageCodecsAvailable() noexcept;

/// Reads a JPEG or PNG photo as 8-bit RGB (EXIF orientation is ignored, so the size is the stored one,
/// as for its mask). Throws IoError (missing or unreadable file), FormatError (unknown magic bytes,
/// dimensions over the caps, truncated JPEG/PNG, undecodable data), UnsupportedError (no codecs).
RgbImage readImage(const std::filesystem::path& path);

/// Every check readImage makes before decoding, without decoding: magic bytes, the header's dimensions
/// against the caps, the JPEG end marker; for a PNG its whole chunk structure (CRCs, IHDR first, an
/// IDAT, nothing after IEND). A file that passes can still hold undecodable entropy-coded data, which
/// only readImage finds. Needs no codecs (works in every build). Throws IoError (missing or
/// unreadable file), FormatError (the reason, as readImage would give it).
ImageProbe probeImage(const std::filesystem::path& path);

/// Every check readPalettePng makes before inflating: signature, IHDR (CRC, caps, 8-bit palette or
/// grayscale, not interlaced), every chunk's length and CRC, PLTE before the data, an IDAT, an IEND.
/// Needs no codecs. Throws IoError, FormatError.
ImageProbe probeMaskPng(const std::filesystem::path& path);

/// Writes `image` as a baseline JPEG with the given quality (1..100).
/// Throws InvalidArgumentError (inconsistent image, quality out of range), IoError (encoding or
/// writing failed), UnsupportedError (no codecs).
void writeJpeg(const std::filesystem::path& path, const RgbImage& image, int quality = 95);

/// Reads an 8-bit indexed mask: a palette PNG (colour type 3) or an 8-bit grayscale PNG (type 0),
/// returning the raw indices without any colour conversion. `paletteOut`, when given, receives the
/// PLTE entries (empty for grayscale). Throws IoError, FormatError (with the precise reason: bad
/// signature, bad CRC, truncated chunk, unsupported colour type / bit depth / interlace, inflate
/// error, wrong decompressed size, dimensions over the caps), UnsupportedError (no codecs).
LabelImage readPalettePng(const std::filesystem::path& path, std::vector<PaletteColor>* paletteOut = nullptr);

/// Writes labels as an 8-bit palette PNG with the given palette (1..256 entries, every label must
/// have an entry). Throws InvalidArgumentError, IoError, UnsupportedError (no codecs).
void writePalettePng(const std::filesystem::path& path, const LabelImage& labels,
                     const std::vector<PaletteColor>& palette);

/// The standard Pascal VOC colour map, 256 entries (bit-interleaved class index; 0 = black,
/// 255 = (224,224,192) for "void"). Available in every build.
std::vector<PaletteColor> vocPalette();

}  // namespace neco

#include "io/PngCodec.h"

#include "formats/Sha256.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#ifndef NECO_HAVE_IMAGE_CODECS
#error "NECO_HAVE_IMAGE_CODECS must be defined to 0 or 1 by the build"
#endif

#if NECO_HAVE_IMAGE_CODECS
#include <zlib.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace neco::png {
namespace {

constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
constexpr std::uint32_t kMaxChunkLength = 0x7FFFFFFFu;  // PNG spec: lengths are at most 2^31 - 1
constexpr std::size_t kFirstChunkAfterIhdr = 8 + 12 + 13;

std::uint32_t readBe32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

struct Chunk {
  std::uint32_t length = 0;
  std::string type;
  const std::uint8_t* data = nullptr;
  std::size_t next = 0;  // offset of the following chunk
};

// Reads and verifies the chunk at `pos`: length inside the file, letters-only type, CRC.
Chunk readChunk(const std::vector<std::uint8_t>& bytes, std::size_t pos, const std::filesystem::path& source) {
  const std::string at = " at offset " + std::to_string(pos);
  if (bytes.size() - pos < 8) throw FormatError(source, "truncated PNG: chunk header" + at + " is cut off");
  Chunk c;
  c.length = readBe32(&bytes[pos]);
  const std::uint8_t* type = &bytes[pos + 4];
  for (int i = 0; i < 4; ++i) {
    const bool letter = (type[i] >= 'A' && type[i] <= 'Z') || (type[i] >= 'a' && type[i] <= 'z');
    if (!letter) throw FormatError(source, "invalid chunk type" + at);
  }
  c.type.assign(reinterpret_cast<const char*>(type), 4);
  if (c.length > kMaxChunkLength) {
    throw FormatError(source, "chunk '" + c.type + "'" + at + " claims an invalid length");
  }
  const std::size_t left = bytes.size() - pos - 8;
  if (std::size_t{c.length} + 4 > left) {
    throw FormatError(source, "truncated chunk '" + c.type + "'" + at + ": needs " + std::to_string(c.length + 4ull) +
                                  " bytes, " + std::to_string(left) + " left");
  }
  c.data = type + 4;
  const auto computed = formats::crc32(type, c.length + 4u);
  if (computed != readBe32(c.data + c.length)) throw FormatError(source, "CRC mismatch in chunk '" + c.type + "'" + at);
  c.next = pos + 12 + c.length;
  return c;
}

void checkSupported(const Header& h, const std::filesystem::path& source) {
  if (h.interlace != 0) {
    throw FormatError(
        source, "unsupported interlace method " + std::to_string(h.interlace) + " (masks must not be interlaced)");
  }
  if ((h.colorType != 3 && h.colorType != 0) || h.bitDepth != 8) {
    throw FormatError(source, "unsupported colour type " + std::to_string(h.colorType) + " with bit depth " +
                                  std::to_string(h.bitDepth) + " (masks must be 8-bit palette or 8-bit grayscale)");
  }
}

// The colour type / bit depth pairs the PNG specification allows (table 11.1).
bool validDepthForColorType(int colorType, int bitDepth) {
  switch (colorType) {
    case 0:
      return bitDepth == 1 || bitDepth == 2 || bitDepth == 4 || bitDepth == 8 || bitDepth == 16;
    case 3:
      return bitDepth == 1 || bitDepth == 2 || bitDepth == 4 || bitDepth == 8;
    case 2:
    case 4:
    case 6:
      return bitDepth == 8 || bitDepth == 16;
    default:
      return false;
  }
}

}  // namespace

Header parseHeader(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& source) {
  if (bytes.empty()) throw FormatError(source, "empty file (0 bytes)");
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kSignature, 8) != 0) {
    throw FormatError(source, "not a PNG file (bad signature)");
  }
  const Chunk ihdr = readChunk(bytes, 8, source);
  if (ihdr.type != "IHDR") throw FormatError(source, "first chunk is '" + ihdr.type + "', expected IHDR");
  if (ihdr.length != 13) {
    throw FormatError(source, "IHDR chunk has length " + std::to_string(ihdr.length) + ", expected 13");
  }
  const std::uint8_t* d = ihdr.data;
  io_detail::checkImageDimensions(readBe32(d), readBe32(d + 4), source);
  if (d[10] != 0 || d[11] != 0) throw FormatError(source, "unknown PNG compression or filter method");
  Header h;
  h.width = static_cast<int>(readBe32(d));
  h.height = static_cast<int>(readBe32(d + 4));
  h.bitDepth = d[8];
  h.colorType = d[9];
  h.interlace = d[12];
  if (!validDepthForColorType(h.colorType, h.bitDepth)) {
    throw FormatError(source, "invalid PNG colour type " + std::to_string(h.colorType) + " with bit depth " +
                                  std::to_string(h.bitDepth));
  }
  if (h.interlace > 1) throw FormatError(source, "unknown PNG interlace method " + std::to_string(h.interlace));
  return h;
}

Header checkStructure(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& source, bool indexedMask) {
  const Header h = parseHeader(bytes, source);
  if (indexedMask) checkSupported(h, source);
  bool sawPalette = false, sawIdat = false, idatClosed = false;
  for (std::size_t pos = kFirstChunkAfterIhdr;;) {
    const Chunk c = readChunk(bytes, pos, source);
    pos = c.next;
    if (c.type == "IEND") break;
    if (sawIdat && c.type != "IDAT") idatClosed = true;
    if (c.type == "IDAT") {
      if (idatClosed) throw FormatError(source, "IDAT chunks are not consecutive");
      if (h.colorType == 3 && !sawPalette) throw FormatError(source, "missing PLTE chunk before the image data");
      sawIdat = true;
    } else if (c.type == "PLTE") {
      if (sawIdat || sawPalette) throw FormatError(source, "misplaced or repeated PLTE chunk");
      if (c.length == 0 || c.length % 3 != 0 || c.length > 768) {
        throw FormatError(source, "PLTE chunk has invalid length " + std::to_string(c.length));
      }
      sawPalette = true;
    } else if (c.type[0] >= 'A' && c.type[0] <= 'Z') {  // critical chunk we do not know (or a second IHDR)
      throw FormatError(source, "unsupported critical chunk '" + c.type + "'");
    }  // ancillary chunks (tRNS, gAMA, tEXt, ...) do not change the pixels: skipped
  }
  if (!sawIdat) throw FormatError(source, "no IDAT chunk (no image data)");
  return h;
}

#if NECO_HAVE_IMAGE_CODECS

namespace {

void appendBe32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// Inflates the concatenated IDAT payloads into a buffer of exactly the expected size; a stream that
// would produce more is rejected as soon as it overflows, so a zlib bomb costs nothing.
class Inflater {
 public:
  Inflater(std::vector<std::uint8_t>& out, const std::filesystem::path& source) : out_(out), source_(source) {
    if (inflateInit(&z_) != Z_OK) throw Error("zlib inflateInit failed (out of memory?)");
  }
  ~Inflater() { inflateEnd(&z_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  void feed(const std::uint8_t* data, std::uint32_t size) {
    z_.next_in = const_cast<Bytef*>(data);  // zlib's API is not const-correct; it never writes input
    z_.avail_in = size;
    while (z_.avail_in > 0 && !ended_) {
      z_.next_out = out_.data() + produced_;
      z_.avail_out = static_cast<uInt>(out_.size() - produced_);
      const int ret = inflate(&z_, Z_NO_FLUSH);
      produced_ = out_.size() - z_.avail_out;
      if (ret == Z_STREAM_END) {
        ended_ = true;
      } else if (ret == Z_BUF_ERROR && z_.avail_out == 0) {  // full, and the stream wants to go on
        throw FormatError(source_, "wrong decompressed size: image data inflates to more than the expected " +
                                       std::to_string(out_.size()) + " bytes");
      } else if (ret != Z_OK) {
        throw FormatError(source_, std::string("inflate error in image data: ") + (z_.msg ? z_.msg : "corrupt stream"));
      }
    }
  }

  void finish() const {
    if (produced_ != out_.size()) {
      throw FormatError(source_, "wrong decompressed size: image data inflates to " + std::to_string(produced_) +
                                     " bytes, expected " + std::to_string(out_.size()));
    }
    if (!ended_) throw FormatError(source_, "inflate error in image data: compressed stream is incomplete");
  }

 private:
  z_stream z_{};
  std::vector<std::uint8_t>& out_;
  const std::filesystem::path& source_;
  std::size_t produced_ = 0;
  bool ended_ = false;
};

int paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Reverses the per-row filters (one byte per pixel, so the "left" neighbour is the previous byte).
void unfilter(const std::vector<std::uint8_t>& raw, LabelImage& img, const std::filesystem::path& source) {
  const std::size_t w = static_cast<std::size_t>(img.width);
  for (std::size_t y = 0; y < static_cast<std::size_t>(img.height); ++y) {
    const std::uint8_t filter = raw[y * (w + 1)];
    const std::uint8_t* in = &raw[y * (w + 1) + 1];
    std::uint8_t* out = &img.labels[y * w];
    const std::uint8_t* up = y > 0 ? out - w : nullptr;
    if (filter > 4) {
      throw FormatError(source, "invalid filter type " + std::to_string(filter) + " on row " + std::to_string(y));
    }
    for (std::size_t x = 0; x < w; ++x) {
      const int a = x > 0 ? out[x - 1] : 0, b = up ? up[x] : 0, c = (up && x > 0) ? up[x - 1] : 0;
      // Filter types: 0 None, 1 Sub (left), 2 Up, 3 Average, 4 Paeth.
      const int predictor = filter == 1   ? a
                            : filter == 2 ? b
                            : filter == 3 ? (a + b) / 2
                            : filter == 4 ? paeth(a, b, c)
                                          : 0;
      out[x] = static_cast<std::uint8_t>(in[x] + predictor);
    }
  }
}

void appendChunk(std::vector<std::uint8_t>& out, const char* type, const std::vector<std::uint8_t>& data) {
  appendBe32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t typeAt = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  appendBe32(out, formats::crc32(&out[typeAt], data.size() + 4));
}

}  // namespace

LabelImage decodeIndexed(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& source,
                         std::vector<PaletteColor>* paletteOut) {
  // Every structural rule (CRCs, chunk order, supported layout) is checked before anything is
  // allocated or inflated; the loop below only collects the palette and feeds the image data.
  const Header h = checkStructure(bytes, source, /*indexedMask=*/true);
  std::vector<std::uint8_t> raw(static_cast<std::size_t>(h.height) * (static_cast<std::size_t>(h.width) + 1));
  Inflater inflater(raw, source);
  std::vector<PaletteColor> palette;
  for (std::size_t pos = kFirstChunkAfterIhdr;;) {
    const Chunk c = readChunk(bytes, pos, source);
    pos = c.next;
    if (c.type == "IEND") break;
    if (c.type == "IDAT") {
      inflater.feed(c.data, c.length);
    } else if (c.type == "PLTE") {
      for (std::uint32_t i = 0; i < c.length; i += 3) palette.push_back({c.data[i], c.data[i + 1], c.data[i + 2]});
    }
  }
  inflater.finish();
  LabelImage img;
  img.width = h.width;
  img.height = h.height;
  img.labels.resize(static_cast<std::size_t>(h.width) * h.height);
  unfilter(raw, img, source);
  if (paletteOut) *paletteOut = h.colorType == 3 ? std::move(palette) : std::vector<PaletteColor>{};
  return img;
}

std::vector<std::uint8_t> encodeIndexed(const LabelImage& labels, const std::vector<PaletteColor>& palette) {
  if (labels.empty() || labels.width > kMaxImageSide || labels.height > kMaxImageSide ||
      labels.labels.size() != static_cast<std::size_t>(labels.width) * labels.height) {
    throw InvalidArgumentError("label image is empty, too large or inconsistent (" + std::to_string(labels.width) +
                               "x" + std::to_string(labels.height) + ", " + std::to_string(labels.labels.size()) +
                               " values)");
  }
  if (palette.empty() || palette.size() > 256) {
    throw InvalidArgumentError("a PNG palette needs 1..256 entries, got " + std::to_string(palette.size()));
  }
  const std::uint8_t maxLabel = *std::max_element(labels.labels.begin(), labels.labels.end());
  if (maxLabel >= palette.size()) {
    throw InvalidArgumentError("label " + std::to_string(maxLabel) + " has no entry in the " +
                               std::to_string(palette.size()) + "-colour palette");
  }
  const std::size_t w = static_cast<std::size_t>(labels.width);
  std::vector<std::uint8_t> raw;
  raw.reserve(labels.height * (w + 1));
  for (std::size_t y = 0; y < static_cast<std::size_t>(labels.height); ++y) {
    raw.push_back(0);  // filter type 0: masks compress well without prediction and stay simple to audit
    raw.insert(raw.end(), labels.labels.begin() + y * w, labels.labels.begin() + (y + 1) * w);
  }
  std::vector<std::uint8_t> idat(compressBound(raw.size()));
  uLongf idatSize = idat.size();
  if (compress2(idat.data(), &idatSize, raw.data(), raw.size(), 9) != Z_OK) {
    throw Error("zlib compression failed (out of memory?)");
  }
  idat.resize(idatSize);

  std::vector<std::uint8_t> ihdr;
  appendBe32(ihdr, static_cast<std::uint32_t>(labels.width));
  appendBe32(ihdr, static_cast<std::uint32_t>(labels.height));
  ihdr.insert(ihdr.end(), {8, 3, 0, 0, 0});  // bit depth 8, palette, deflate, adaptive filters, no interlace
  std::vector<std::uint8_t> plte;
  for (const PaletteColor& c : palette) plte.insert(plte.end(), {c.r, c.g, c.b});

  std::vector<std::uint8_t> out(kSignature, kSignature + 8);
  appendChunk(out, "IHDR", ihdr);
  appendChunk(out, "PLTE", plte);
  appendChunk(out, "IDAT", idat);
  appendChunk(out, "IEND", {});
  return out;
}

#endif  // NECO_HAVE_IMAGE_CODECS

}  // namespace neco::png

// Plain file I/O and the dimension caps: no codec needed, so they exist in every build (probeImage).
namespace neco::io_detail {

std::vector<std::uint8_t> readFileBytes(const std::filesystem::path& path, std::uintmax_t maxBytes) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);  // also fails for a directory
  if (ec) throw IoError(path, "cannot read: " + ec.message());
  if (size > maxBytes) throw FormatError(path, "file is too large for an image (" + std::to_string(size) + " bytes)");
  std::FILE* f = std::fopen(path.string().c_str(), "rb");
  if (!f) throw IoError(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  const std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed || got != bytes.size()) throw IoError(path, "read failed (file changed or I/O error)");
  return bytes;
}

void writeFileBytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.string().c_str(), "wb");
  if (!f) throw IoError(path, std::string("cannot create: ") + std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fflush(f) == 0 && ok;
  int error = ok ? 0 : errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);  // never leave a half-written image behind
    throw IoError(path, std::string("write failed: ") + std::strerror(error));
  }
}

void checkImageDimensions(long long width, long long height, const std::filesystem::path& source) {
  const std::string dims = std::to_string(width) + "x" + std::to_string(height);
  if (width <= 0 || height <= 0) throw FormatError(source, "invalid image dimensions " + dims);
  if (width > kMaxImageSide || height > kMaxImageSide || width * height > kMaxImagePixels) {
    throw FormatError(source, "image dimensions " + dims + " exceed the limit of " + std::to_string(kMaxImageSide) +
                                  "x" + std::to_string(kMaxImageSide) + " (64 Mpixel)");
  }
}

}  // namespace neco::io_detail

#if NECO_HAVE_IMAGE_CODECS

namespace neco {

LabelImage readPalettePng(const std::filesystem::path& path, std::vector<PaletteColor>* paletteOut) {
  return png::decodeIndexed(io_detail::readFileBytes(path, io_detail::kMaxImageFileBytes), path, paletteOut);
}

void writePalettePng(const std::filesystem::path& path, const LabelImage& labels,
                     const std::vector<PaletteColor>& palette) {
  io_detail::writeFileBytes(path, png::encodeIndexed(labels, palette));
}

}  // namespace neco

#else  // !NECO_HAVE_IMAGE_CODECS

namespace neco {

LabelImage readPalettePng(const std::filesystem::path&, std::vector<PaletteColor>*) {
  throw UnsupportedError("this build has no image codecs (configured without OpenCV/zlib)");
}

void writePalettePng(const std::filesystem::path&, const LabelImage&, const std::vector<PaletteColor>&) {
  throw UnsupportedError("this build has no image codecs (configured without OpenCV/zlib)");
}

}  // namespace neco

#endif  // NECO_HAVE_IMAGE_CODECS

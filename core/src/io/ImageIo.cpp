#include "neco/core/ImageIo.h"

#include "io/PngCodec.h"
#include "neco/core/Error.h"

#ifndef NECO_HAVE_IMAGE_CODECS
#error "NECO_HAVE_IMAGE_CODECS must be defined to 0 or 1 by the build"
#endif

#if NECO_HAVE_IMAGE_CODECS
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

namespace neco {

std::vector<PaletteColor> vocPalette() {
  // Pascal VOC's colour map: the bits of the class index are dealt out to R, G, B, most significant
  // bit first, so that neighbouring class indices get clearly different colours.
  std::vector<PaletteColor> palette(256);
  for (int i = 0; i < 256; ++i) {
    int r = 0, g = 0, b = 0;
    for (int j = 0, c = i; j < 8; ++j, c >>= 3) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
    }
    palette[i] = {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b)};
  }
  return palette;
}

bool imageCodecsAvailable() noexcept {
  return NECO_HAVE_IMAGE_CODECS != 0;
}

namespace {

// The probes read a file whole up to this size; above it a JPEG is probed from its first and last
// bytes (a PNG is always read whole: its structure check verifies every chunk's CRC).
constexpr std::uintmax_t kProbeWholeFileBytes = 1024 * 1024;
constexpr std::size_t kProbeHeadBytes = 256 * 1024;
constexpr std::size_t kProbeTailBytes = 4096;

struct Dimensions {
  long long width = 0;
  long long height = 0;
};

ImageFileFormat sniffFormat(const std::vector<std::uint8_t>& b, const std::filesystem::path& path) {
  static constexpr std::uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (b.empty()) throw FormatError(path, "empty file (0 bytes)");
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFileFormat::Jpeg;
  if (b.size() >= 8 && std::memcmp(b.data(), kPng, 8) == 0) return ImageFileFormat::Png;
  std::string magic;
  for (std::size_t i = 0; i < b.size() && i < 4; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%02X ", b[i]);
    magic += hex;
  }
  magic.pop_back();
  throw FormatError(path, "unknown image format (magic bytes " + magic + "); expected JPEG or PNG");
}

bool isStartOfFrame(std::uint8_t marker) {
  // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks the marker segments up to the first frame header without decoding anything. When `b` is only
// the start of the file (`wholeFile` false) and ends before the frame header, returns nullopt.
std::optional<Dimensions> findJpegFrame(const std::vector<std::uint8_t>& b, bool wholeFile,
                                        const std::filesystem::path& path) {
  const auto endOfData = [&]() -> std::optional<Dimensions> {
    if (wholeFile) throw FormatError(path, "truncated JPEG header (no complete frame header)");
    return std::nullopt;
  };
  std::size_t pos = 2;  // after SOI
  for (;;) {
    if (pos >= b.size()) return endOfData();
    if (b[pos] != 0xFF) throw FormatError(path, "corrupt JPEG header: no marker at offset " + std::to_string(pos));
    while (pos < b.size() && b[pos] == 0xFF) ++pos;  // fill bytes may precede a marker
    if (pos >= b.size()) return endOfData();
    const std::uint8_t marker = b[pos++];
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no payload
    if (marker == 0x00 || marker == 0xD9 || marker == 0xDA) {
      throw FormatError(path, "corrupt JPEG header: image data or end before a frame header");
    }
    if (b.size() - pos < 2) return endOfData();
    const std::size_t length = (std::size_t{b[pos]} << 8) | b[pos + 1];  // includes its own 2 bytes
    if (length < 2) throw FormatError(path, "truncated JPEG header (no complete frame header)");
    if (length > b.size() - pos) return endOfData();
    if (isStartOfFrame(marker)) {
      if (length < 8) throw FormatError(path, "corrupt JPEG frame header (too short)");
      const long long height = (b[pos + 3] << 8) | b[pos + 4];
      const long long width = (b[pos + 5] << 8) | b[pos + 6];
      if (height == 0) throw FormatError(path, "JPEG with the height given later (DNL marker) is not supported");
      return Dimensions{width, height};
    }
    pos += length;
  }
}

// One past the last byte that is not zero padding (some writers pad with zeros after EOI).
std::size_t endWithoutZeroPadding(const std::vector<std::uint8_t>& b) {
  std::size_t end = b.size();
  while (end > 0 && b[end - 1] == 0) --end;
  return end;
}

// `b` is the whole file or its last bytes.
void checkJpegEnd(const std::vector<std::uint8_t>& b, const std::filesystem::path& path) {
  const std::size_t end = endWithoutZeroPadding(b);
  if (end < 4 || b[end - 2] != 0xFF || b[end - 1] != 0xD9) {
    // OpenCV would return a partly grey image and only print a warning: refuse instead.
    throw FormatError(path, "truncated JPEG (no end-of-image marker FF D9 at the end of the file)");
  }
}

void checkPngEnd(const std::vector<std::uint8_t>& b, const std::filesystem::path& path) {
  static constexpr std::uint8_t kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  if (b.size() < 12 || std::memcmp(b.data() + b.size() - 12, kIend, 12) != 0) {
    throw FormatError(path, "truncated PNG (the file does not end with an IEND chunk)");
  }
}

// Every check of readImage short of decoding, on the whole file.
ImageProbe probeImageBytes(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& path) {
  if (sniffFormat(bytes, path) == ImageFileFormat::Jpeg) {
    const Dimensions dims = *findJpegFrame(bytes, /*wholeFile=*/true, path);
    io_detail::checkImageDimensions(dims.width, dims.height, path);
    checkJpegEnd(bytes, path);
    return {ImageFileFormat::Jpeg, static_cast<int>(dims.width), static_cast<int>(dims.height)};
  }
  const png::Header header = png::checkStructure(bytes, path, /*indexedMask=*/false);  // checks the caps
  checkPngEnd(bytes, path);
  return {ImageFileFormat::Png, header.width, header.height};
}

// `count` bytes from `offset` (the caller knows the file is at least that long). Throws IoError.
std::vector<std::uint8_t> readFileRange(const std::filesystem::path& path, std::uintmax_t offset, std::size_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open for reading");
  std::vector<std::uint8_t> bytes(count);
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
  if (!in || in.gcount() != static_cast<std::streamsize>(count)) {
    throw IoError(path, "read failed (file changed or I/O error)");
  }
  return bytes;
}

std::vector<std::uint8_t> readWholeImageFile(const std::filesystem::path& path) {
  return io_detail::readFileBytes(path, io_detail::kMaxImageFileBytes);
}

}  // namespace

ImageProbe probeImage(const std::filesystem::path& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  // Small files, and every error readFileBytes reports (missing, a folder, over the size cap).
  if (ec || size <= kProbeWholeFileBytes || size > io_detail::kMaxImageFileBytes) {
    return probeImageBytes(readWholeImageFile(path), path);
  }
  const std::vector<std::uint8_t> head = readFileRange(path, 0, kProbeHeadBytes);
  if (sniffFormat(head, path) == ImageFileFormat::Png) return probeImageBytes(readWholeImageFile(path), path);
  const std::optional<Dimensions> dims = findJpegFrame(head, /*wholeFile=*/false, path);
  if (!dims) return probeImageBytes(readWholeImageFile(path), path);  // huge metadata segments: rare
  io_detail::checkImageDimensions(dims->width, dims->height, path);
  const std::vector<std::uint8_t> tail = readFileRange(path, size - kProbeTailBytes, kProbeTailBytes);
  if (endWithoutZeroPadding(tail) < 4) return probeImageBytes(readWholeImageFile(path), path);  // long padding
  checkJpegEnd(tail, path);
  return {ImageFileFormat::Jpeg, static_cast<int>(dims->width), static_cast<int>(dims->height)};
}

ImageProbe probeMaskPng(const std::filesystem::path& path) {
  const png::Header header = png::checkStructure(readWholeImageFile(path), path, /*indexedMask=*/true);
  return {ImageFileFormat::Png, header.width, header.height};
}

#if NECO_HAVE_IMAGE_CODECS

namespace {

RgbImage decodeWithOpenCv(const std::vector<std::uint8_t>& bytes, Dimensions expected,
                          const std::filesystem::path& path) {
  const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::uint8_t*>(bytes.data()));
  cv::Mat bgr;
  try {
    // Ignoring EXIF orientation keeps the stored size, which is the size its mask was drawn at.
    bgr = cv::imdecode(encoded, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    throw FormatError(path, std::string("cannot decode the image data: ") + e.what());
  }
  if (bgr.empty() || bgr.type() != CV_8UC3) throw FormatError(path, "cannot decode the image data");
  if (bgr.cols != expected.width || bgr.rows != expected.height) {
    throw FormatError(path, "decoded size differs from the header's " + std::to_string(expected.width) + "x" +
                                std::to_string(expected.height));
  }
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  RgbImage image;
  image.width = rgb.cols;
  image.height = rgb.rows;
  image.pixels.resize(static_cast<std::size_t>(rgb.cols) * rgb.rows * 3);
  const std::size_t rowBytes = static_cast<std::size_t>(rgb.cols) * 3;
  for (int y = 0; y < rgb.rows; ++y) std::memcpy(image.pixels.data() + y * rowBytes, rgb.ptr(y), rowBytes);
  return image;
}

void checkRgbImage(const RgbImage& image) {
  if (image.empty() || image.width > kMaxImageSide || image.height > kMaxImageSide ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
    throw InvalidArgumentError("RGB image is empty, too large or inconsistent (" + std::to_string(image.width) + "x" +
                               std::to_string(image.height) + ", " + std::to_string(image.pixels.size()) + " bytes)");
  }
}

}  // namespace

RgbImage readImage(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = readWholeImageFile(path);
  const ImageProbe probe = probeImageBytes(bytes, path);  // every check before OpenCV sees a byte
  return decodeWithOpenCv(bytes, {probe.width, probe.height}, path);
}

void writeJpeg(const std::filesystem::path& path, const RgbImage& image, int quality) {
  checkRgbImage(image);
  if (quality < 1 || quality > 100) {
    throw InvalidArgumentError("JPEG quality must be in 1..100, got " + std::to_string(quality));
  }
  const cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
  std::vector<std::uint8_t> encoded;
  bool ok = false;
  try {
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    ok = cv::imencode(".jpg", bgr, encoded, {cv::IMWRITE_JPEG_QUALITY, quality});
  } catch (const cv::Exception& e) {
    throw IoError(path, std::string("JPEG encoding failed: ") + e.what());
  }
  if (!ok || encoded.empty()) throw IoError(path, "JPEG encoding failed");
  io_detail::writeFileBytes(path, encoded);
}

#else  // !NECO_HAVE_IMAGE_CODECS

RgbImage readImage(const std::filesystem::path&) {
  throw UnsupportedError("this build has no image codecs (configured without OpenCV/zlib)");
}

void writeJpeg(const std::filesystem::path&, const RgbImage&, int) {
  throw UnsupportedError("this build has no image codecs (configured without OpenCV/zlib)");
}

#endif  // NECO_HAVE_IMAGE_CODECS

}  // namespace neco

// readImage / writeJpeg: a faithful JPEG round trip, and the checks that OpenCV alone would not make
// (magic bytes, header dimensions before decoding, the JPEG end marker).

#include "NecoTest.h"
#include "TestFiles.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// Every case exists in every build; without codecs the file-based ones skip at their first line.
#define REQUIRE_IMAGE_CODECS() \
  if (!neco::imageCodecsAvailable()) NECO_SKIP("built without image codecs")

namespace {

namespace fs = std::filesystem;
using neco::test::Bytes;
using neco::test::readBytes;
using neco::test::TempDir;
using neco::test::writeBytes;

std::string formatErrorOf(const fs::path& path) {
  try {
    neco::readImage(path);
  } catch (const neco::FormatError& e) {
    return e.what();
  }
  return "(no FormatError)";
}

// A photo-like test image: smooth gradients, a disc with a hard edge, mild deterministic noise.
neco::RgbImage testImage(int width, int height) {
  neco::RgbImage img{width, height, Bytes(static_cast<std::size_t>(width) * height * 3)};
  std::uint32_t noise = 12345;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      noise = noise * 1664525u + 1013904223u;
      const int n = static_cast<int>(noise >> 29) - 4;
      const bool disc = (x - width / 2) * (x - width / 2) + (y - height / 2) * (y - height / 2) < width * height / 10;
      std::uint8_t* p = img.at(x, y);
      p[0] = static_cast<std::uint8_t>(disc ? 200 + n : 255 * x / width);
      p[1] = static_cast<std::uint8_t>(disc ? 60 + n : 255 * y / height);
      p[2] = static_cast<std::uint8_t>(disc ? 40 : 128 + n);
    }
  }
  return img;
}

double psnr(const neco::RgbImage& a, const neco::RgbImage& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    const double d = double(a.pixels[i]) - double(b.pixels[i]);
    sum += d * d;
  }
  return 10 * std::log10(255.0 * 255.0 / std::max(sum / a.pixels.size(), 1e-12));
}

// A minimal JPEG header: SOI, APP0, a baseline or progressive frame header, EOI.
Bytes handMadeJpeg(int width, int height, std::uint8_t sofMarker) {
  Bytes b = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
  b.insert(b.end(), {0xFF, sofMarker, 0x00, 0x11, 8, static_cast<std::uint8_t>(height >> 8),
                     static_cast<std::uint8_t>(height), static_cast<std::uint8_t>(width >> 8),
                     static_cast<std::uint8_t>(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1});
  b.insert(b.end(), {0xFF, 0xD9});
  return b;
}

}  // namespace

NECO_TEST(ImageIo, jpegRoundTripPsnrAbove30dB) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const neco::RgbImage image = testImage(173, 119);
  neco::writeJpeg(dir / "a.jpg", image);
  const neco::RgbImage back = neco::readImage(dir / "a.jpg");
  NECO_REQUIRE(back.width == 173 && back.height == 119 && back.pixels.size() == image.pixels.size());
  NECO_CHECK(psnr(image, back) > 30.0);
  // Lower quality is smaller and still close; writing never keeps stale bytes of a previous file.
  neco::writeJpeg(dir / "a.jpg", image, 50);
  NECO_CHECK(psnr(image, neco::readImage(dir / "a.jpg")) > 25.0);
}

NECO_TEST(ImageIo, truncatedJpegIsRejected) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  neco::writeJpeg(dir / "full.jpg", testImage(128, 96));
  const Bytes full = readBytes(dir / "full.jpg");
  writeBytes(dir / "half.jpg", Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(full.size() / 2)));
  NECO_CHECK(formatErrorOf(dir / "half.jpg").find("truncated") != std::string::npos);
  writeBytes(dir / "head.jpg", Bytes(full.begin(), full.begin() + 10));  // cut inside the header
  NECO_CHECK(formatErrorOf(dir / "head.jpg").find("truncated") != std::string::npos);
  Bytes padded = full;
  padded.insert(padded.end(), 64, 0);  // zero padding after EOI is allowed
  writeBytes(dir / "padded.jpg", padded);
  NECO_CHECK_EQ(neco::readImage(dir / "padded.jpg").width, 128);
}

NECO_TEST(ImageIo, wrongMagicIsRejected) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const std::string text = "this is not a JPEG\n";
  writeBytes(dir / "text.jpg", Bytes(text.begin(), text.end()));
  NECO_CHECK(formatErrorOf(dir / "text.jpg").find("unknown image format") != std::string::npos);
  writeBytes(dir / "empty.jpg", {});
  NECO_CHECK(formatErrorOf(dir / "empty.jpg").find("empty") != std::string::npos);
}

NECO_TEST(ImageIo, missingFileIsAnIoError) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  NECO_CHECK_THROWS(neco::IoError, neco::readImage(dir / "nope.jpg"));
  NECO_CHECK_THROWS(neco::IoError, neco::writeJpeg(dir / "no-such-folder" / "x.jpg", testImage(8, 8)));
}

NECO_TEST(ImageIo, hugeJpegHeaderIsRejectedBeforeDecoding) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  writeBytes(dir / "huge.jpg", handMadeJpeg(60000, 60000, 0xC0));
  NECO_CHECK(formatErrorOf(dir / "huge.jpg").find("60000x60000 exceed") != std::string::npos);
  writeBytes(dir / "wide.jpg", handMadeJpeg(9000, 10, 0xC2));  // progressive frame, one side over the cap
  NECO_CHECK(formatErrorOf(dir / "wide.jpg").find("9000x10 exceed") != std::string::npos);
  writeBytes(dir / "small.jpg", handMadeJpeg(16, 16, 0xC0));  // plausible header, no image data
  NECO_CHECK(formatErrorOf(dir / "small.jpg") != "(no FormatError)");
}

NECO_TEST(ImageIo, pngIsReadAsRgbAndTruncatedPngRejected) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  neco::LabelImage labels{5, 4, Bytes(20)};
  for (std::size_t i = 0; i < labels.labels.size(); ++i) {
    labels.labels[i] = static_cast<std::uint8_t>(i % 3 == 0 ? 255 : i);
  }
  neco::writePalettePng(dir / "m.png", labels, neco::vocPalette());
  const neco::RgbImage rgb = neco::readImage(dir / "m.png");
  NECO_REQUIRE(rgb.width == 5 && rgb.height == 4);
  const neco::PaletteColor c = neco::vocPalette()[labels.at(4, 3)];
  NECO_CHECK(rgb.at(4, 3)[0] == c.r && rgb.at(4, 3)[1] == c.g && rgb.at(4, 3)[2] == c.b);
  const Bytes full = readBytes(dir / "m.png");
  writeBytes(dir / "cut.png", Bytes(full.begin(), full.end() - 5));
  NECO_CHECK(formatErrorOf(dir / "cut.png").find("truncated PNG") != std::string::npos);
}

NECO_TEST(ImageIo, readingNeverModifiesTheFile) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  neco::writeJpeg(dir / "r.jpg", testImage(40, 30));
  const Bytes before = readBytes(dir / "r.jpg");
  const auto time = fs::last_write_time(dir / "r.jpg");
  neco::readImage(dir / "r.jpg");
  NECO_CHECK(readBytes(dir / "r.jpg") == before);
  NECO_CHECK(fs::last_write_time(dir / "r.jpg") == time);
}

NECO_TEST(ImageIo, writeJpegRejectsBadArguments) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeJpeg(dir / "q.jpg", testImage(8, 8), 0));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeJpeg(dir / "q.jpg", testImage(8, 8), 101));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeJpeg(dir / "q.jpg", neco::RgbImage{4, 4, Bytes(5)}));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writeJpeg(dir / "q.jpg", neco::RgbImage{}));
  NECO_CHECK(!fs::exists(dir / "q.jpg"));
}

NECO_TEST(ImageIo, vocPaletteIsTheStandardOne) {
  const std::vector<neco::PaletteColor> p = neco::vocPalette();
  NECO_REQUIRE(p.size() == 256);
  NECO_CHECK(p[0] == (neco::PaletteColor{0, 0, 0}));
  NECO_CHECK(p[1] == (neco::PaletteColor{128, 0, 0}));
  NECO_CHECK(p[2] == (neco::PaletteColor{0, 128, 0}));
  NECO_CHECK(p[3] == (neco::PaletteColor{128, 128, 0}));
  NECO_CHECK(p[6] == (neco::PaletteColor{0, 128, 128}));
  NECO_CHECK(p[15] == (neco::PaletteColor{192, 128, 128}));  // VOC "person"
  NECO_CHECK(p[255] == (neco::PaletteColor{224, 224, 192}));
}

NECO_TEST(ImageIo, unsupportedWithoutCodecs) {
  NECO_CHECK_EQ(neco::imageCodecsAvailable(), NECO_HAVE_IMAGE_CODECS != 0);
  if (neco::imageCodecsAvailable()) return;
  NECO_CHECK_THROWS(neco::UnsupportedError, neco::readImage("any.jpg"));
  NECO_CHECK_THROWS(neco::UnsupportedError, neco::writeJpeg("any.jpg", testImage(4, 4)));
}

NECO_TEST(ImageIo, probesNeedNoCodecs) {
  TempDir dir;
  writeBytes(dir / "header.jpg", handMadeJpeg(16, 12, 0xC2));  // plausible header and end marker, no data
  const neco::ImageProbe probe = neco::probeImage(dir / "header.jpg");
  NECO_CHECK(probe.format == neco::ImageFileFormat::Jpeg && probe.width == 16 && probe.height == 12);
  writeBytes(dir / "huge.jpg", handMadeJpeg(60000, 60000, 0xC0));
  NECO_CHECK_THROWS(neco::FormatError, neco::probeImage(dir / "huge.jpg"));
  const std::string text = "not an image";
  writeBytes(dir / "text.jpg", Bytes(text.begin(), text.end()));
  NECO_CHECK_THROWS(neco::FormatError, neco::probeImage(dir / "text.jpg"));
  NECO_CHECK_THROWS(neco::FormatError, neco::probeMaskPng(dir / "header.jpg"));  // not a PNG
  NECO_CHECK_THROWS(neco::IoError, neco::probeImage(dir / "missing.jpg"));
  NECO_CHECK_THROWS(neco::IoError, neco::probeMaskPng(dir / "missing.png"));
}

NECO_TEST(ImageIo, probeAgreesWithReadImageAndRejectsEveryTruncation) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  neco::writeJpeg(dir / "p.jpg", testImage(24, 16));
  neco::LabelImage labels{9, 7, Bytes(63, 3)};
  neco::writePalettePng(dir / "m.png", labels, neco::vocPalette());
  const neco::ImageProbe jpeg = neco::probeImage(dir / "p.jpg");
  NECO_CHECK(jpeg.format == neco::ImageFileFormat::Jpeg && jpeg.width == 24 && jpeg.height == 16);
  const neco::ImageProbe png = neco::probeImage(dir / "m.png");
  NECO_CHECK(png.format == neco::ImageFileFormat::Png && png.width == 9 && png.height == 7);
  const neco::ImageProbe mask = neco::probeMaskPng(dir / "m.png");
  NECO_CHECK(mask.width == 9 && mask.height == 7);
  for (const char* name : {"p.jpg", "m.png"}) {
    const Bytes full = readBytes(dir / name);
    for (std::size_t size = 0; size < full.size(); ++size) {
      const fs::path cut = dir / ("cut-" + std::to_string(size) + "-" + name);
      writeBytes(cut, Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(size)));
      NECO_CHECK_THROWS(neco::FormatError, neco::probeImage(cut));
      if (std::string(name) == "m.png") NECO_CHECK_THROWS(neco::FormatError, neco::probeMaskPng(cut));
    }
  }
}

NECO_TEST(ImageIo, probeOfALargeJpegReadsItsHeadAndTail) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  // Noise does not compress: well over the 1 MiB up to which a probe reads the whole file.
  neco::RgbImage noise{1000, 800, Bytes(1000 * 800 * 3)};
  std::uint32_t state = 99;
  for (auto& v : noise.pixels) v = static_cast<std::uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
  neco::writeJpeg(dir / "big.jpg", noise, 100);
  const Bytes full = readBytes(dir / "big.jpg");
  NECO_REQUIRE(full.size() > 1024 * 1024 + 4096);
  const neco::ImageProbe probe = neco::probeImage(dir / "big.jpg");
  NECO_CHECK(probe.width == 1000 && probe.height == 800);

  writeBytes(dir / "cut.jpg", Bytes(full.begin(), full.end() - 100));
  std::string message;
  try {
    neco::probeImage(dir / "cut.jpg");
  } catch (const neco::FormatError& e) {
    message = e.what();
  }
  NECO_CHECK(message.find("truncated JPEG") != std::string::npos);
  Bytes padded = full;
  padded.insert(padded.end(), 10000, 0);  // padding longer than the tail the probe reads first
  writeBytes(dir / "padded.jpg", padded);
  NECO_CHECK_EQ(neco::probeImage(dir / "padded.jpg").width, 1000);
  Bytes zeros = Bytes(full.begin(), full.end() - 2);
  zeros.insert(zeros.end(), 10000, 0);  // no end marker under the padding
  writeBytes(dir / "zeros.jpg", zeros);
  NECO_CHECK_THROWS(neco::FormatError, neco::probeImage(dir / "zeros.jpg"));
  // Metadata segments pushing the frame header past the first 256 KiB.
  Bytes meta(full.begin(), full.begin() + 2);
  for (int i = 0; i < 6; ++i) {
    meta.insert(meta.end(), {0xFF, 0xE1, 0xFF, 0xFF});
    meta.insert(meta.end(), 0xFFFF - 2, static_cast<std::uint8_t>(i));
  }
  meta.insert(meta.end(), full.begin() + 2, full.end());
  writeBytes(dir / "meta.jpg", meta);
  NECO_CHECK_EQ(neco::probeImage(dir / "meta.jpg").height, 800);
  NECO_CHECK_EQ(neco::readImage(dir / "meta.jpg").height, 800);
}

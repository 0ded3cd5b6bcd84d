// Our indexed-PNG codec: exact round trips, every filter type, and a typed error (never a crash) for
// each malformed input of RELIABILITY.md. Hand-made PNGs are built here with zlib and a forward
// filter written independently of the decoder's.

#include "NecoTest.h"
#include "TestFiles.h"
#include "neco/core/Error.h"
#include "neco/core/ImageIo.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#if NECO_HAVE_IMAGE_CODECS
#include <zlib.h>
#if __has_include(<opencv2/imgcodecs.hpp>)
#include <opencv2/imgcodecs.hpp>
#define NECO_PNG_TEST_HAS_OPENCV 1
#endif
#endif

// Every case exists in every build; without codecs the file-based ones skip at their first line.
#define REQUIRE_IMAGE_CODECS() \
  if (!neco::imageCodecsAvailable()) NECO_SKIP("built without image codecs")

namespace {

namespace fs = std::filesystem;
using neco::test::Bytes;
using neco::test::readBytes;
using neco::test::TempDir;
using neco::test::writeBytes;

// Deterministic test data without <random> distributions.
std::uint32_t nextRandom(std::uint64_t& state) {
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<std::uint32_t>(state >> 33);
}

neco::LabelImage randomLabels(int width, int height, std::uint64_t seed, int maxValue = 255) {
  neco::LabelImage img{width, height, Bytes(static_cast<std::size_t>(width) * height)};
  for (auto& v : img.labels) v = static_cast<std::uint8_t>(nextRandom(seed) % (maxValue + 1));
  img.labels.back() = static_cast<std::uint8_t>(maxValue);  // the top value always occurs (255 = void)
  return img;
}

bool throwsFormatOrIo(const fs::path& path) {
  try {
    neco::readPalettePng(path);
  } catch (const neco::FormatError&) {
    return true;
  } catch (const neco::IoError&) {
    return true;
  }
  return false;
}

std::string formatErrorOf(const fs::path& path) {
  try {
    neco::readPalettePng(path);
  } catch (const neco::FormatError& e) {
    return e.what();
  }
  return "(no FormatError)";
}

void appendBe32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// CRC-32 as the PNG spec defines it, bit by bit: independent of zlib's table-driven one.
std::uint32_t crc32Bitwise(const Bytes& data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::uint8_t byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

void appendChunk(Bytes& out, const std::string& type, const Bytes& data) {
  appendBe32(out, static_cast<std::uint32_t>(data.size()));
  Bytes body(type.begin(), type.end());
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  appendBe32(out, crc32Bitwise(body));
}

Bytes zlibCompress(const Bytes& raw) {
#if NECO_HAVE_IMAGE_CODECS
  Bytes out(compressBound(raw.size()));
  uLongf size = out.size();
  compress2(out.data(), &size, raw.data(), raw.size(), 6);
  out.resize(size);
  return out;
#else
  (void)raw;
  NECO_SKIP("built without image codecs");
#endif
}

int paethPredictor(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

// Forward PNG filtering (1 byte per pixel): row y uses filter filterOf(y).
Bytes filterRows(const neco::LabelImage& img, int (*filterOf)(int)) {
  Bytes out;
  for (int y = 0; y < img.height; ++y) {
    const int f = filterOf(y);
    out.push_back(static_cast<std::uint8_t>(f));
    for (int x = 0; x < img.width; ++x) {
      const int a = x > 0 ? img.at(x - 1, y) : 0, b = y > 0 ? img.at(x, y - 1) : 0;
      const int c = (x > 0 && y > 0) ? img.at(x - 1, y - 1) : 0;
      const int pred = f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : f == 4 ? paethPredictor(a, b, c) : 0;
      out.push_back(static_cast<std::uint8_t>(img.at(x, y) - pred));
    }
  }
  return out;
}

struct PngSpec {
  std::uint32_t width = 0, height = 0;
  std::uint8_t colorType = 3, bitDepth = 8, interlace = 0;
  std::vector<neco::PaletteColor> palette = neco::vocPalette();
  int idatPieces = 1;
};

Bytes makePng(const PngSpec& spec, const Bytes& compressed) {
  Bytes png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  Bytes ihdr;
  appendBe32(ihdr, spec.width);
  appendBe32(ihdr, spec.height);
  ihdr.insert(ihdr.end(), {spec.bitDepth, spec.colorType, 0, 0, spec.interlace});
  appendChunk(png, "IHDR", ihdr);
  appendChunk(png, "tEXt", Bytes{'C', 'o', 'm', 'm', 'e', 'n', 't', 0, 'h', 'i'});  // ancillary: skipped
  if (spec.colorType == 3) {
    Bytes plte;
    for (const auto& c : spec.palette) plte.insert(plte.end(), {c.r, c.g, c.b});
    appendChunk(png, "PLTE", plte);
  }
  const std::size_t piece = compressed.size() / spec.idatPieces + 1;
  for (std::size_t at = 0; at < compressed.size(); at += piece) {
    appendChunk(png, "IDAT",
                Bytes(compressed.begin() + at, compressed.begin() + std::min(compressed.size(), at + piece)));
  }
  appendChunk(png, "IEND", {});
  return png;
}

Bytes smallMaskPng(const TempDir& dir) {
  const auto path = dir / "small.png";
  neco::writePalettePng(path, randomLabels(23, 17, 5, 20), neco::vocPalette());
  return readBytes(path);
}

}  // namespace

NECO_TEST(PngCodec, roundTripAllLabels) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const int sizes[][2] = {{1, 1}, {1, 40}, {40, 1}, {257, 13}, {300, 200}};
  std::uint64_t seed = 1;
  for (const auto& wh : sizes) {
    const neco::LabelImage labels = randomLabels(wh[0], wh[1], ++seed);
    neco::writePalettePng(dir / "mask.png", labels, neco::vocPalette());
    std::vector<neco::PaletteColor> palette;
    const neco::LabelImage back = neco::readPalettePng(dir / "mask.png", &palette);
    NECO_CHECK_EQ(back.width, wh[0]);
    NECO_CHECK_EQ(back.height, wh[1]);
    NECO_CHECK(back.labels == labels.labels);
    NECO_CHECK(palette == neco::vocPalette());
  }
}

NECO_TEST(PngCodec, paletteComesBack) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const std::vector<neco::PaletteColor> palette = {{1, 2, 3}, {250, 128, 7}, {0, 255, 0}};
  neco::writePalettePng(dir / "p.png", randomLabels(31, 9, 3, 2), palette);
  std::vector<neco::PaletteColor> back;
  neco::readPalettePng(dir / "p.png", &back);
  NECO_CHECK(back == palette);
  NECO_CHECK_THROWS(neco::InvalidArgumentError,
                    neco::writePalettePng(dir / "q.png", randomLabels(4, 4, 1, 3), palette));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, neco::writePalettePng(dir / "q.png", randomLabels(4, 4, 1, 0), {}));
  NECO_CHECK_THROWS(neco::InvalidArgumentError,
                    neco::writePalettePng(dir / "q.png", neco::LabelImage{3, 3, {0}}, palette));
}

NECO_TEST(PngCodec, decodesEveryFilterTypeAndSplitIdat) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  for (std::uint8_t colorType : {std::uint8_t{3}, std::uint8_t{0}}) {
    for (int (*filterOf)(int) :
         {+[](int y) { return y % 5; }, +[](int) { return 4; }, +[](int y) { return 4 - y % 5; }}) {
      const neco::LabelImage labels = randomLabels(37, 21, 11 + colorType, 255);
      PngSpec spec;
      spec.width = 37, spec.height = 21, spec.colorType = colorType, spec.idatPieces = 3;
      writeBytes(dir / "f.png", makePng(spec, zlibCompress(filterRows(labels, filterOf))));
      std::vector<neco::PaletteColor> palette{{9, 9, 9}};
      NECO_CHECK(neco::readPalettePng(dir / "f.png", &palette).labels == labels.labels);
      NECO_CHECK_EQ(palette.size(), colorType == 3 ? std::size_t{256} : std::size_t{0});
    }
  }
}

NECO_TEST(PngCodec, rejectsBadSignatureAndEmptyFile) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  Bytes png = smallMaskPng(dir);
  png[1] = 'Q';
  writeBytes(dir / "sig.png", png);
  NECO_CHECK(formatErrorOf(dir / "sig.png").find("signature") != std::string::npos);
  writeBytes(dir / "empty.png", {});
  NECO_CHECK(formatErrorOf(dir / "empty.png").find("empty") != std::string::npos);
  NECO_CHECK_THROWS(neco::IoError, neco::readPalettePng(dir / "missing.png"));
  NECO_CHECK_THROWS(neco::IoError, neco::readPalettePng(dir / "."));  // a folder, not a file
}

NECO_TEST(PngCodec, rejectsFlippedCrcByte) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const Bytes png = smallMaskPng(dir);
  for (std::size_t at : {std::size_t{29}, std::size_t{45}, png.size() - 20}) {  // IHDR CRC, PLTE data, IDAT data
    Bytes bad = png;
    bad[at] ^= 0x01;
    writeBytes(dir / "crc.png", bad);
    NECO_CHECK(formatErrorOf(dir / "crc.png").find("CRC mismatch") != std::string::npos);
  }
}

NECO_TEST(PngCodec, everyTruncationIsAFormatError) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const Bytes png = smallMaskPng(dir);
  for (std::size_t size = 0; size < png.size(); ++size) {
    // A new name each time: overwriting one file makes ext4 flush it on every truncation (slow).
    const fs::path cut = dir / ("cut-" + std::to_string(size) + ".png");
    writeBytes(cut, Bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(size)));
    NECO_CHECK(formatErrorOf(cut) != "(no FormatError)");
  }
}

NECO_TEST(PngCodec, bitFlipsNeverCrash) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const Bytes png = smallMaskPng(dir);
  for (std::size_t at = 0; at < png.size(); ++at) {
    Bytes bad = png;
    bad[at] ^= static_cast<std::uint8_t>(1u << (at % 8));
    const fs::path flipped = dir / ("flip-" + std::to_string(at) + ".png");
    writeBytes(flipped, bad);
    try {
      neco::readPalettePng(flipped);
    } catch (const neco::Error&) {
    }  // decoding or a typed error are both fine; anything else fails the case
  }
}

NECO_TEST(PngCodec, rejectsHugeHeaderBeforeAllocating) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  PngSpec spec;
  spec.width = 100000, spec.height = 100000;
  writeBytes(dir / "huge.png", makePng(spec, zlibCompress(Bytes(64, 0))));
  NECO_CHECK(formatErrorOf(dir / "huge.png").find("100000x100000") != std::string::npos);
  spec.width = 0, spec.height = 5;
  writeBytes(dir / "zero.png", makePng(spec, zlibCompress(Bytes(5, 0))));
  NECO_CHECK(formatErrorOf(dir / "zero.png").find("invalid image dimensions") != std::string::npos);
}

NECO_TEST(PngCodec, rejectsUnsupportedLayouts) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const neco::LabelImage labels = randomLabels(8, 8, 4);
  const Bytes data = zlibCompress(filterRows(
      labels, +[](int) { return 0; }));
  PngSpec spec;
  spec.width = 8, spec.height = 8;
  spec.colorType = 2;  // truecolour
  writeBytes(dir / "rgb.png", makePng(spec, data));
  NECO_CHECK(formatErrorOf(dir / "rgb.png").find("unsupported colour type 2") != std::string::npos);
  spec.colorType = 0, spec.bitDepth = 16;
  writeBytes(dir / "g16.png", makePng(spec, data));
  NECO_CHECK(formatErrorOf(dir / "g16.png").find("bit depth 16") != std::string::npos);
  spec.bitDepth = 8, spec.interlace = 1;
  writeBytes(dir / "adam7.png", makePng(spec, data));
  NECO_CHECK(formatErrorOf(dir / "adam7.png").find("interlace") != std::string::npos);
  spec.interlace = 0;
  writeBytes(dir / "f9.png", makePng(spec, zlibCompress(Bytes(72, 9))));  // every row claims filter type 9
  NECO_CHECK(formatErrorOf(dir / "f9.png").find("invalid filter type 9") != std::string::npos);
}

NECO_TEST(PngCodec, rejectsWrongDecompressedSizeAndInflateErrors) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  PngSpec spec;
  spec.width = 8, spec.height = 8;
  writeBytes(dir / "short.png", makePng(spec, zlibCompress(Bytes(8 * 9 - 1, 0))));
  NECO_CHECK(formatErrorOf(dir / "short.png").find("wrong decompressed size") != std::string::npos);
  writeBytes(dir / "long.png", makePng(spec, zlibCompress(Bytes(100000, 0))));  // a small zlib bomb
  NECO_CHECK(formatErrorOf(dir / "long.png").find("wrong decompressed size") != std::string::npos);
  writeBytes(dir / "garbage.png", makePng(spec, Bytes{0x12, 0x34, 0x56, 0x78, 0x9A}));
  NECO_CHECK(formatErrorOf(dir / "garbage.png").find("inflate error") != std::string::npos);
  Bytes cut = zlibCompress(Bytes(72, 0));
  cut.resize(cut.size() - 4);  // no Adler-32 trailer
  writeBytes(dir / "noend.png", makePng(spec, cut));
  NECO_CHECK(throwsFormatOrIo(dir / "noend.png"));
}

NECO_TEST(PngCodec, opencvSeesThePaletteColours) {
  REQUIRE_IMAGE_CODECS();
  TempDir dir;
  const neco::LabelImage labels = randomLabels(61, 47, 77);
  const std::vector<neco::PaletteColor> palette = neco::vocPalette();
  neco::writePalettePng(dir / "x.png", labels, palette);
#ifdef NECO_PNG_TEST_HAS_OPENCV
  const cv::Mat bgr = cv::imread((dir / "x.png").string(), cv::IMREAD_COLOR);  // libpng, not our decoder
  NECO_REQUIRE(bgr.cols == 61 && bgr.rows == 47 && bgr.type() == CV_8UC3);
  for (int y = 0; y < 47; ++y) {
    for (int x = 0; x < 61; ++x) {
      const cv::Vec3b& p = bgr.at<cv::Vec3b>(y, x);
      const neco::PaletteColor c = palette[labels.at(x, y)];
      NECO_REQUIRE(p[2] == c.r && p[1] == c.g && p[0] == c.b);
    }
  }
#else
  // Without OpenCV's headers on this target's include path, readImage still routes through libpng.
  const neco::RgbImage rgb = neco::readImage(dir / "x.png");
  NECO_REQUIRE(rgb.width == 61 && rgb.height == 47);
  for (int y = 0; y < 47; ++y) {
    for (int x = 0; x < 61; ++x) {
      const neco::PaletteColor c = palette[labels.at(x, y)];
      NECO_REQUIRE(rgb.at(x, y)[0] == c.r && rgb.at(x, y)[1] == c.g && rgb.at(x, y)[2] == c.b);
    }
  }
#endif
}

NECO_TEST(PngCodec, unsupportedWithoutCodecs) {
  NECO_CHECK_EQ(neco::imageCodecsAvailable(), NECO_HAVE_IMAGE_CODECS != 0);
  if (neco::imageCodecsAvailable()) return;
  NECO_CHECK_THROWS(neco::UnsupportedError, neco::readPalettePng("any.png"));
  NECO_CHECK_THROWS(neco::UnsupportedError,
                    neco::writePalettePng("any.png", randomLabels(2, 2, 1), neco::vocPalette()));
}

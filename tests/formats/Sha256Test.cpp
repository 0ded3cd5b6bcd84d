// SHA-256 against the FIPS 180-4 / NIST example vectors and CRC-32 against the standard check
// value; both streamed in awkward chunk sizes to exercise the block-boundary paths.
#include "NecoTest.h"
#include "TestFiles.h"
#include "formats/Sha256.h"
#include "neco/core/Error.h"

#include <string>
#include <vector>

using namespace neco::formats;

namespace {

std::string hexOf(const std::string& s) {
  return sha256Hex(s.data(), s.size());
}

}  // namespace

NECO_TEST(Sha256, nistShortVectors) {
  NECO_CHECK_EQ(hexOf(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  NECO_CHECK_EQ(hexOf("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  NECO_CHECK_EQ(hexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  NECO_CHECK_EQ(hexOf("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                      "mnopqrstnopqrstu"),
                std::string("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));
  NECO_CHECK_EQ(sha256Hex(nullptr, 0), hexOf(""));
}

NECO_TEST(Sha256, oneMillionAStreamedInOddChunks) {
  const std::string block(1000, 'a');
  const std::size_t chunkSizes[] = {1, 63, 64, 65, 7, 127, 128, 999};
  Sha256 hash;
  std::size_t done = 0;
  for (std::size_t i = 0; done < 1000000; ++i) {
    const std::size_t n = std::min(chunkSizes[i % 8], std::min<std::size_t>(1000, 1000000 - done));
    hash.update(block.data(), n);
    done += n;
  }
  NECO_CHECK_EQ(toHex(hash.finish()), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  // finish() resets: the same object hashes the next message from scratch.
  hash.update("abc", 3);
  NECO_CHECK_EQ(toHex(hash.finish()), hexOf("abc"));
}

NECO_TEST(Sha256, paddingBoundaryLengths) {
  // Lengths around 55/56/64 bytes take the one- vs two-block padding paths; streamed byte by byte
  // they must match the one-shot digest.
  for (std::size_t len : {55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u}) {
    const std::string message(len, 'x');
    Sha256 hash;
    for (char c : message) hash.update(&c, 1);
    NECO_CHECK_EQ(toHex(hash.finish()), hexOf(message));
  }
  NECO_CHECK_EQ(hexOf(std::string(56, 'a')),
                std::string("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"));
}

NECO_TEST(Sha256, fileMatchesBufferAndMissingFileThrows) {
  neco::test::TempDir dir;
  neco::test::Bytes bytes(3u << 20);  // three 1 MiB chunks plus change below
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 31 + 7);
  bytes.resize(bytes.size() + 12345);
  neco::test::writeBytes(dir / "blob.bin", bytes);
  NECO_CHECK_EQ(sha256OfFile(dir / "blob.bin"), sha256Hex(bytes.data(), bytes.size()));
  neco::test::writeBytes(dir / "empty.bin", {});
  NECO_CHECK_EQ(sha256OfFile(dir / "empty.bin"), hexOf(""));
  NECO_CHECK_THROWS(neco::IoError, sha256OfFile(dir / "missing.bin"));
  NECO_CHECK_THROWS(neco::IoError, sha256OfFile(dir.path()));  // a directory cannot be read
}

NECO_TEST(Sha256, crc32CheckValueAndIncremental) {
  const std::string check = "123456789";
  NECO_CHECK_EQ(crc32(check.data(), check.size()), 0xCBF43926u);
  NECO_CHECK_EQ(crc32(nullptr, 0), 0u);
  const std::string text = "The quick brown fox jumps over the lazy dog";
  NECO_CHECK_EQ(crc32(text.data(), text.size()), 0x414FA339u);
  for (std::size_t split = 0; split <= text.size(); ++split) {
    const std::uint32_t first = crc32(text.data(), split);
    NECO_CHECK_EQ(crc32(text.data() + split, text.size() - split, first), crc32(text.data(), text.size()));
  }
}

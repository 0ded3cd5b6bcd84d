#include "NecoTest.h"
#include "TestFiles.h"
#include "ZipBuilder.h"
#include "formats/MappedFile.h"
#include "formats/ZipArchive.h"
#include "neco/core/Error.h"

#include <cstdlib>
#include <filesystem>

using namespace neco::formats;
using neco::test::Bytes;
using neco::test::ZipMember;
using neco::test::ZipOptions;

namespace {

std::filesystem::path dataDir() {
  const char* dir = std::getenv("NECO_TEST_DATA_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path("tests/data");
}

ByteView view(Bytes bytes) {
  return viewOf(std::make_shared<const Bytes>(std::move(bytes)));
}

ZipArchive parseBytes(Bytes bytes) {
  return ZipArchive::parse(view(std::move(bytes)), "test.zip");
}

/// The FormatError message of parsing `bytes`, or "" when it parses.
std::string formatErrorOf(Bytes bytes) {
  try {
    parseBytes(std::move(bytes));
  } catch (const neco::FormatError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Bytes twoEntries(const ZipOptions& options = {}, bool descriptor = false) {
  return neco::test::buildZip({ZipMember{"archive/data.pkl", neco::test::textBytes("pickle"), 0, 0, 0, descriptor},
                               ZipMember{"archive/data/0", Bytes(100, 7), 0, 0, 0, descriptor, true}},
                              options)
      .flat();
}

}  // namespace

NECO_TEST(ZipArchive, readsTorchSaveArchive) {
  const std::filesystem::path path = dataDir() / "torch" / "state_dict.pth";
  const ByteView file = mapFile(path);
  NECO_REQUIRE(looksLikeZip(file));
  const ZipArchive zip = ZipArchive::parse(file, path);
  NECO_CHECK(zip.source() == path);
  NECO_REQUIRE(zip.find("state_dict/data.pkl") != nullptr);
  NECO_REQUIRE(zip.find("state_dict/version") != nullptr);
  NECO_CHECK(zip.find("state_dict/missing") == nullptr);
  NECO_CHECK(zip.find("") == nullptr);
  NECO_CHECK_EQ(std::string(zip.data(*zip.find("state_dict/version")).chars()), std::string("3\n"));
  for (const ZipEntry& e : zip.entries()) {
    NECO_CHECK_EQ(e.method, 0);
    NECO_CHECK_EQ(e.size, e.compressedSize);
    NECO_CHECK(zip.crcMatches(e));
    if (e.name.find("/data/") != std::string::npos) NECO_CHECK_EQ(e.dataOffset % 64, 0u);  // torch aligns storages
  }
}

NECO_TEST(ZipArchive, storedEntriesRoundTrip) {
  for (const bool descriptor : {false, true}) {
    for (const bool zip64 : {false, true}) {
      ZipOptions options;
      options.zip64 = zip64;
      options.comment = zip64 ? "" : "a comment";
      const ZipArchive zip = parseBytes(twoEntries(options, descriptor));
      NECO_REQUIRE(zip.entries().size() == 2);
      NECO_CHECK_EQ(zip.entries()[0].name, std::string("archive/data.pkl"));
      NECO_CHECK_EQ(std::string(zip.data(zip.entries()[0]).chars()), std::string("pickle"));
      const ZipEntry* storage = zip.find("archive/data/0");
      NECO_REQUIRE(storage != nullptr);
      NECO_CHECK_EQ(storage->size, 100u);
      NECO_CHECK_EQ(storage->dataOffset % 64, 0u);
      NECO_CHECK(zip.crcMatches(*storage));
      NECO_CHECK_EQ(static_cast<int>(zip.data(*storage).data[99]), 7);
    }
  }
}

NECO_TEST(ZipArchive, emptyArchive) {
  const ZipArchive zip = parseBytes(neco::test::buildZip({}).flat());
  NECO_CHECK(zip.entries().empty());
  NECO_CHECK(zip.find("x") == nullptr);
}

NECO_TEST(ZipArchive, sparseZip64FileBeyond4GiB) {
  // The layout of a 4.4 GB torch checkpoint: the first storage passes 4 GiB, so later local headers
  // need zip64 offsets; the file is sparse and costs a few kilobytes of disk.
  constexpr std::uint64_t kBig = 4'400'000'000ull;
  ZipMember big{"big/data/0", {}, kBig, 0, 0, true, true};
  ZipMember version{"big/version", neco::test::textBytes("3\n"), 0, 0, 0, true, true};
  ZipOptions options;
  options.zip64 = true;
  const neco::test::ZipImage image = neco::test::buildZip({big, version}, options);
  neco::test::TempDir dir("neco-zip64");
  const std::filesystem::path path = dir / "big.pth";
  if (!image.writeSparse(path) || std::filesystem::file_size(path) != image.size) NECO_SKIP("no sparse files here");
  const ZipArchive zip = ZipArchive::parse(mapFile(path), path);
  NECO_REQUIRE(zip.entries().size() == 2);
  NECO_CHECK_EQ(zip.entries()[0].size, kBig);
  NECO_CHECK_EQ(zip.entries()[0].dataOffset % 64, 0u);
  const ZipEntry* v = zip.find("big/version");
  NECO_REQUIRE(v != nullptr);
  NECO_CHECK(v->dataOffset > kBig);
  NECO_CHECK_EQ(std::string(zip.data(*v).chars()), std::string("3\n"));
  NECO_CHECK(zip.crcMatches(*v));
}

NECO_TEST(ZipArchive, refusesUnsafeNames) {
  const std::pair<const char*, const char*> cases[] = {
      {"../evil", "'..' component"},    {"archive/../../evil", "'..' component"},
      {"archive/..", "'..' component"}, {"/etc/passwd", "absolute"},
      {"C:evil", "absolute"},           {"archive\\evil", "backslash"},
  };
  for (const auto& [name, reason] : cases) {
    const std::string message = formatErrorOf(neco::test::buildZip({ZipMember{name, Bytes(3, 1)}}).flat());
    NECO_CHECK(contains(message, reason));
    NECO_CHECK(contains(message, "test.zip: zip entry '"));
  }
  NECO_CHECK(formatErrorOf(neco::test::buildZip({ZipMember{"a..b/..c", Bytes(1, 1)}}).flat()).empty());
  const std::string dup =
      formatErrorOf(neco::test::buildZip({ZipMember{"a", Bytes(1, 1)}, ZipMember{"a", Bytes(1, 2)}}).flat());
  NECO_CHECK(contains(dup, "zip entry 'a': appears twice"));
}

NECO_TEST(ZipArchive, refusesEncryptedEntries) {
  ZipMember m{"secret", Bytes(4, 1)};
  m.flags = 1;
  NECO_CHECK(contains(formatErrorOf(neco::test::buildZip({m}).flat()), "encrypted"));
}

NECO_TEST(ZipArchive, deflatedEntriesAreListedButNotRead) {
  ZipMember m{"archive/data/0", Bytes(10, 0)};
  m.method = 8;
  const ZipArchive zip = parseBytes(neco::test::buildZip({m}).flat());
  NECO_REQUIRE(zip.entries().size() == 1);
  NECO_CHECK_EQ(zip.entries()[0].method, 8);
  try {
    zip.data(zip.entries()[0]);
    NECO_CHECK(false);
  } catch (const neco::UnsupportedError& e) {
    NECO_CHECK(contains(e.what(), "'archive/data/0' is deflated (method 8)"));
    NECO_CHECK(contains(e.what(), "zip bombs"));
  }
  NECO_CHECK_THROWS(neco::UnsupportedError, zip.crcMatches(zip.entries()[0]));
  m.method = 12;  // bzip2
  const ZipArchive other = parseBytes(neco::test::buildZip({m}).flat());
  NECO_CHECK_THROWS(neco::UnsupportedError, other.data(other.entries()[0]));
}

NECO_TEST(ZipArchive, crcMismatchIsReported) {
  const neco::test::ZipImage image = neco::test::buildZip({ZipMember{"x", Bytes(50, 3)}});
  Bytes bytes = image.flat();
  bytes[30 + 1 + 10] ^= 0x40;  // a data byte of the only entry
  const ZipArchive zip = parseBytes(bytes);
  NECO_CHECK(!zip.crcMatches(zip.entries()[0]));
}

NECO_TEST(ZipArchive, truncatedOrNotZip) {
  NECO_CHECK(contains(formatErrorOf(Bytes(10, 0)), "too short"));
  NECO_CHECK(contains(formatErrorOf(Bytes(1000, 'P')), "no zip end-of-central-directory"));
  Bytes whole = twoEntries();
  for (std::size_t cut : {whole.size() / 2, whole.size() - 1, std::size_t{30}}) {
    NECO_CHECK(!formatErrorOf(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut))).empty());
  }
  whole.push_back(0);  // trailing byte after the end record
  NECO_CHECK(!formatErrorOf(whole).empty());
  NECO_CHECK(!looksLikeZip(view(Bytes{'P', 'K'})));
}

NECO_TEST(ZipArchive, localHeaderMustAgree) {
  const neco::test::ZipImage image = neco::test::buildZip({ZipMember{"name", Bytes(8, 1)}});
  Bytes renamed = image.flat();
  renamed[30] = 'N';  // local name "Name"
  NECO_CHECK(contains(formatErrorOf(renamed), "local header names 'Name'"));
  Bytes method = image.flat();
  neco::test::poke16(method, 8, 8);
  NECO_CHECK(contains(formatErrorOf(method), "disagree on the method"));
  Bytes size = image.flat();
  neco::test::poke32(size, 22, 9);  // local uncompressed size
  NECO_CHECK(contains(formatErrorOf(size), "disagree on sizes or CRC"));
  Bytes signature = image.flat();
  signature[0] = 'X';
  NECO_CHECK(contains(formatErrorOf(signature), "no local header"));
}

NECO_TEST(ZipArchive, centralDirectoryFieldsAreChecked) {
  const neco::test::ZipImage image = neco::test::buildZip({ZipMember{"a", Bytes(8, 1)}, ZipMember{"b", Bytes(8, 2)}});
  const std::size_t cd = static_cast<std::size_t>(image.centralOffset);
  const std::size_t second = cd + 46 + 1;
  Bytes storedSize = image.flat();
  neco::test::poke32(storedSize, cd + 20, 7);  // compressed size != size for a stored entry
  NECO_CHECK(contains(formatErrorOf(storedSize), "stored entry with compressed size 7 != size 8"));
  Bytes runsPast = image.flat();
  neco::test::poke32(runsPast, second + 20, 1000);
  neco::test::poke32(runsPast, second + 24, 1000);
  NECO_CHECK(!formatErrorOf(runsPast).empty());
  Bytes offset = image.flat();
  neco::test::poke32(offset, second + 42, 0xfffffff0u);
  NECO_CHECK(contains(formatErrorOf(offset), "outside the data area"));
  Bytes saturated = image.flat();
  neco::test::poke32(saturated, cd + 20, 0xffffffffu);
  neco::test::poke32(saturated, cd + 24, 0xffffffffu);
  NECO_CHECK(contains(formatErrorOf(saturated), "no zip64 extra field"));
  Bytes signature = image.flat();
  signature[cd] = 'X';
  NECO_CHECK(contains(formatErrorOf(signature), "central directory header signature"));
  Bytes count = image.flat();
  neco::test::poke16(count, count.size() - 12, 3);
  neco::test::poke16(count, count.size() - 14, 3);
  NECO_CHECK(!formatErrorOf(count).empty());
  Bytes disk = image.flat();
  neco::test::poke16(disk, disk.size() - 18, 1);
  NECO_CHECK(contains(formatErrorOf(disk), "multi-disk"));
}

NECO_TEST(ZipArchive, overlappingEntriesAreRefused) {
  // Two central entries whose data overlap: the second local header lies inside the first's data.
  const neco::test::ZipImage image =
      neco::test::buildZip({ZipMember{"a", Bytes(8, 1), 0, 0, 0, true}, ZipMember{"b", Bytes(8, 2), 0, 0, 0, true}});
  Bytes bytes = image.flat();
  const std::size_t cd = static_cast<std::size_t>(image.centralOffset);
  neco::test::poke32(bytes, cd + 20, 40);
  neco::test::poke32(bytes, cd + 24, 40);
  NECO_CHECK(contains(formatErrorOf(bytes), "overlaps entry 'a'"));
}

NECO_TEST(ZipArchive, zip64RecordsAreChecked) {
  ZipOptions options;
  options.zip64 = true;
  const Bytes good = twoEntries(options);
  NECO_CHECK(formatErrorOf(good).empty());
  const std::size_t end = good.size() - 22, locator = end - 20, record = locator - 56;
  Bytes disagree = good;
  neco::test::poke16(disagree, end + 10, 1);  // end record says 1 entry, zip64 record 2
  neco::test::poke16(disagree, end + 8, 1);
  NECO_CHECK(contains(formatErrorOf(disagree), "disagree"));
  Bytes tooMany = good;
  neco::test::poke32(tooMany, record + 24, 2'000'000);
  neco::test::poke32(tooMany, record + 32, 2'000'000);
  NECO_CHECK(contains(formatErrorOf(tooMany), "exceed the limit"));
  Bytes crowded = good;
  neco::test::poke32(crowded, record + 24, 1000);
  neco::test::poke32(crowded, record + 32, 1000);
  NECO_CHECK(contains(formatErrorOf(crowded), "too small for its entry count"));
  Bytes lost = good;
  neco::test::poke32(lost, locator + 8, 0x7fffffff);
  NECO_CHECK(contains(formatErrorOf(lost), "zip64 end record lies outside"));
  Bytes outside = good;
  neco::test::poke32(outside, record + 48, 0x7ffffff0);  // directory offset
  NECO_CHECK(contains(formatErrorOf(outside), "central directory lies outside"));
  Bytes noLocator = good;
  noLocator[locator] = 'X';
  NECO_CHECK(contains(formatErrorOf(noLocator), "zip64 records that are missing"));
  Bytes shortExtra = good;
  // The first central entry's zip64 extra claims 8 bytes: the offset field is then missing.
  const std::size_t cd = shortExtra.size() - 22 - 20 - 56 - 2 * (46 + 28) - std::string("archive/data.pkl").size() -
                         std::string("archive/data/0").size();
  neco::test::poke16(shortExtra, cd + 46 + 16 + 2, 8);
  NECO_CHECK(!formatErrorOf(shortExtra).empty());
}

// safetensors writer -> reader round trips, the atomic write, and one hand-built file per rule of
// the reference parser (RELIABILITY.md, promise 3). Files of the committed malformed corpus are
// checked in MalformedCorpusTest.cpp.
#include "NecoTest.h"
#include "TestFiles.h"
#include "formats/AtomicFile.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"

#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include <sys/resource.h>

using namespace neco::formats;
using neco::test::Bytes;

namespace {

RawTensor patternTensor(DType dtype, std::vector<std::int64_t> shape, std::uint8_t seed) {
  RawTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.strides = RawTensor::contiguousStrides(t.shape);
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(t.numel()) * dtypeSize(dtype));
  for (std::size_t i = 0; i < bytes->size(); ++i) bytes->at(i) = static_cast<std::uint8_t>(seed + 7 * i);
  if (dtype == DType::Bool) {
    for (auto& b : *bytes) b &= 1;
  }
  t.storage = viewOf(bytes);
  return t;
}

ByteView viewOfBytes(Bytes bytes) {
  return viewOf(std::make_shared<const Bytes>(std::move(bytes)));
}

SafetensorsFile parseBytes(const Bytes& bytes) {
  return parseSafetensors(viewOfBytes(bytes), "test.safetensors");
}

/// [u64 length][header][dataBytes zero bytes]: the hand-built files of the rejection tests.
Bytes fileWith(const std::string& header, std::size_t dataBytes = 0) {
  Bytes out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + dataBytes, 0);
  return out;
}

Bytes withLength(std::uint64_t length, std::size_t totalSize) {
  Bytes out(totalSize, '{');
  for (int i = 0; i < 8 && i < static_cast<int>(totalSize); ++i) out[i] = static_cast<std::uint8_t>(length >> (8 * i));
  return out;
}

/// "FormatError: <message>", "UnsupportedError: <message>", "accepted" or "other: <message>".
std::string outcome(const Bytes& bytes) {
  try {
    parseBytes(bytes);
    return "accepted";
  } catch (const neco::FormatError& e) {
    return std::string("FormatError: ") + e.what();
  } catch (const neco::UnsupportedError& e) {
    return std::string("UnsupportedError: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
}

#define CHECK_REJECTED(kind, bytes, needle)                                                               \
  do {                                                                                                    \
    const std::string got_ = outcome(bytes);                                                              \
    if (got_.rfind(kind ": test.safetensors: ", 0) != 0 || got_.find(needle) == std::string::npos)        \
      ::neco::test::reportFailure(__FILE__, __LINE__,                                                     \
                                  std::string("expected " kind " with '") + (needle) + "', got " + got_); \
  } while (0)

bool sameBytes(const RawTensor& a, const RawTensor& b) {
  return a.contiguousBytes() == b.contiguousBytes();
}

std::size_t filesIn(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

NECO_TEST(Safetensors, roundTripsEveryDtypeScalarAndEmptyTensor) {
  TensorList in;
  std::uint8_t seed = 1;
  for (DType d : {DType::Bool, DType::U8, DType::I8, DType::I16, DType::I32, DType::I64, DType::F16, DType::BF16,
                  DType::F32, DType::F64}) {
    in.push_back({std::string("t.") + dtypeName(d), patternTensor(d, {2, 3}, seed++)});
  }
  in.push_back({"scalar", patternTensor(DType::F32, {}, 9)});
  in.push_back({"empty", patternTensor(DType::F16, {0, 4}, 0)});
  in.push_back({"after.empty", patternTensor(DType::I8, {5}, 3)});
  const Bytes bytes = serializeSafetensors(in);
  std::uint64_t headerLength = 0;
  std::memcpy(&headerLength, bytes.data(), 8);
  NECO_CHECK_EQ(headerLength % 8, 0u);
  NECO_CHECK(looksLikeSafetensors(viewOfBytes(bytes)));

  const SafetensorsFile out = parseBytes(bytes);
  NECO_REQUIRE(out.tensors.size() == in.size());
  NECO_CHECK(out.metadata.empty());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const RawTensor& t = out.tensors[i].tensor;
    NECO_CHECK_EQ(out.tensors[i].name, in[i].name);
    NECO_CHECK(t.dtype == in[i].tensor.dtype);
    NECO_CHECK(t.shape == in[i].tensor.shape);
    NECO_CHECK(t.strides == RawTensor::contiguousStrides(t.shape));
    NECO_CHECK_EQ(t.storageOffset, 0);
    NECO_CHECK(checkTensorBounds(t).empty());
    NECO_CHECK(sameBytes(t, in[i].tensor));
  }
  NECO_CHECK(out.tensors[10].tensor.shape.empty());
  NECO_CHECK_EQ(out.tensors[11].tensor.storage.size, 0u);
  // Writing what was read reproduces the file byte for byte.
  NECO_CHECK(serializeSafetensors(out.tensors) == bytes);
}

NECO_TEST(Safetensors, nonContiguousViewsAreWrittenRowMajor) {
  RawTensor base = patternTensor(DType::F32, {2, 3}, 0);
  RawTensor transposed = base;
  transposed.shape = {3, 2};
  transposed.strides = {1, 3};
  RawTensor offsetRow = base;  // row 1 of base: a contiguous view that does not start at 0
  offsetRow.shape = {3};
  offsetRow.strides = {1};
  offsetRow.storageOffset = 3;
  const SafetensorsFile out = parseBytes(serializeSafetensors({{"t", transposed}, {"row", offsetRow}}));
  NECO_REQUIRE(out.tensors.size() == 2);
  NECO_CHECK(out.tensors[0].tensor.contiguousBytes() == transposed.contiguousBytes());
  for (std::int64_t i = 0; i < 6; ++i) NECO_CHECK_EQ(out.tensors[0].tensor.valueAt(i), transposed.valueAt(i));
  for (std::int64_t i = 0; i < 3; ++i) NECO_CHECK_EQ(out.tensors[1].tensor.valueAt(i), base.valueAt(3 + i));
}

NECO_TEST(Safetensors, metadataRoundTripsInOrder) {
  const Metadata metadata = {
      {"format", "pt"}, {"quote\"and\\slash", "line\nbreak"}, {"unicode", "Zürich \xe2\x9c\x93"}, {"a", ""}};
  const SafetensorsFile out = parseBytes(serializeSafetensors({{"w", patternTensor(DType::U8, {3}, 1)}}, metadata));
  NECO_CHECK(out.metadata == metadata);
  const SafetensorsFile onlyMetadata = parseBytes(serializeSafetensors({}, metadata));
  NECO_CHECK(onlyMetadata.tensors.empty());
  NECO_CHECK(onlyMetadata.metadata == metadata);
}

NECO_TEST(Safetensors, tensorsComeBackSortedByOffset) {
  // Header order b, a; data order a, b. Two empty tensors share offset 8 with the end of 'a'.
  const Bytes bytes = fileWith(R"({"b":{"dtype":"U8","shape":[2],"data_offsets":[8,10]},)"
                               R"("z":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},)"
                               R"("a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
                               R"("y":{"dtype":"I8","shape":[3,0],"data_offsets":[8,8]}}   )",
                               10);
  const ByteView view = viewOfBytes(bytes);
  const SafetensorsFile out = parseSafetensors(view, "test.safetensors");
  NECO_REQUIRE(out.tensors.size() == 4);
  NECO_CHECK_EQ(out.tensors[0].name, std::string("a"));
  NECO_CHECK_EQ(out.tensors[1].name, std::string("z"));  // ties keep header order
  NECO_CHECK_EQ(out.tensors[2].name, std::string("y"));
  NECO_CHECK_EQ(out.tensors[3].name, std::string("b"));
  const std::uint8_t* dataSection = view.data + view.size - 10;  // views into the buffer, no copies
  NECO_CHECK(out.tensors[0].tensor.storage.data == dataSection);
  NECO_CHECK(out.tensors[3].tensor.storage.data == dataSection + 8);
  NECO_CHECK_EQ(out.tensors[3].tensor.storage.size, 2u);
}

NECO_TEST(Safetensors, readsAndWritesFilesAtomically) {
  neco::test::TempDir dir;
  const auto path = dir / "model.safetensors";
  const TensorList tensors = {{"w", patternTensor(DType::BF16, {4, 2}, 5)}, {"b", patternTensor(DType::F32, {2}, 8)}};
  writeSafetensors(path, tensors, {{"epoch", "3"}});
  NECO_CHECK(neco::test::readBytes(path) == serializeSafetensors(tensors, {{"epoch", "3"}}));
  NECO_CHECK_EQ(filesIn(dir.path()), 1u);
  const SafetensorsFile back = readSafetensors(path);
  NECO_REQUIRE(back.tensors.size() == 2);
  NECO_CHECK(sameBytes(back.tensors[0].tensor, tensors[0].tensor));
  NECO_CHECK(back.metadata == (Metadata{{"epoch", "3"}}));

  // Invalid input throws before anything is written: the existing file and folder are untouched.
  const Bytes before = neco::test::readBytes(path);
  RawTensor outside = tensors[0].tensor;
  outside.storageOffset = 1;
  const std::vector<TensorList> invalid = {{{"w", tensors[0].tensor}, {"w", tensors[1].tensor}},
                                           {{"", tensors[0].tensor}},
                                           {{"__metadata__", tensors[0].tensor}},
                                           {{"bad\xff", tensors[0].tensor}},
                                           {{"outside", outside}}};
  for (const TensorList& list : invalid) NECO_CHECK_THROWS(neco::InvalidArgumentError, writeSafetensors(path, list));
  NECO_CHECK_THROWS(neco::InvalidArgumentError, writeSafetensors(path, tensors, {{"k", "1"}, {"k", "2"}}));
  NECO_CHECK(neco::test::readBytes(path) == before);
  NECO_CHECK_EQ(filesIn(dir.path()), 1u);
  NECO_CHECK_THROWS(neco::IoError, writeSafetensors(dir / "missing-folder" / "x.safetensors", tensors));
  NECO_CHECK_THROWS(neco::IoError, readSafetensors(dir / "missing.safetensors"));
}

NECO_TEST(Safetensors, atomicWriterTouchesNothingWithoutCommit) {
  neco::test::TempDir dir;
  const auto path = dir / "state.bin";
  neco::test::writeBytes(path, {1, 2, 3});
  {
    AtomicFileWriter writer(path);
    writer.write("abcdef", 6);
    NECO_CHECK(writer.tempPath().parent_path() == dir.path());
    NECO_CHECK(writer.tempPath().filename().string().rfind(".state.bin.tmp-", 0) == 0);
    NECO_CHECK_EQ(filesIn(dir.path()), 2u);
  }  // destroyed without commit
  NECO_CHECK(neco::test::readBytes(path) == (Bytes{1, 2, 3}));
  NECO_CHECK_EQ(filesIn(dir.path()), 1u);
  {
    AtomicFileWriter writer(path);
    writer.write("xy", 2);
    writer.write(nullptr, 0);
    writer.commit();
    NECO_CHECK_THROWS(neco::IoError, writer.write("z", 1));
    NECO_CHECK_THROWS(neco::IoError, writer.commit());
  }
  NECO_CHECK(neco::test::readBytes(path) == (Bytes{'x', 'y'}));
  writeFileAtomically(dir / "new.bin", "q", 1);
  NECO_CHECK(neco::test::readBytes(dir / "new.bin") == (Bytes{'q'}));
  NECO_CHECK_EQ(filesIn(dir.path()), 2u);
}

NECO_TEST(Safetensors, failedWriteKeepsTheOldFileAndNoTemporary) {
  // A real OS write failure: RLIMIT_FSIZE makes write() fail with EFBIG (SIGXFSZ ignored).
  neco::test::TempDir dir;
  const auto path = dir / "model.safetensors";
  neco::test::writeBytes(path, {1, 2, 3});
  rlimit old{};
  NECO_REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  if (old.rlim_max != RLIM_INFINITY && old.rlim_max < 4096) NECO_SKIP("RLIMIT_FSIZE already tiny");
  const auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit tiny = old;
  tiny.rlim_cur = 1024;
  NECO_REQUIRE(::setrlimit(RLIMIT_FSIZE, &tiny) == 0);
  std::string message;
  try {
    writeSafetensors(path, {{"big", patternTensor(DType::F32, {1024}, 1)}});
  } catch (const neco::IoError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previousHandler);
  NECO_CHECK(message.find(path.string() + ": cannot write") == 0);
  NECO_CHECK(neco::test::readBytes(path) == (Bytes{1, 2, 3}));
  NECO_CHECK_EQ(filesIn(dir.path()), 1u);
}

NECO_TEST(Safetensors, rejectsBadLengthPrefix) {
  CHECK_REJECTED("FormatError", Bytes{}, "file is 0 bytes");
  CHECK_REJECTED("FormatError", Bytes(7, 0), "file is 7 bytes");
  CHECK_REJECTED("FormatError", withLength(100'000'001, 64), "exceeds the limit");
  CHECK_REJECTED("FormatError", withLength(~std::uint64_t{0}, 64), "exceeds the limit");
  CHECK_REJECTED("FormatError", withLength(57, 64), "header length 57 runs past the end of the 64-byte file");
  NECO_CHECK_EQ(outcome(withLength(56, 64)).find("runs past"), std::string::npos);  // exactly fits: next rule
  CHECK_REJECTED("FormatError", fileWith(""), "does not start with '{'");
  CHECK_REJECTED("FormatError", fileWith(" {}"), "does not start with '{'");
  CHECK_REJECTED("FormatError", fileWith("[]"), "does not start with '{'");
  NECO_CHECK(!looksLikeSafetensors(viewOfBytes(fileWith("[]"))));
  NECO_CHECK(!looksLikeSafetensors(viewOfBytes(withLength(100, 64))));
  NECO_CHECK(looksLikeSafetensors(viewOfBytes(fileWith("{}"))));
}

NECO_TEST(Safetensors, rejectsHeadersThatAreNotTheExpectedJson) {
  NECO_CHECK_EQ(outcome(fileWith("{}")), std::string("accepted"));
  NECO_CHECK_EQ(outcome(fileWith("{}      ")), std::string("accepted"));  // the writer's space padding
  CHECK_REJECTED("FormatError", fileWith("{"), "not valid JSON");
  CHECK_REJECTED("FormatError", fileWith("{} x"), "not valid JSON");
  CHECK_REJECTED("FormatError", fileWith(std::string("{}\0garbage", 10)), "NUL byte");
  CHECK_REJECTED("FormatError", fileWith("{\"\xff\xfe\":1}"), "not valid JSON");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":1})"), "tensor 'a': entry is a number, not an object");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":[]})"), "tensor 'a': entry is an array");
  CHECK_REJECTED("FormatError", fileWith(R"({"__metadata__":[]})"), "__metadata__ is an array, not an object");
  CHECK_REJECTED("FormatError", fileWith(R"({"__metadata__":null})"), "__metadata__ is null");
  CHECK_REJECTED("FormatError", fileWith(R"({"__metadata__":{"k":1}})"), "__metadata__ value of 'k' is a number");
  CHECK_REJECTED("FormatError", fileWith(R"({"__metadata__":{"k":{}}})"), "value of 'k' is an object");
  CHECK_REJECTED("FormatError", fileWith(R"({"__metadata__":{"k":"1","k":"2"}})"),
                 "__metadata__ key 'k' appears twice");
  const std::string a = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  CHECK_REJECTED("FormatError", fileWith("{\"a\":" + a + ",\"a\":" + a + "}", 1), "key 'a' appears twice");
  CHECK_REJECTED("FormatError", fileWith("{\"\":" + a + "}", 1), "empty name");
  CHECK_REJECTED("FormatError", fileWith(R"({"a\u0001":{}})"), "tensor 'a\\x01': missing field 'dtype'");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":{"dtype":"U8","shape":[1]}})"), "missing field 'data_offsets'");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":{"dtype":"U8","data_offsets":[0,1]}})"), "missing field 'shape'");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":{"dtype":"U8","dtype":"U8"}})"), "field 'dtype' appears twice");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":{"dtype":"U8","extra":1}})"), "unexpected field 'extra'");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":{"dtype":8}})"), "dtype is a number, not a string");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":{"shape":{}}})"), "shape is an object, not an array");
  CHECK_REJECTED("FormatError", fileWith(R"({"a":{"shape":[[1]]}})"), "shape holds an array");
}

NECO_TEST(Safetensors, rejectsBadFieldValues) {
  auto one = [](const std::string& dtype, const std::string& shape, const std::string& offsets, std::size_t data) {
    return fileWith(R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}}",
                    data);
  };
  NECO_CHECK_EQ(outcome(one("F32", "[2]", "[0,8]", 8)), std::string("accepted"));
  CHECK_REJECTED("FormatError", one("F3", "[2]", "[0,8]", 8), "tensor 't': unknown dtype 'F3'");
  CHECK_REJECTED("FormatError", one("f32", "[2]", "[0,8]", 8), "unknown dtype 'f32'");
  CHECK_REJECTED("UnsupportedError", one("F8_E4M3", "[2]", "[0,2]", 2), "tensor 't': dtype F8_E4M3 is not supported");
  CHECK_REJECTED("UnsupportedError", one("U64", "[2]", "[0,16]", 16), "dtype U64");
  CHECK_REJECTED("FormatError", one("F8_E4M3", "[2]", "[0,3]", 3), "hold 3 bytes but F8_E4M3 (2,) needs 2");
  CHECK_REJECTED("FormatError", one("F4", "[3]", "[0,2]", 2), "F4 (3,) does not fill whole bytes");
  CHECK_REJECTED("FormatError", one("F32", "[-2]", "[0,8]", 8), "shape holds the negative number -2");
  CHECK_REJECTED("FormatError", one("F32", "[2.0]", "[0,8]", 8), "shape holds the non-integer number 2.0");
  CHECK_REJECTED("FormatError", one("F32", "[true]", "[0,8]", 8), "shape holds a boolean");
  CHECK_REJECTED("FormatError", one("F32", "[9223372036854775808]", "[0,8]", 8), "does not fit in int64");
  CHECK_REJECTED("FormatError", one("F32", "[18446744073709551616]", "[0,8]", 8), "non-integer number");
  CHECK_REJECTED("FormatError", one("F32", "[2]", "[0]", 8), "data_offsets holds 1 numbers, not 2");
  CHECK_REJECTED("FormatError", one("F32", "[2]", "[0,8,8]", 8), "data_offsets holds more than 2 numbers");
  CHECK_REJECTED("FormatError", one("F32", "[2]", "[-1,8]", 8), "data_offsets holds the negative number -1");
  CHECK_REJECTED("FormatError", one("F32", "[2]", "[\"0\",8]", 8), "data_offsets holds a string");
}

NECO_TEST(Safetensors, rejectsBadLayouts) {
  const std::string u8 = R"({"dtype":"U8","shape":[4],"data_offsets":)";
  auto two = [&](const std::string& a, const std::string& b, std::size_t data) {
    return fileWith("{\"a\":" + u8 + a + "},\"b\":" + u8 + b + "}}", data);
  };
  NECO_CHECK_EQ(outcome(two("[0,4]", "[4,8]", 8)), std::string("accepted"));
  CHECK_REJECTED("FormatError", two("[0,4]", "[2,6]", 8),
                 "tensor 'b': data_offsets [2, 6] overlap another tensor: the previous tensor 'a' ends at byte 4");
  CHECK_REJECTED("FormatError", two("[0,4]", "[6,10]", 10),
                 "tensor 'b': data_offsets [6, 10] leave a hole: the previous tensor 'a' ends at byte 4");
  CHECK_REJECTED("FormatError", two("[2,6]", "[6,10]", 10),
                 "tensor 'a': data_offsets [2, 6] leave a hole: the data section starts at byte 0");
  CHECK_REJECTED("FormatError", two("[0,4]", "[4,8]", 9),
                 "the tensors end at byte 8 of the data section but it holds 9 bytes (1 trailing bytes)");
  CHECK_REJECTED("FormatError", two("[0,4]", "[4,8]", 7),
                 "tensor 'b': data_offsets [4, 8] run past the end of the file");
  CHECK_REJECTED("FormatError", two("[0,4]", "[4,2]", 8), "tensor 'b': data_offsets [4, 2] end before they begin");
  CHECK_REJECTED("FormatError", two("[0,4]", "[4,18446744073709551615]", 8), "run past the end of the file");
  CHECK_REJECTED("FormatError", fileWith(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})"),
                 "run past the end");
  CHECK_REJECTED("FormatError", fileWith("{}", 3), "(3 trailing bytes)");
  // The example of the brief, and the size check is not skipped for an empty tensor.
  CHECK_REJECTED("FormatError",
                 fileWith(R"({"blocks.0.attn.qkv.weight":{"dtype":"F32","shape":[4,8],"data_offsets":[0,96]}})", 96),
                 "tensor 'blocks.0.attn.qkv.weight': data_offsets [0, 96] hold 96 bytes but F32 (4, 8) needs 128");
  CHECK_REJECTED("FormatError", fileWith(R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[0,4]}})", 4),
                 "hold 4 bytes but F32 (0,) needs 0");
}

NECO_TEST(Safetensors, rejectsOverflowingShapesWhereverTheZeroIs) {
  auto shaped = [](const std::string& shape, const std::string& dtype = "F32") {
    return fileWith(R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":[0,0]}})");
  };
  const std::string big = "4294967296";  // 2^32
  CHECK_REJECTED("FormatError", shaped("[" + big + "," + big + "," + big + "]"),
                 "tensor 't': shape (4294967296, 4294967296, 4294967296) overflows");
  CHECK_REJECTED("FormatError", shaped("[" + big + "," + big + ",0]"), "overflows");
  CHECK_REJECTED("FormatError", shaped("[0," + big + "," + big + "]"), "overflows");
  CHECK_REJECTED("FormatError", shaped("[9223372036854775807,2]"), "overflows");
  // 2^62 elements fit int64 but 2^62 x 32 bits do not.
  CHECK_REJECTED("FormatError", shaped("[4611686018427387904]"), "overflows 64-bit byte sizes");
  NECO_CHECK_EQ(outcome(shaped("[0,9223372036854775807]")), std::string("accepted"));
  NECO_CHECK_EQ(outcome(shaped("[1,0,1]")), std::string("accepted"));
}

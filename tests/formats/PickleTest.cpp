#include "NecoTest.h"
#include "TestFiles.h"
#include "formats/Pickle.h"
#include "neco/core/Error.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

using namespace neco::formats;
using Kind = PickleValue::Kind;

namespace {

// ---- a tiny assembler for hand-written programs -----------------------------------------------

std::string le(std::uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string bu(const std::string& s) {
  return "X" + le(s.size(), 4) + s;
}  // BINUNICODE
std::string k1(int v) {
  return "K" + le(static_cast<std::uint64_t>(v), 1);
}  // BININT1
std::string glob(const std::string& m, const std::string& n) {
  return "c" + m + "\n" + n + "\n";
}
const std::string P2 = "\x80\x02";  // PROTO 2
/// A literal that may hold NUL bytes.
std::string operator""_b(const char* s, std::size_t n) {
  return std::string(s, n);
}

const std::filesystem::path kSource = "test.pkl";

ByteView bytesOf(const std::string& s) {
  return viewOf(std::make_shared<const std::vector<std::uint8_t>>(s.begin(), s.end()));
}

/// Runs a program. Results stay alive until the process ends, so that NECO_CHECK_EQ (which binds its
/// arguments by reference) may look at run(...)->integer.
PickleValuePtr run(const std::string& program, const PersistentLoader& loader = {}, UnpickleReport* report = nullptr) {
  static std::vector<PickleValuePtr> keptAlive;
  keptAlive.push_back(unpickle(bytesOf(program), kSource, loader, report));
  return keptAlive.back();
}

template <class E>
std::string errorOf(const std::string& program, const PersistentLoader& loader = {}) {
  try {
    run(program, loader);
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception: ") + e.what();
  }
  return "no exception";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A loader handing out one float storage of `n` elements 0, 1, 2, ...
PersistentLoader floatStorage(std::int64_t n) {
  return [n](const PickleValue& id) {
    auto bytes = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(n) * 4);
    for (std::int64_t i = 0; i < n; ++i) {
      const float f = static_cast<float>(i);
      std::memcpy(bytes->data() + i * 4, &f, 4);
    }
    NECO_CHECK(id.kind == Kind::Tuple && id.items.size() == 5 && id.items[1]->text == "torch.FloatStorage");
    auto storage = std::make_shared<PickleValue>();
    storage->kind = Kind::Storage;
    auto t = std::make_shared<RawTensor>();
    t->dtype = DType::F32;
    t->shape = {n};
    t->strides = {1};
    t->storage = viewOf(bytes);
    storage->tensor = t;
    return PickleValuePtr(storage);
  };
}

/// _rebuild_tensor_v2 of the storage with the given offset, size and stride (2-d).
std::string tensorProgram(int offset, int rows, int cols, int rowStride, int colStride, const std::string& wrap = "") {
  const std::string pid = "(" + bu("storage") + glob("torch", "FloatStorage") + bu("0") + bu("cpu") + k1(6) + "tQ";
  return P2 + wrap + glob("torch._utils", "_rebuild_tensor_v2") + "(" + pid + k1(offset) + k1(rows) + k1(cols) +
         "\x86" + k1(rowStride) + k1(colStride) + "\x86\x89" + glob("collections", "OrderedDict") + ")Rt" + "R";
}

std::filesystem::path dataDir() {
  const char* dir = std::getenv("NECO_TEST_DATA_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path("tests/data");
}

}  // namespace

NECO_TEST(Pickle, scalars) {
  NECO_CHECK(run(P2 + "N.")->kind == Kind::None);
  NECO_CHECK(run(P2 + "\x88.")->boolean);
  NECO_CHECK(run(P2 + "\x89.")->kind == Kind::Bool && !run(P2 + "\x89.")->boolean);
  NECO_CHECK_EQ(run(P2 + "J" + le(0xfffffff6u, 4) + ".")->integer, -10);
  NECO_CHECK_EQ(run(P2 + k1(200) + ".")->integer, 200);
  NECO_CHECK_EQ(run(P2 + "M" + le(60000, 2) + ".")->integer, 60000);
  NECO_CHECK_EQ(run(P2 + "\x8a\x00."_b)->integer, 0);
  NECO_CHECK_EQ(run(P2 + "\x8a\x01\xff.")->integer, -1);
  NECO_CHECK_EQ(run(P2 + "\x8a\x08" + le(0x8000000000000000ull, 8) + ".")->integer, INT64_MIN);
  NECO_CHECK_EQ(run(P2 + "\x8a\x09" + le(0x7fffffffffffffffull, 8) + std::string(1, '\0') + ".")->integer, INT64_MAX);
  NECO_CHECK_EQ(run(P2 + "\x8b" + le(3, 4) + le(0x010203, 3) + ".")->integer, 0x010203);
  const PickleValuePtr big = run(P2 + "\x8a\x09" + le(0, 8) + "\x01.");  // 2^64
  NECO_CHECK(big->kind == Kind::Opaque && big->text == "int (too large)");
  NECO_CHECK(big->items.size() == 1 && big->items[0]->kind == Kind::Bytes && big->items[0]->text.size() == 9);
  NECO_CHECK_EQ(run("I42\n.")->integer, 42);
  NECO_CHECK_EQ(run("I-7\n.")->integer, -7);
  NECO_CHECK(run("I01\n.")->kind == Kind::Bool && run("I01\n.")->boolean);
  NECO_CHECK(run("I00\n.")->kind == Kind::Bool && !run("I00\n.")->boolean);
  NECO_CHECK_EQ(run("L123L\n.")->integer, 123);
  NECO_CHECK_EQ(run("L-9223372036854775808L\n.")->integer, INT64_MIN);
  const PickleValuePtr bigText = run("L99999999999999999999L\n.");
  NECO_CHECK(bigText->kind == Kind::Opaque && bigText->items[0]->text == "99999999999999999999");
  NECO_CHECK_EQ(run(P2 + "G\x3f\xf8" + std::string(6, '\0') + ".")->real, 1.5);
  NECO_CHECK_EQ(run("F2.5\n.")->real, 2.5);
  NECO_CHECK_EQ(run("F-1e-3\n.")->real, -1e-3);
  NECO_CHECK(std::isinf(run("Finf\n.")->real));
}

NECO_TEST(Pickle, stringsAndBytes) {
  NECO_CHECK_EQ(run(P2 + bu("h\xc3\xa9") + ".")->text, std::string("h\xc3\xa9"));
  NECO_CHECK_EQ(run(P2 + "\x8c\x02"
                         "ab.")
                    ->text,
                std::string("ab"));
  NECO_CHECK_EQ(run(P2 + "\x8d" + le(3, 8) + "abc.")->text, std::string("abc"));
  NECO_CHECK_EQ(run(P2 + "T" + le(2, 4) + "xy.")->text, std::string("xy"));
  NECO_CHECK_EQ(run(P2 + "U\x01z.")->text, std::string("z"));
  NECO_CHECK_EQ(run("S'a\\n\\x41\\101\\'b'\n.")->text, std::string("a\nAA'b"));
  NECO_CHECK_EQ(run("S\"q\"\n.")->text, std::string("q"));
  NECO_CHECK_EQ(run("V\xe9\\u20ac\\u005c\\U0001F600\n.")->text, std::string("\xc3\xa9\xe2\x82\xac\\\xf0\x9f\x98\x80"));
  const PickleValuePtr b = run(P2 + "B" + le(3, 4) + std::string("\0\1\2", 3) + ".");
  NECO_CHECK(b->kind == Kind::Bytes && b->text == std::string("\0\1\2", 3));
  NECO_CHECK_EQ(run(P2 + "C\x01q.")->text, std::string("q"));
  NECO_CHECK(run(P2 + "\x8e" + le(1, 8) + "r.")->kind == Kind::Bytes);
  NECO_CHECK(run(P2 + "\x96" + le(1, 8) + "s.")->kind == Kind::Bytes);
  // Protocol 2 bytes: _codecs.encode(text, 'latin1'), bytes(), bytearray(text, 'latin-1').
  const PickleValuePtr enc = run(P2 + glob("_codecs", "encode") +
                                 bu("\xc3\xbf"
                                    "a") +
                                 bu("latin1") + "\x86R.");
  NECO_CHECK(enc->kind == Kind::Bytes && enc->text ==
                                             "\xff"
                                             "a");
  NECO_CHECK(run(P2 + glob("__builtin__", "bytes") + ")R.")->text.empty());
  NECO_CHECK_EQ(
      run(P2 + glob("__builtin__", "bytearray") + glob("_codecs", "encode") + bu("z") + bu("latin1") + "\x86R\x85R.")
          ->text,
      std::string("z"));
  NECO_CHECK(contains(
      errorOf<neco::FormatError>(P2 + glob("_codecs", "encode") + bu("\xe2\x82\xac") + bu("latin1") + "\x86R."),
      "beyond U+00FF"));
}

NECO_TEST(Pickle, containers) {
  const PickleValuePtr list = run(P2 + "]" + k1(1) + "a(" + k1(2) + k1(3) + "e.");
  NECO_REQUIRE(list->kind == Kind::List && list->items.size() == 3);
  NECO_CHECK_EQ(list->items[2]->integer, 3);
  NECO_CHECK_EQ(run("(I1\nI2\nl.")->items.size(), 2u);
  NECO_CHECK(run(P2 + ").")->kind == Kind::Tuple);
  NECO_CHECK_EQ(run(P2 + "(" + k1(1) + k1(2) + k1(3) + k1(4) + "t.")->items.size(), 4u);
  NECO_CHECK_EQ(run(P2 + k1(1) + "\x85.")->items.size(), 1u);
  NECO_CHECK_EQ(run(P2 + k1(1) + k1(2) + "\x86.")->items.size(), 2u);
  NECO_CHECK_EQ(run(P2 + k1(1) + k1(2) + k1(3) + "\x87.")->items[2]->integer, 3);
  const PickleValuePtr dict = run(P2 + "}" + bu("a") + k1(1) + "s(" + bu("b") + k1(2) + bu("a") + k1(3) + "u.");
  NECO_REQUIRE(dict->kind == Kind::Dict && dict->entries.size() == 2);  // 'a' replaced in place, as in Python
  NECO_CHECK_EQ(dict->entries[0].first->text, std::string("a"));
  NECO_CHECK_EQ(dict->find("a")->integer, 3);
  NECO_CHECK_EQ(dict->find("b")->integer, 2);
  NECO_CHECK(dict->find("c") == nullptr);
  NECO_CHECK_EQ(run(P2 + "}" + k1(1) + k1(5) + "s\x88" + k1(6) + "s.")->entries.size(), 1u);  // True == 1
  NECO_CHECK_EQ(run("(I1\nI2\nI3\nI4\nd.")->entries.size(), 2u);
  const PickleValuePtr set = run("\x80\x04\x8f(" + k1(1) + k1(2) + "\x90.");
  NECO_CHECK(set->kind == Kind::Set && set->items.size() == 2);
  NECO_CHECK(run("\x80\x04(" + k1(1) + "\x91.")->kind == Kind::Set);
  NECO_CHECK(run(P2 + glob("__builtin__", "set") + "]" + k1(1) + "a\x85R.")->kind == Kind::Set);
  const PickleValuePtr od = run(P2 + glob("collections", "OrderedDict") + "]" + bu("k") + k1(1) + "\x86" + "a\x85R.");
  NECO_CHECK(od->kind == Kind::Dict && od->find("k") != nullptr && od->find("k")->integer == 1);
  NECO_CHECK(run(P2 + glob("__builtin__", "list") + ")R.")->kind == Kind::List);
  NECO_CHECK_EQ(run(P2 + glob("__builtin__", "tuple") + "]" + k1(4) + "a\x85R.")->items.size(), 1u);
}

NECO_TEST(Pickle, memoStackAndFraming) {
  const PickleValuePtr shared = run(P2 + "]q\x00h\x00\x86."_b);  // (l, l): one list, shared
  NECO_REQUIRE(shared->items.size() == 2);
  NECO_CHECK(shared->items[0].get() == shared->items[1].get());
  NECO_CHECK_EQ(run("I5\np7\n0g7\n.")->integer, 5);  // PUT, POP, GET
  NECO_CHECK_EQ(run(P2 + k1(9) + "r" + le(70000, 4) + "0j" + le(70000, 4) + ".")->integer, 9);
  NECO_CHECK_EQ(run("\x80\x04" + k1(1) + "\x94" + k1(2) + "\x94" + "0h\x01.")->integer, 2);  // MEMOIZE
  NECO_CHECK_EQ(run(P2 + k1(1) + "2\x86.")->items.size(), 2u);                               // DUP
  NECO_CHECK_EQ(run(P2 + k1(1) + "(" + k1(2) + k1(3) + "1.")->integer, 1);                   // POP_MARK
  NECO_CHECK_EQ(run(P2 + k1(1) + "(0.")->integer, 1);                                        // POP of a bare MARK
  NECO_CHECK_EQ(run("\x80\x04\x95" + le(3, 8) + k1(8) + ".")->integer, 8);                   // FRAME
  std::size_t used = 0;
  unpickle(bytesOf(P2 + "N.trailing"), kSource, {}, nullptr, &used);
  NECO_CHECK_EQ(used, 4u);
}

NECO_TEST(Pickle, opaqueObjects) {
  UnpickleReport report;
  // argparse.Namespace(arch='vit_small', patch_size=16) as protocol 2 writes it: NEWOBJ + BUILD.
  const PickleValuePtr ns = run(
      P2 + glob("argparse", "Namespace") + ")\x81}(" + bu("arch") + bu("vit_small") + bu("patch_size") + k1(16) + "ub.",
      {}, &report);
  NECO_REQUIRE(ns->kind == Kind::Opaque);
  NECO_CHECK_EQ(ns->text, std::string("argparse.Namespace"));
  NECO_CHECK(ns->find("arch") != nullptr && ns->find("arch")->text == "vit_small");
  NECO_CHECK_EQ(ns->find("patch_size")->integer, 16);
  // A Lightning AttributeDict (a dict subclass): NEWOBJ + SETITEMS; the prefix rule allows it.
  const PickleValuePtr ad =
      run(P2 + glob("pytorch_lightning.utilities.parsing", "AttributeDict") + ")\x81(" + bu("lr") + k1(3) + "u.", {},
          &report);
  NECO_CHECK(ad->kind == Kind::Opaque && ad->find("lr")->integer == 3);
  // torch.device('cuda', 0) via REDUCE, copyreg._reconstructor, NEWOBJ_EX, copyreg.__newobj__.
  const PickleValuePtr dev = run(P2 + glob("torch", "device") + bu("cuda") + k1(0) + "\x86R.", {}, &report);
  NECO_CHECK(dev->kind == Kind::Opaque && dev->items.size() == 2 && dev->items[0]->text == "cuda");
  const PickleValuePtr rec = run(glob("copy_reg", "_reconstructor") + "(" + glob("pathlib", "PosixPath") +
                                 glob("__builtin__", "object") + "NtR.");
  NECO_CHECK(rec->kind == Kind::Opaque && rec->text == "pathlib.PosixPath");
  const PickleValuePtr ex = run("\x80\x04" + glob("datetime", "timedelta") + ")}" + bu("days") + k1(1) + "s\x92.");
  NECO_CHECK(ex->kind == Kind::Opaque && ex->find("days")->integer == 1);
  NECO_CHECK(run(P2 + glob("copyreg", "__newobj__") + glob("argparse", "Namespace") + "\x85R.")->kind == Kind::Opaque);
  NECO_CHECK(run("\x80\x04" + std::string("\x8c\x08") + "argparse" + "\x8c\x09" + "Namespace" + "\x93)\x81.")->kind ==
             Kind::Opaque);  // STACK_GLOBAL
  NECO_CHECK(run(P2 + glob("torch", "float16") + ".")->kind == Kind::Global);
  NECO_REQUIRE(report.opaqueTypes.size() == 3);
  NECO_CHECK_EQ(report.opaqueTypes[0], std::string("argparse.Namespace"));
  NECO_CHECK_EQ(report.opaqueTypes[2], std::string("torch.device"));
  // BUILD on a dict (an OrderedDict state_dict's _metadata) is dropped.
  const PickleValuePtr od = run(P2 + glob("collections", "OrderedDict") + ")R}" + bu("_metadata") + "}sb.");
  NECO_CHECK(od->kind == Kind::Dict && od->entries.empty());
}

NECO_TEST(Pickle, tensors) {
  const PickleValuePtr t = run(tensorProgram(1, 2, 2, 2, 1) + ".", floatStorage(6));
  NECO_REQUIRE(t->kind == Kind::Tensor && t->tensor);
  NECO_CHECK(t->tensor->shape == (std::vector<std::int64_t>{2, 2}));
  NECO_CHECK(t->tensor->strides == (std::vector<std::int64_t>{2, 1}));
  NECO_CHECK_EQ(t->tensor->storageOffset, 1);
  NECO_CHECK_EQ(t->tensor->valueAt(3), 4.0);
  // nn.Parameter: _rebuild_parameter(tensor, requires_grad, hooks).
  const std::string param = P2 + glob("torch._utils", "_rebuild_parameter") + "(" +
                            tensorProgram(0, 1, 1, 1, 1).substr(2) + "\x88" + glob("collections", "OrderedDict") +
                            ")Rt" + "R.";
  NECO_CHECK(run(param, floatStorage(6))->kind == Kind::Tensor);
  // _rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, args, state) of torch 2.x.
  const std::string fromType =
      P2 + glob("torch._tensor", "_rebuild_from_type_v2") + "(" + glob("torch._utils", "_rebuild_tensor_v2") +
      glob("torch", "Tensor") + "((" + bu("storage") + glob("torch", "FloatStorage") + bu("0") + bu("cpu") + k1(6) +
      "tQ" + k1(0) + k1(6) + "\x85" + k1(1) + "\x85\x89" + glob("collections", "OrderedDict") + ")Rt}tR.";
  NECO_CHECK_EQ(run(fromType, floatStorage(6))->tensor->numel(), 6);
  const std::string subclass = P2 + glob("torch._tensor", "_rebuild_from_type_v2") + "(" +
                               glob("torch._utils", "_rebuild_tensor_v2") + glob("torch.nn.parameter", "Parameter") +
                               ")}tR.";
  NECO_CHECK(contains(errorOf<neco::FormatError>(subclass), "_rebuild_tensor with 0 arguments"));
}

NECO_TEST(Pickle, tensorViewsAreBoundsChecked) {
  NECO_CHECK(contains(errorOf<neco::FormatError>(tensorProgram(0, 3, 3, 3, 1) + ".", floatStorage(6)),
                      "tensor view exceeds its storage"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(tensorProgram(5, 1, 2, 1, 1) + ".", floatStorage(6)),
                      "tensor view exceeds its storage"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(tensorProgram(0, 2, 2, 200, 1) + ".", floatStorage(6)),
                      "tensor view exceeds its storage"));
  // A storage must come from a persistent id: an int in its place is refused.
  NECO_CHECK(contains(
      errorOf<neco::FormatError>(P2 + glob("torch._utils", "_rebuild_tensor_v2") + "(" + k1(1) + k1(0) + ")))tR."),
      "not a storage"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(tensorProgram(0, 1, 1, 1, 1) + "."), "without a storage loader"));
  const PersistentLoader nonLeaf = [](const PickleValue&) {
    auto list = std::make_shared<PickleValue>();
    list->kind = Kind::List;
    list->items.push_back(std::make_shared<PickleValue>());
    return PickleValuePtr(list);
  };
  NECO_CHECK_THROWS(neco::InvalidArgumentError, run(P2 + "NQ.", nonLeaf));
}

NECO_TEST(Pickle, refusesGlobalsOutsideTheAllowList) {
  const std::string expected =
      "test.pkl: unsupported object `os.system` in pickle (only state-dict contents are loaded; nothing in a "
      "checkpoint is executed)";
  NECO_CHECK_EQ(errorOf<neco::UnsupportedError>(P2 + glob("os", "system") + bu("echo pwned") + "\x85R."), expected);
  for (const auto& [module, name] :
       std::vector<std::pair<std::string, std::string>>{{"posix", "system"},
                                                        {"__builtin__", "eval"},
                                                        {"builtins", "exec"},
                                                        {"builtins", "getattr"},
                                                        {"subprocess", "Popen"},
                                                        {"torch", "load"},
                                                        {"functools", "partial"},
                                                        {"torch.nn.modules.linear", "Linear"},
                                                        {"numpy", "load"},
                                                        {"pytorch_lightningX", "Y"}}) {
    const std::string message = errorOf<neco::UnsupportedError>(P2 + glob(module, name) + ".");
    NECO_CHECK(contains(message, "unsupported object `"));
  }
  NECO_CHECK(contains(errorOf<neco::UnsupportedError>(P2 + glob("__builtin__", "eval") + "."), "`builtins.eval`"));
  NECO_CHECK(contains(errorOf<neco::UnsupportedError>("\x80\x04\x8c\x02os\x8c\x06system\x93."), "`os.system`"));
  NECO_CHECK(contains(errorOf<neco::UnsupportedError>(P2 + glob("torch", "ComplexFloatStorage") + "."),
                      "unsupported storage type `torch.ComplexFloatStorage`"));
  NECO_CHECK(contains(errorOf<neco::UnsupportedError>(P2 + glob("os\x01", "x\x7f") + "."), "`os\\x01.x\\x7f`"));
  // Allowed names that are values, not callables.
  NECO_CHECK(contains(errorOf<neco::FormatError>(P2 + glob("torch", "float32") + ")R."), "cannot be called"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(P2 + glob("torch", "FloatStorage") + ")R."), "cannot be called"));
}

NECO_TEST(Pickle, refusesOpcodesOutsideTheSupportedSet) {
  const std::pair<std::string, std::string> cases[] = {
      {P2 + "(i__builtin__\nobject\n.", "INST (byte 0x69) at offset 3"},
      {P2 + "(" + glob("argparse", "Namespace") + "o.", "OBJ (byte 0x6f)"},
      {P2 + "\x82\x01.", "EXT1 (byte 0x82) at offset 2"},
      {"\x80\x05\x97.", "NEXT_BUFFER"},
      {P2 + "\xff.", "unknown (byte 0xff) at offset 2"},
      {"\x80\x06N.", "protocol 6"},
  };
  for (const auto& [program, part] : cases) {
    const std::string message = errorOf<neco::UnsupportedError>(program);
    NECO_CHECK(contains(message, part));
    NECO_CHECK(contains(message, "test.pkl: "));
  }
}

NECO_TEST(Pickle, malformedPrograms) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "without STOP"},
      {P2 + "N", "without STOP"},
      {P2 + ".", "stack underflow (opcode STOP at offset 2)"},
      {P2 + "a.", "stack underflow"},
      {P2 + "]" + "(a.", "stack underflow"},  // APPEND may not reach below a MARK
      {P2 + "t.", "no MARK"},
      {P2 + "h\x05.", "memo key 5 is not defined"},
      {P2 + "X" + le(0xfffffff0u, 4) + "ab.", "argument of 4294967280 bytes but only 3 remain"},
      {P2 + "\x8d" + le(~0ull, 8) + ".", "remain"},
      {P2 + "T" + le(0xffffffffu, 4) + ".", "negative BINSTRING length"},
      {P2 + "\x8b" + le(100000, 4) + ".", "LONG4 of 100000 bytes"},
      {P2 + "}(" + k1(1) + "u.", "odd number of items"},
      {P2 + "}" + k1(1) + "a.", "cannot add items to a Dict"},
      {P2 + bu("s") + "}b.", "BUILD on a String"},
      {P2 + glob("collections", "OrderedDict") + k1(1) + "R.", "not a tuple"},
      {P2 + k1(1) + ")R.", "REDUCE calls a Int"},
      {"Iabc\n.", "malformed integer 'abc'"},
      {"I12", "without an end of line"},
      {"Fx\n.", "malformed float"},
      {"S'abc\n.", "not quoted"},
      {"V\\u12\n.", "escape"},
      {"gx\n.", "malformed memo index"},
      {P2 + "\x95" + le(100, 8) + "N.", "frame of 100 bytes"},
      {P2 + "N\x90.", "no MARK"},
      {P2 + bu("m") + k1(1) + "\x93.", "STACK_GLOBAL needs two strings"},
  };
  for (const auto& [program, part] : cases) {
    const std::string message = errorOf<neco::FormatError>(program);
    NECO_CHECK(contains(message, part));
    if (!contains(message, part)) std::fprintf(stderr, "      message: %s\n", message.c_str());
  }
}

NECO_TEST(Pickle, limitsHoldWithoutRecursion) {
  // 100000 nested lists, built two ways; the depth limit answers long before the stack would.
  const std::string nested = P2 + std::string(100000, ']') + std::string(99999, 'a') + ".";
  NECO_CHECK(contains(errorOf<neco::FormatError>(nested), "nested deeper than 1000 levels"));
  const std::string marks = P2 + std::string(100000, '(') + std::string(100000, 'l') + ".";
  NECO_CHECK(contains(errorOf<neco::FormatError>(marks), "nested deeper than 1000 levels"));
  std::string deepOk = P2 + std::string(999, ']') + std::string(998, 'a') + ".";
  NECO_CHECK(run(deepOk)->kind == Kind::List);
  const std::string stack = P2 + "N" + std::string(kMaxPickleStack, '2') + ".";  // DUP: no new objects
  NECO_CHECK(contains(errorOf<neco::FormatError>(stack), "stack deeper than"));
  // Self-reference: directly, through the memo, and through an object's state.
  NECO_CHECK(contains(errorOf<neco::FormatError>(P2 + "]2a."), "would contain itself"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(P2 + "]q\x00]q\x01h\x00"
                                                      "ah\x00h\x01"
                                                      "a."_b),
                      "changed after being stored"));
  NECO_CHECK(contains(
      errorOf<neco::FormatError>(P2 + glob("argparse", "Namespace") + ")\x81q\x00}"_b + bu("me") + "h\x00sb."_b),
      "changed after being stored"));
}

NECO_TEST(Pickle, plainPicklesOfEveryProtocol) {
  for (int protocol = 0; protocol <= 5; ++protocol) {
    const auto path = dataDir() / "torch" / ("plain_p" + std::to_string(protocol) + ".pkl");
    const PickleValuePtr v =
        unpickle(viewOf(std::make_shared<const std::vector<std::uint8_t>>(neco::test::readBytes(path))), path, {});
    NECO_REQUIRE(v->kind == Kind::Dict);
    NECO_CHECK(v->find("none")->kind == Kind::None);
    NECO_CHECK(v->find("true")->kind == Kind::Bool && v->find("true")->boolean);
    NECO_CHECK(v->find("false")->kind == Kind::Bool && !v->find("false")->boolean);
    NECO_CHECK_EQ(v->find("int")->integer, -123456789);
    NECO_CHECK_EQ(v->find("int64_max")->integer, INT64_MAX);
    NECO_CHECK_EQ(v->find("int64_min")->integer, INT64_MIN);
    NECO_CHECK(v->find("big")->kind == Kind::Opaque && v->find("neg_big")->kind == Kind::Opaque);
    NECO_CHECK_EQ(v->find("float")->real, -1.25e-3);
    NECO_CHECK_EQ(v->find("text")->text, std::string("h\xc3\xa9llo \xe2\x82\xac\n\\"));
    NECO_CHECK(v->find("bytes")->kind == Kind::Bytes && v->find("bytes")->text == std::string("\0\xff"
                                                                                              "ab",
                                                                                              4));
    NECO_CHECK(v->find("empty_bytes")->kind == Kind::Bytes && v->find("empty_bytes")->text.empty());
    const PickleValue* list = v->find("list");
    NECO_REQUIRE(list->kind == Kind::List && list->items.size() == 3);
    NECO_CHECK(list->items[1]->kind == Kind::List && list->items[2]->kind == Kind::Tuple);
    NECO_CHECK_EQ(v->find("tuple")->items.size(), 4u);
    NECO_CHECK(v->find("set")->kind == Kind::Set && v->find("set")->items[0]->integer == 7);
    NECO_CHECK(v->find("frozenset")->kind == Kind::Set);
    NECO_CHECK(v->find("nested")->find("a")->find("b")->find("c")->items[0]->kind == Kind::None);
    const PickleValue* shared = v->find("shared");
    NECO_CHECK(shared->items[0].get() == shared->items[1].get());
    bool intKey = false;
    for (const auto& [k, value] : v->entries)
      intKey |= k->kind == Kind::Int && k->integer == 1 && value->text == "int key";
    NECO_CHECK(intKey);
  }
}

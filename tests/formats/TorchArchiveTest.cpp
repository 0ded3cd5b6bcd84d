#include "NecoTest.h"
#include "TestFiles.h"
#include "ZipBuilder.h"
#include "formats/MappedFile.h"
#include "formats/TorchArchive.h"
#include "formats/ZipArchive.h"
#include "neco/core/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>

using namespace neco::formats;
using Kind = PickleValue::Kind;
using neco::test::Bytes;
using neco::test::ZipMember;

namespace {

std::filesystem::path torchDir() {
  const char* dir = std::getenv("NECO_TEST_DATA_DIR");
  return (dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path("tests/data")) / "torch";
}

ByteView view(const Bytes& bytes) {
  return viewOf(std::make_shared<const Bytes>(bytes));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

template <class E>
std::string errorOf(const Bytes& bytes) {
  try {
    parseTorchCheckpoint(view(bytes), "ckpt.pth");
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception: ") + e.what();
  }
  return "no exception";
}

/// The members of a real torch.save archive, to be changed and written again.
std::vector<ZipMember> membersOf(const std::string& file) {
  const std::filesystem::path path = torchDir() / file;
  const ZipArchive zip = ZipArchive::parse(mapFile(path), path);
  std::vector<ZipMember> members;
  for (const ZipEntry& e : zip.entries()) {
    const ByteView data = zip.data(e);
    members.push_back(ZipMember{e.name, Bytes(data.data, data.data + data.size), 0, 0, 0, true, true});
  }
  return members;
}

Bytes repack(std::vector<ZipMember> members, const std::function<void(std::vector<ZipMember>&)>& change) {
  change(members);
  return neco::test::buildZip(members).flat();
}

ZipMember* member(std::vector<ZipMember>& members, const std::string& name) {
  for (ZipMember& m : members) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

void checkTensor(const NamedTensor& actual, const nlohmann::json& expected, const std::string& where) {
  NECO_CHECK_EQ(actual.name, expected["name"].get<std::string>());
  const RawTensor& t = actual.tensor;
  NECO_CHECK_EQ(std::string(dtypeName(t.dtype)), expected["dtype"].get<std::string>());
  NECO_CHECK(t.shape == expected["shape"].get<std::vector<std::int64_t>>());
  NECO_CHECK(t.strides == expected["strides"].get<std::vector<std::int64_t>>());
  NECO_CHECK_EQ(t.storageOffset, expected["offset"].get<std::int64_t>());
  NECO_CHECK_EQ(t.numel(), expected["numel"].get<std::int64_t>());
  NECO_CHECK(checkTensorBounds(t).empty());
  double sum = 0;
  for (std::int64_t i = 0; i < t.numel(); ++i) sum += t.valueAt(i);
  const double expectedSum = expected["sum"].get<double>();
  NECO_CHECK_NEAR(sum, expectedSum, 1e-9 * (1 + std::fabs(expectedSum)));
  const auto first = expected["first"].get<std::vector<double>>();
  for (std::size_t i = 0; i < first.size(); ++i) NECO_CHECK_EQ(t.valueAt(static_cast<std::int64_t>(i)), first[i]);
  if (t.shape != expected["shape"].get<std::vector<std::int64_t>>())
    std::fprintf(stderr, "      at %s\n", where.c_str());
}

}  // namespace

NECO_TEST(TorchArchive, filesWrittenByTorchMatchTorchsOwnReading) {
  std::ifstream in(torchDir() / "expected.json");
  NECO_REQUIRE(in.good());
  const nlohmann::json expected = nlohmann::json::parse(in);
  NECO_CHECK(expected.size() >= 7);
  for (const auto& [file, want] : expected.items()) {
    const TorchCheckpoint checkpoint = readTorchCheckpoint(torchDir() / file);
    NECO_CHECK_EQ(checkpoint.format, want["format"].get<std::string>());
    std::vector<std::string> opaque = checkpoint.report.opaqueTypes;
    std::sort(opaque.begin(), opaque.end());
    NECO_CHECK(opaque == want["opaque"].get<std::vector<std::string>>());
    const std::vector<StateDict> found = findStateDicts(*checkpoint.root);
    const auto& dicts = want["state_dicts"];
    NECO_CHECK_EQ(found.size(), dicts.size());
    for (std::size_t i = 0; i < found.size() && i < dicts.size(); ++i) {
      NECO_CHECK_EQ(found[i].path, dicts[i]["path"].get<std::string>());
      NECO_REQUIRE(found[i].tensors.size() == dicts[i]["tensors"].size());
      for (std::size_t j = 0; j < found[i].tensors.size(); ++j) {
        checkTensor(found[i].tensors[j], dicts[i]["tensors"][j], file + " " + found[i].tensors[j].name);
      }
    }
  }
}

NECO_TEST(TorchArchive, viewsShareTheirStorage) {
  for (const char* file : {"state_dict.pth", "legacy.pth"}) {
    const TorchCheckpoint checkpoint = readTorchCheckpoint(torchDir() / file);
    const PickleValue& root = *checkpoint.root;
    const auto storageOf = [&](const char* key) { return root.find(key)->tensor->storage.data; };
    NECO_CHECK(storageOf("shared_lo") == storageOf("shared_hi"));
    NECO_CHECK(storageOf("transposed") == storageOf("column"));
    NECO_CHECK(storageOf("weight") != storageOf("bias"));
    NECO_CHECK(!root.find("transposed")->tensor->isContiguous());
    NECO_CHECK(root.find("scalar")->tensor->shape.empty());
  }
}

NECO_TEST(TorchArchive, trainingCheckpointSurroundings) {
  const TorchCheckpoint lightning = readTorchCheckpoint(torchDir() / "lightning.ckpt");
  const PickleValue& root = *lightning.root;
  NECO_CHECK_EQ(root.find("epoch")->integer, 3);
  NECO_CHECK_EQ(root.find("pytorch-lightning_version")->text, std::string("1.9.0"));
  const PickleValue* hp = root.find("hyper_parameters");
  NECO_REQUIRE(hp != nullptr && hp->kind == Kind::Opaque);
  NECO_CHECK_EQ(hp->find("arch")->text, std::string("vit_small"));
  NECO_CHECK_EQ(hp->find("patch_size")->integer, 14);
  NECO_CHECK(hp->find("seed")->kind == Kind::None);
  NECO_CHECK_EQ(hp->find("device")->text, std::string("torch.device"));
  NECO_CHECK_EQ(hp->find("device")->items[0]->text, std::string("cpu"));
  NECO_CHECK_EQ(hp->find("precision")->text, std::string("torch.float16"));
  NECO_CHECK_EQ(hp->find("grid")->text, std::string("numpy.ndarray"));
  const PickleValue* optimizer = root.find("optimizer_states");
  NECO_REQUIRE(optimizer != nullptr && optimizer->kind == Kind::List && optimizer->items.size() == 1);
  const PickleValue* state = optimizer->items[0]->find("state");
  NECO_REQUIRE(state != nullptr && !state->entries.empty());
  NECO_CHECK(state->entries[0].first->kind == Kind::Int);
  NECO_CHECK(state->entries[0].second->find("exp_avg")->kind == Kind::Tensor);

  const TorchCheckpoint dino = readTorchCheckpoint(torchDir() / "dino_v1.pth");
  const PickleValue* args = dino.root->find("args");
  NECO_REQUIRE(args != nullptr && args->kind == Kind::Opaque && args->text == "argparse.Namespace");
  NECO_CHECK_EQ(args->find("arch")->text, std::string("vit_small"));
  NECO_CHECK_EQ(args->find("out_dim")->integer, 65536);
  NECO_CHECK_EQ(args->find("momentum_teacher")->real, 0.996);
}

NECO_TEST(TorchArchive, containerLevelRefusals) {
  const std::vector<ZipMember> good = membersOf("plain_dict.pth");
  NECO_CHECK(contains(errorOf<neco::UnsupportedError>(repack(good, [](auto&) {})), "no exception"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(repack(good, [](auto& m) { m.erase(m.begin()); })),
                      "without <folder>/data.pkl"));
  NECO_CHECK(contains(
      errorOf<neco::FormatError>(repack(good,
                                        [](auto& m) {
                                          m.push_back(ZipMember{"other/data.pkl", neco::test::textBytes("N.")});
                                        })),
      "two data.pkl"));
  NECO_CHECK(contains(errorOf<neco::UnsupportedError>(
                          repack(good,
                                 [](auto& m) {
                                   m.push_back(ZipMember{"plain_dict/constants.pkl", neco::test::textBytes(").")});
                                 })),
                      "TorchScript"));
  NECO_CHECK(contains(errorOf<neco::UnsupportedError>(
                          repack(good,
                                 [](auto& m) {
                                   m.push_back(ZipMember{"plain_dict/byteorder", neco::test::textBytes("big")});
                                 })),
                      "byte order 'big'"));
  NECO_CHECK(contains(errorOf<neco::UnsupportedError>(
                          repack(good,
                                 [](auto& m) {
                                   m.push_back(ZipMember{"plain_dict/byteorder", neco::test::textBytes("little")});
                                 })),
                      "no exception"));
  NECO_CHECK(contains(
      errorOf<neco::FormatError>(repack(good, [](auto& m) { member(m, "plain_dict/data/0")->data.pop_back(); })),
      "elements needs 8 bytes but the record has 7"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(
                          repack(good, [](auto& m) { member(m, "plain_dict/data/1")->name = "plain_dict/data/9"; })),
                      "storage '1' has no record"));
  NECO_CHECK(contains(
      errorOf<neco::UnsupportedError>(repack(good, [](auto& m) { member(m, "plain_dict/data/1")->method = 8; })),
      "deflated"));
  // data.pkl's CRC is verified (a flipped bit in a pickle changes its meaning); storages' are not.
  Bytes flipped = neco::test::buildZip(good).flat();
  const ZipArchive zip = ZipArchive::parse(view(flipped), "x");
  flipped[static_cast<std::size_t>(zip.find("plain_dict/data.pkl")->dataOffset) + 20] ^= 1;
  NECO_CHECK(contains(errorOf<neco::FormatError>(flipped), "'plain_dict/data.pkl': CRC mismatch"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(Bytes(100, 'x')), "not a torch checkpoint"));
  NECO_CHECK(contains(errorOf<neco::FormatError>(Bytes{}), "not a torch checkpoint"));
}

NECO_TEST(TorchArchive, legacyFormatChecks) {
  const Bytes good = neco::test::readBytes(torchDir() / "legacy.pth");
  NECO_CHECK(looksLikeTorchLegacy(view(good)));
  NECO_CHECK(!looksLikeTorchLegacy(view(neco::test::readBytes(torchDir() / "state_dict.pth"))));
  for (const std::size_t cut : {good.size() - 1, good.size() / 2, std::size_t{20}}) {
    const std::string message =
        errorOf<neco::FormatError>(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
    NECO_CHECK(!contains(message, "wrong exception") && !contains(message, "no exception"));
  }
  Bytes trailing = good;
  trailing.push_back(0);
  NECO_CHECK(contains(errorOf<neco::FormatError>(trailing), "1 bytes after the last storage"));
  Bytes magic = good;
  magic[5] ^= 1;
  NECO_CHECK(contains(errorOf<neco::FormatError>(magic), "not a torch checkpoint"));
}

NECO_TEST(TorchArchive, findStateDictsWalksDictsOnly) {
  auto make = [](Kind kind) {
    auto v = std::make_shared<PickleValue>();
    v->kind = kind;
    return v;
  };
  auto text = [&](const std::string& s) {
    auto v = make(Kind::String);
    v->text = s;
    return v;
  };
  auto tensor = make(Kind::Tensor);
  tensor->tensor = std::make_shared<RawTensor>();
  auto sd = make(Kind::Dict);
  sd->entries.push_back({text("w"), tensor});
  // The same state dict under two keys, another one five levels down, and a dict with a non-tensor.
  auto deep = make(Kind::Dict);
  deep->entries.push_back({text("w"), tensor});
  for (int i = 0; i < 5; ++i) {
    auto outer = make(Kind::Dict);
    outer->entries.push_back({text("d" + std::to_string(i)), deep});
    deep = outer;
  }
  auto mixed = make(Kind::Dict);
  mixed->entries.push_back({text("w"), tensor});
  mixed->entries.push_back({text("n"), make(Kind::None)});
  auto root = make(Kind::Dict);
  root->entries.push_back({text("a"), sd});
  root->entries.push_back({text("b"), sd});
  root->entries.push_back({text("deep"), deep});
  root->entries.push_back({text("mixed"), mixed});
  const std::vector<StateDict> found = findStateDicts(*root);
  NECO_REQUIRE(found.size() == 1);
  NECO_CHECK_EQ(found[0].path, std::string("a"));
  NECO_CHECK(findStateDicts(*sd).size() == 1 && findStateDicts(*sd)[0].path.empty());
  NECO_CHECK(findStateDicts(*make(Kind::Dict)).empty());
}

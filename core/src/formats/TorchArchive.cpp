#include "formats/TorchArchive.h"

#include "formats/MappedFile.h"
#include "formats/ZipArchive.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_set>

namespace neco::formats {

namespace {

using Kind = PickleValue::Kind;

/// The legacy magic number 0x1950a86a20f9469cfc6c as LONG1 writes it (little-endian) and as text.
constexpr std::uint8_t kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::string_view kLegacyMagicDecimal = "119547037146038801333356";
constexpr std::int64_t kLegacyProtocol = 1001;

/// A persistent id ('storage', type, key, location, numel[, view_metadata]) taken apart.
struct StorageId {
  DType dtype;
  std::string key;
  std::int64_t numel;
  const PickleValue* view = nullptr;  ///< legacy (view_key, offset, size), else nullptr
};

StorageId parseStorageId(const PickleValue& id, const std::filesystem::path& source) {
  const auto& f = id.items;
  if (id.kind != Kind::Tuple || f.size() < 5 || f.size() > 6 || !f[0]->isString("storage")) {
    throw FormatError(source, "persistent id is not ('storage', type, key, location, numel)");
  }
  if (f[1]->kind != Kind::Global) throw FormatError(source, "storage type in a persistent id is not a global");
  const std::optional<DType> dtype = storageDtype(f[1]->text);
  if (!dtype) throw UnsupportedError(source.string() + ": `" + f[1]->text + "` is not a storage type");
  if (f[2]->kind != Kind::String || f[3]->kind != Kind::String || f[4]->kind != Kind::Int || f[4]->integer < 0) {
    throw FormatError(source, "persistent id has a malformed key, location or element count");
  }
  StorageId s{*dtype, f[2]->text, f[4]->integer};
  if (f.size() == 6 && f[5]->kind != Kind::None) s.view = f[5].get();
  return s;
}

std::uint64_t storageBytes(std::int64_t numel, DType dtype, const std::filesystem::path& source,
                           const std::string& key) {
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<std::uint64_t>(numel), dtypeSize(dtype), &bytes)) {
    throw FormatError(source,
                      "storage " + quotedEntryName(key) + ": element count " + std::to_string(numel) + " overflows");
  }
  return bytes;
}

PickleValuePtr storageValue(DType dtype, std::int64_t numel, ByteView bytes) {
  auto storage = std::make_shared<PickleValue>();
  storage->kind = Kind::Storage;
  auto t = std::make_shared<RawTensor>();
  t->dtype = dtype;
  t->shape = {numel};
  t->strides = {1};
  t->storage = std::move(bytes);
  storage->tensor = std::move(t);
  return storage;
}

TorchCheckpoint parseZip(const ByteView& file, const std::filesystem::path& source) {
  const ZipArchive zip = ZipArchive::parse(file, source);
  const ZipEntry* pickle = nullptr;
  std::string root;
  for (const ZipEntry& e : zip.entries()) {
    const std::size_t slash = e.name.find('/');
    if (slash == std::string::npos || e.name.compare(slash, std::string::npos, "/data.pkl") != 0) continue;
    if (pickle != nullptr) throw FormatError(source, "two data.pkl records: not a torch.save archive");
    pickle = &e;
    root = e.name.substr(0, slash);
  }
  if (pickle == nullptr) throw FormatError(source, "zip archive without <folder>/data.pkl: not a torch.save archive");
  if (zip.find(root + "/constants.pkl") != nullptr) {
    throw UnsupportedError(source.string() +
                           ": a TorchScript archive (torch.jit.save), not a torch.save checkpoint; "
                           "save the weights with torch.save(model.state_dict(), path)");
  }
  if (const ZipEntry* order = zip.find(root + "/byteorder")) {
    const std::string_view value = zip.data(*order).chars();
    if (value != "little") {
      throw UnsupportedError(source.string() + ": checkpoint byte order " + quotedEntryName(value.substr(0, 16)) +
                             " is not supported (only little-endian)");
    }
  }
  if (!zip.crcMatches(*pickle)) {
    throw FormatError(source, "zip entry " + quotedEntryName(pickle->name) + ": CRC mismatch (the file is corrupt)");
  }

  std::map<std::string, std::pair<StorageId, PickleValuePtr>> loaded;  // views share one storage
  const PersistentLoader loader = [&](const PickleValue& id) -> PickleValuePtr {
    StorageId s = parseStorageId(id, source);
    if (s.view != nullptr) throw FormatError(source, "storage views appear only in the legacy format");
    const auto it = loaded.find(s.key);
    if (it != loaded.end()) {
      if (it->second.first.dtype != s.dtype || it->second.first.numel != s.numel) {
        throw FormatError(source, "storage " + quotedEntryName(s.key) + " is used with two element types or sizes");
      }
      return it->second.second;
    }
    const std::string name = root + "/data/" + s.key;
    const ZipEntry* entry = zip.find(name);
    if (entry == nullptr)
      throw FormatError(source, "storage " + quotedEntryName(s.key) + " has no record " + quotedEntryName(name));
    const ByteView bytes = zip.data(*entry);
    const std::uint64_t expected = storageBytes(s.numel, s.dtype, source, s.key);
    if (bytes.size != expected) {
      throw FormatError(source, "zip entry " + quotedEntryName(name) + ": storage of " + std::to_string(s.numel) + " " +
                                    dtypeName(s.dtype) + " elements needs " + std::to_string(expected) +
                                    " bytes but the record has " + std::to_string(bytes.size));
    }
    PickleValuePtr value = storageValue(s.dtype, s.numel, bytes);
    std::string key = s.key;
    loaded.emplace(std::move(key), std::make_pair(std::move(s), value));
    return value;
  };
  TorchCheckpoint checkpoint;
  checkpoint.root = unpickle(zip.data(*pickle), source, loader, &checkpoint.report);
  checkpoint.format = "torch zip (archive " + quotedEntryName(root) + ")";
  return checkpoint;
}

/// Reads the pickles of a legacy file one after another.
struct LegacyReader {
  const ByteView& file;
  const std::filesystem::path& source;
  std::size_t pos = 0;

  PickleValuePtr next(const PersistentLoader& loader, UnpickleReport* report = nullptr) {
    std::size_t used = 0;
    PickleValuePtr v = unpickle(file.sub(pos, file.size - pos), source, loader, report, &used);
    pos += used;
    return v;
  }
};

bool isLegacyMagic(const PickleValue& v) {
  if (v.kind != Kind::Opaque || v.text != "int (too large)" || v.items.size() != 1) return false;
  const PickleValue& digits = *v.items[0];
  if (digits.kind == Kind::String) return digits.text == kLegacyMagicDecimal;
  return digits.kind == Kind::Bytes && digits.text.size() == sizeof kLegacyMagic &&
         std::memcmp(digits.text.data(), kLegacyMagic, sizeof kLegacyMagic) == 0;
}

TorchCheckpoint parseLegacy(const ByteView& file, const std::filesystem::path& source) {
  LegacyReader in{file, source};
  if (!isLegacyMagic(*in.next(nullptr))) throw FormatError(source, "legacy torch file with a wrong magic number");
  const PickleValuePtr protocol = in.next(nullptr);
  if (protocol->kind != Kind::Int || protocol->integer != kLegacyProtocol) {
    throw UnsupportedError(source.string() + ": legacy torch format protocol is not 1001");
  }
  const PickleValuePtr sysInfo = in.next(nullptr);
  const PickleValue* littleEndian = sysInfo->find("little_endian");
  if (littleEndian == nullptr || littleEndian->kind != Kind::Bool || !littleEndian->boolean) {
    throw UnsupportedError(source.string() + ": legacy checkpoint is not little-endian");
  }

  // The storages' bytes follow the object pickle, and their element sizes are only known from its
  // persistent ids: a first pass records the ids against placeholder storages of the right size.
  const std::size_t objectStart = in.pos;
  std::map<std::string, StorageId> roots;
  const PersistentLoader record = [&](const PickleValue& id) -> PickleValuePtr {
    StorageId s = parseStorageId(id, source);
    const auto [it, inserted] = roots.emplace(s.key, s);
    if (!inserted && (it->second.dtype != s.dtype || it->second.numel != s.numel)) {
      throw FormatError(source, "storage " + quotedEntryName(s.key) + " is used with two element types or sizes");
    }
    return storageValue(s.dtype, s.numel, ByteView{nullptr, nullptr, storageBytes(s.numel, s.dtype, source, s.key)});
  };
  in.next(record);

  const PickleValuePtr keys = in.next(nullptr);
  if (keys->kind != Kind::List) throw FormatError(source, "legacy storage key list is not a list");
  std::map<std::string, ByteView> bytesOf;
  for (const PickleValuePtr& key : keys->items) {
    if (key->kind != Kind::String || roots.count(key->text) == 0) {
      throw FormatError(source, "legacy storage key list names a storage the object does not use");
    }
    const StorageId& s = roots.at(key->text);
    if (file.size - in.pos < 8) throw FormatError(source, "legacy storage " + quotedEntryName(s.key) + " truncated");
    std::int64_t count = 0;
    std::memcpy(&count, file.data + in.pos, 8);  // little-endian, checked in sys_info
    if (count != s.numel) {
      throw FormatError(source, "legacy storage " + quotedEntryName(s.key) + " holds " + std::to_string(count) +
                                    " elements but its persistent id says " + std::to_string(s.numel));
    }
    const std::uint64_t n = storageBytes(s.numel, s.dtype, source, s.key);
    if (n > file.size - in.pos - 8)
      throw FormatError(source, "legacy storage " + quotedEntryName(s.key) + " truncated");
    if (!bytesOf.emplace(s.key, file.sub(in.pos + 8, static_cast<std::size_t>(n))).second) {
      throw FormatError(source, "legacy storage " + quotedEntryName(s.key) + " appears twice in the key list");
    }
    in.pos += 8 + static_cast<std::size_t>(n);
  }
  if (bytesOf.size() != roots.size()) throw FormatError(source, "a legacy storage has no data");
  if (in.pos != file.size)
    throw FormatError(source, std::to_string(file.size - in.pos) + " bytes after the last storage");

  const PersistentLoader load = [&](const PickleValue& id) -> PickleValuePtr {
    const StorageId s = parseStorageId(id, source);
    const auto recorded = bytesOf.find(s.key);  // both passes run the same program: always there
    if (recorded == bytesOf.end())
      throw FormatError(source, "legacy storage " + quotedEntryName(s.key) + " has no data");
    ByteView bytes = recorded->second;
    std::int64_t numel = s.numel;
    if (s.view != nullptr) {  // (view_key, offset, size) in elements of the root storage
      const auto& v = s.view->items;
      if (s.view->kind != Kind::Tuple || v.size() != 3 || v[1]->kind != Kind::Int || v[2]->kind != Kind::Int ||
          v[1]->integer < 0 || v[2]->integer < 0 || v[1]->integer > s.numel ||
          v[2]->integer > s.numel - v[1]->integer) {
        throw FormatError(source, "legacy storage view of " + quotedEntryName(s.key) + " exceeds its storage");
      }
      const std::size_t es = dtypeSize(s.dtype);
      bytes = bytes.sub(static_cast<std::size_t>(v[1]->integer) * es, static_cast<std::size_t>(v[2]->integer) * es);
      numel = v[2]->integer;
    }
    return storageValue(s.dtype, numel, bytes);
  };
  TorchCheckpoint checkpoint;
  in.pos = objectStart;
  checkpoint.root = in.next(load, &checkpoint.report);
  checkpoint.format = "torch legacy";
  return checkpoint;
}

}  // namespace

bool looksLikeTorchLegacy(const ByteView& file) noexcept {
  const std::string_view s = file.chars();
  if (s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0x80) {  // PROTO n, [FRAME], LONG1 10 <magic>
    std::size_t at = 2;
    if (s.size() > at && static_cast<unsigned char>(s[at]) == 0x95) at += 9;
    return s.size() >= at + 12 && static_cast<unsigned char>(s[at]) == 0x8a && s[at + 1] == 10 &&
           std::memcmp(s.data() + at + 2, kLegacyMagic, sizeof kLegacyMagic) == 0;
  }
  // Protocols 0 and 1 spell the magic number as text.
  return s.substr(0, 1 + kLegacyMagicDecimal.size()) == "L" + std::string(kLegacyMagicDecimal);
}

TorchCheckpoint parseTorchCheckpoint(const ByteView& file, const std::filesystem::path& source) {
  if (looksLikeZip(file)) return parseZip(file, source);
  if (looksLikeTorchLegacy(file)) return parseLegacy(file, source);
  throw FormatError(source, "not a torch checkpoint (neither a torch.save zip archive nor the legacy format)");
}

TorchCheckpoint readTorchCheckpoint(const std::filesystem::path& path) {
  return parseTorchCheckpoint(mapFile(path), path);
}

std::vector<StateDict> findStateDicts(const PickleValue& root) {
  constexpr int kMaxDepth = 4;
  struct Pending {
    const PickleValue* value;
    std::string path;
    int depth;
  };
  std::vector<StateDict> found;
  std::unordered_set<const PickleValue*> seen;
  std::vector<Pending> todo{{&root, "", 0}};
  while (!todo.empty()) {
    Pending p = std::move(todo.back());
    todo.pop_back();
    const PickleValue& v = *p.value;
    if ((v.kind != Kind::Dict && v.kind != Kind::Opaque) || !seen.insert(&v).second) continue;
    const bool tensorsOnly = v.kind == Kind::Dict && !v.entries.empty() &&
                             std::all_of(v.entries.begin(), v.entries.end(), [](const auto& e) {
                               return e.first->kind == Kind::String && e.second->kind == Kind::Tensor;
                             });
    if (tensorsOnly) {
      StateDict sd{p.path, {}};
      sd.tensors.reserve(v.entries.size());
      for (const auto& [k, t] : v.entries) sd.tensors.push_back({k->text, *t->tensor});
      found.push_back(std::move(sd));
      continue;
    }
    if (p.depth >= kMaxDepth) continue;
    for (auto it = v.entries.rbegin(); it != v.entries.rend(); ++it) {  // reversed: popped in order
      if (it->first->kind != Kind::String) continue;
      todo.push_back(
          {it->second.get(), p.path.empty() ? it->first->text : p.path + "." + it->first->text, p.depth + 1});
    }
  }
  return found;
}

}  // namespace neco::formats

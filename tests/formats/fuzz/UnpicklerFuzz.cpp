// libFuzzer target for the restricted unpickler and the torch checkpoint container readers. Zip or
// legacy-looking inputs go through parseTorchCheckpoint; anything else is run as a bare pickle whose
// persistent ids all resolve to one small storage. Every outcome must be a value or a neco::Error:
// a crash, a sanitizer report, a leak (self-referencing values) or a hang is a finding.

#include "formats/Pickle.h"
#include "formats/TorchArchive.h"
#include "formats/ZipArchive.h"
#include "neco/core/Error.h"

#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace {

using neco::formats::PickleValue;
using neco::formats::PickleValuePtr;

PickleValuePtr fakeStorage(const PickleValue& id) {
  // The element type named in a torch persistent id when there is one, so views of every dtype occur.
  neco::formats::DType dtype = neco::formats::DType::F32;
  if (id.kind == PickleValue::Kind::Tuple && id.items.size() > 1 && id.items[1]->kind == PickleValue::Kind::Global) {
    dtype = neco::formats::storageDtype(id.items[1]->text).value_or(dtype);
  }
  static const auto bytes = std::make_shared<const std::vector<std::uint8_t>>(64, 0x3c);
  auto storage = std::make_shared<PickleValue>();
  storage->kind = PickleValue::Kind::Storage;
  auto t = std::make_shared<neco::formats::RawTensor>();
  t->dtype = dtype;
  t->shape = {static_cast<std::int64_t>(64 / neco::formats::dtypeSize(dtype))};
  t->strides = {1};
  t->storage = neco::formats::viewOf(bytes);
  storage->tensor = std::move(t);
  return storage;
}

/// Visits every value once (values form a DAG) and reads each tensor's first and last element, so
/// that ASan checks the bounds the parser promised.
void touch(const PickleValue& root) {
  std::unordered_set<const PickleValue*> seen;
  std::vector<const PickleValue*> todo{&root};
  double sink = 0;
  while (!todo.empty()) {
    const PickleValue* v = todo.back();
    todo.pop_back();
    if (!seen.insert(v).second) continue;
    if (v->tensor && v->tensor->numel() > 0) sink += v->tensor->valueAt(0) + v->tensor->valueAt(v->tensor->numel() - 1);
    for (const auto& item : v->items) todo.push_back(item.get());
    for (const auto& [k, value] : v->entries) {
      todo.push_back(k.get());
      todo.push_back(value.get());
    }
  }
  volatile double keep = sink;
  (void)keep;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::make_shared<const std::vector<std::uint8_t>>(data, data + size);
  const neco::formats::ByteView view = neco::formats::viewOf(bytes);
  try {
    if (neco::formats::looksLikeZip(view) || neco::formats::looksLikeTorchLegacy(view)) {
      const neco::formats::TorchCheckpoint checkpoint = neco::formats::parseTorchCheckpoint(view, "fuzz.pth");
      touch(*checkpoint.root);
      for (const auto& sd : neco::formats::findStateDicts(*checkpoint.root)) (void)sd.tensors.size();
    } else {
      neco::formats::UnpickleReport report;
      const PickleValuePtr value = neco::formats::unpickle(view, "fuzz.pkl", fakeStorage, &report);
      touch(*value);
      (void)neco::formats::findStateDicts(*value);
    }
  } catch (const neco::Error&) {
    // Typed refusals are the expected outcome for most inputs.
  }
  return 0;
}

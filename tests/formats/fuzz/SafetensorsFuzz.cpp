// libFuzzer target for the safetensors reader. A neco::Error is the expected answer to a bad input;
// any other exception, a sanitizer report or a failed invariant below aborts and is a bug.
// Invariants for accepted inputs: every tensor lies inside its storage, and writing then reading
// again gives the same tensors and metadata (and writing that again gives the same bytes).
#include "formats/Safetensors.h"
#include "neco/core/Error.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace neco::formats;

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "SafetensorsFuzz invariant failed: %s\n", what);
    std::abort();
  }
}

bool sameContent(const SafetensorsFile& a, const SafetensorsFile& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    const RawTensor& x = a.tensors[i].tensor;
    const RawTensor& y = b.tensors[i].tensor;
    if (a.tensors[i].name != b.tensors[i].name || x.dtype != y.dtype || x.shape != y.shape ||
        x.contiguousBytes() != y.contiguousBytes()) {
      return false;
    }
  }
  return true;
}

ByteView ownedView(std::vector<std::uint8_t> bytes) {
  return viewOf(std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes)));
}

/// Parses one candidate file and checks the invariants of accepted files.
void checkOne(std::vector<std::uint8_t> bytes) {
  // A private copy: the parser's views must keep their own owner alive, never libFuzzer's buffer.
  const ByteView input = ownedView(std::move(bytes));
  SafetensorsFile parsed;
  try {
    parsed = parseSafetensors(input, "fuzz-input.safetensors");
  } catch (const neco::Error&) {
    return;
  }
  require(looksLikeSafetensors(input), "an accepted file must pass the sniff");
  std::uint8_t touched = 0;
  for (const NamedTensor& t : parsed.tensors) {
    require(checkTensorBounds(t.tensor).empty(), "parsed tensor outside its storage");
    for (std::uint8_t b : t.tensor.contiguousBytes()) touched ^= b;
    if (t.tensor.numel() > 0) (void)(t.tensor.valueAt(0) + t.tensor.valueAt(t.tensor.numel() - 1));
  }
  (void)touched;

  // Outside the try: the writer must accept whatever the reader accepted.
  const std::vector<std::uint8_t> written = serializeSafetensors(parsed.tensors, parsed.metadata);
  const SafetensorsFile reread = parseSafetensors(ownedView(written), "fuzz-roundtrip.safetensors");
  require(sameContent(parsed, reread), "write -> read changed the content");
  require(serializeSafetensors(reread.tensors, reread.metadata) == written, "writing is not deterministic");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  checkOne(bytes);
  // Most mutations of the JSON change its length and die at the length prefix. To reach the header
  // and layout rules, also try the input with the prefix repaired to end at the last '}'.
  if (size > 8) {
    std::uint64_t length = 0;
    for (std::size_t i = size; i-- > 8;) {
      if (bytes[i] == '}') {
        length = i - 8 + 1;
        break;
      }
    }
    for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (8 * i));
    if (!std::equal(bytes.begin(), bytes.begin() + 8, data)) checkOne(std::move(bytes));
  }
  return 0;
}

#pragma once
// Our own restricted unpickler. A pickle is a program for a stack machine that can import and call
// any Python function (`os.system` included), so `.pth` / `.ckpt` files are read by an interpreter
// that knows only the opcodes of plain data (protocols 0-5 as pickle and torch.save write them) and
// a fixed allow-list of globals, and that executes nothing (RELIABILITY.md, promise 3):
//
//   global                                           | what the unpickler does with it
//   -------------------------------------------------|----------------------------------------------------------
//   collections.OrderedDict, builtins.dict           | called with () or an iterable of pairs -> Dict
//   builtins.list / tuple / set / frozenset          | called with () or one iterable -> List / Tuple / Set
//   builtins.bytes / bytearray, _codecs.encode       | protocol-2 spellings of bytes (Latin-1 text) -> Bytes
//   torch._utils._rebuild_tensor_v2 (and v1)         | (storage, offset, size, stride, ...) -> Tensor, bounds-checked
//   torch._utils._rebuild_parameter[_with_state]     | nn.Parameter -> its Tensor
//   torch._tensor._rebuild_from_type_v2              | Tensor / Parameter re-typed -> the Tensor (state dropped)
//   torch.{Float,Double,Half,BFloat16,Long,Int,      | storage types inside persistent ids (storageDtype);
//     Short,Char,Byte,Bool}Storage, torch.cuda.*,    | never called
//     torch.UntypedStorage                           |
//   torch dtypes (torch.float32, ...),               | named values, never called (a defaultdict's factory,
//     torch.Tensor, torch.nn.parameter.Parameter,    | a dtype in hyper-parameters)
//     typing.Any, builtins.object/int/float/str/bool |
//   copyreg._reconstructor, copyreg.__newobj__,      | object construction -> Opaque named after the class
//     numpy's _reconstruct                           |
//   inert classes: argparse.Namespace,               | Opaque: the name, the constructor arguments and the
//     torch.device, torch.Size, TorchVersion,        | dict state; nothing is called. These are what
//     pathlib paths, datetime.*, builtins.slice /    | Lightning / DINO / NeCo checkpoints hold next to
//     complex / range, collections.defaultdict /     | their tensors (hyper-parameters, arguments,
//     Counter / deque, numpy scalars / arrays /      | callback state)
//     dtypes, everything under pytorch_lightning.,   |
//     lightning., lightning_fabric., omegaconf.      |
//
// Any other global (`os.system`, `builtins.eval`, `builtins.getattr`, `subprocess.Popen`, a pickled
// nn.Module class, ...) stops the load with UnsupportedError naming it. Python-2 module names that
// protocol-2 pickles use (`__builtin__`, `copy_reg`) are mapped as Python 3's unpickler maps them.
//
// Resource limits: kMaxPickleDepth nested containers, kMaxPickleStack stack entries, kMaxPickleMemo
// memo entries, kMaxPickleObjects values and container slots together, text encoded to bytes no
// longer than the program; every length is checked against the remaining input before anything is
// allocated, and nothing recurses on the input's nesting. Self-referencing structures (a list that
// contains itself) cannot be built.

#include "formats/RawTensor.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neco::formats {

constexpr std::size_t kMaxPickleDepth = 1000;
constexpr std::size_t kMaxPickleStack = 1'000'000;
constexpr std::size_t kMaxPickleMemo = 8'000'000;
constexpr std::size_t kMaxPickleObjects = 10'000'000;

struct PickleValue;
using PickleValuePtr = std::shared_ptr<const PickleValue>;

/// One value of an unpickled program. Values form a DAG (the memo shares them), never a cycle.
struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Bytes, List, Tuple, Dict, Set, Tensor, Storage, Global, Opaque };
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0;
  /// String: UTF-8 text (as written; not validated). Bytes: the bytes. Global / Opaque: the qualified
  /// name, "argparse.Namespace"; an integer beyond int64 is Opaque "int (too large)".
  std::string text;
  /// List / Tuple / Set (frozensets too): the elements. Opaque: the constructor arguments, then any
  /// APPEND-ed elements (list subclasses); "int (too large)": one Bytes item, little-endian two's
  /// complement.
  std::vector<PickleValuePtr> items;
  /// Dict: key/value pairs in insertion order; a key that is None, a bool, an int, a float, a string
  /// or bytes appears once (a later SETITEM replaces the value, as in Python). Opaque: SETITEM-ed items
  /// (dict subclasses such as Lightning's AttributeDict) and the dict state (argparse.Namespace's
  /// attributes). Non-dict state of an Opaque (numpy arrays' raw data) and state set on a Dict, List
  /// or Tensor (an OrderedDict's `_metadata`) is dropped.
  std::vector<std::pair<PickleValuePtr, PickleValuePtr>> entries;
  /// Tensor: the view, bounds-checked against its storage. Storage: the whole storage as a
  /// one-dimensional contiguous tensor of the storage's dtype (shape {numel}); tensors built on it
  /// share its ByteView.
  std::shared_ptr<const RawTensor> tensor;

  /// The value under a string key of a Dict or an Opaque with dict entries; nullptr otherwise.
  const PickleValue* find(std::string_view key) const noexcept;
  bool isString(std::string_view s) const noexcept { return kind == Kind::String && text == s; }
};

/// "Dict", "Tensor", ... for messages.
const char* kindName(PickleValue::Kind kind) noexcept;

/// Resolves a persistent id (BINPERSID / PERSID; for torch, a tuple ('storage', type, key, location,
/// numel[, view])) to a value, normally a Storage. It must return a leaf value (no items or entries);
/// it throws to reject the id.
using PersistentLoader = std::function<PickleValuePtr(const PickleValue& persistentId)>;

struct UnpickleReport {
  std::vector<std::string> opaqueTypes;  ///< distinct Opaque names, in order first seen
};

/// Runs `program` up to its STOP opcode and returns the value it leaves. `source` names the file in
/// messages; `loader` may be empty when the program has no persistent ids. `bytesRead`, if given,
/// receives the offset just after STOP (legacy torch files concatenate several pickles).
/// Throws:
///  - FormatError(source, reason with the byte offset and opcode name): truncated or malformed
///    program, stack or mark underflow, undefined memo key, a length beyond the input, a limit
///    exceeded (depth, stack, memo, objects), a self-referencing structure, wrong arguments to an
///    allowed global (e.g. "tensor view exceeds its storage");
///  - UnsupportedError (message starts with `source`): an opcode outside the supported set (named,
///    with its byte and offset), a protocol above 5, or a global outside the allow-list:
///    "unsupported object `os.system` in pickle (only state-dict contents are loaded; nothing in a
///    checkpoint is executed)";
///  - whatever `loader` throws; InvalidArgumentError if it returns null or a non-leaf value.
PickleValuePtr unpickle(const ByteView& program, const std::filesystem::path& source, const PersistentLoader& loader,
                        UnpickleReport* report = nullptr, std::size_t* bytesRead = nullptr);

/// Element type of a torch storage global ("torch.FloatStorage" -> F32, "torch.cuda.HalfStorage" ->
/// F16, "torch.UntypedStorage" -> U8); nullopt for anything else.
std::optional<DType> storageDtype(std::string_view globalName) noexcept;

}  // namespace neco::formats

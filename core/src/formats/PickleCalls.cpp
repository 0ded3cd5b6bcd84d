// The allow-list of globals (the table documented in Pickle.h) and the emulation of the calls that a
// state dict's pickle makes: each allowed global has a fixed meaning here; nothing is imported or run.

#include "formats/PickleMachine.h"

namespace neco::formats {

namespace pickle_detail {

namespace {

struct GlobalRule {
  std::string_view name;
  Role role;
};

constexpr GlobalRule kGlobals[] = {
    // Containers and bytes, as Python's pickler spells them.
    {"collections.OrderedDict", Role::Dict},
    {"builtins.dict", Role::Dict},
    {"builtins.list", Role::List},
    {"builtins.tuple", Role::Tuple},
    {"builtins.set", Role::Set},
    {"builtins.frozenset", Role::Set},
    {"builtins.bytes", Role::Bytes},
    {"builtins.bytearray", Role::Bytes},
    {"_codecs.encode", Role::CodecsEncode},
    // Tensors (torch/_utils.py, torch/_tensor.py).
    {"torch._utils._rebuild_tensor_v2", Role::RebuildTensor},
    {"torch._utils._rebuild_tensor", Role::RebuildTensor},
    {"torch._utils._rebuild_parameter", Role::RebuildParameter},
    {"torch._utils._rebuild_parameter_with_state", Role::RebuildParameter},
    {"torch._tensor._rebuild_from_type_v2", Role::RebuildFromType},
    // Object construction protocols; the class named in the arguments must itself be allowed.
    {"copyreg._reconstructor", Role::Reconstructor},
    {"copyreg.__newobj__", Role::NewObj},
    {"numpy.core.multiarray._reconstruct", Role::Reconstructor},
    {"numpy._core.multiarray._reconstruct", Role::Reconstructor},
    // Named values: legal as arguments (a defaultdict's factory, a dtype, a type tag), never called.
    {"torch.Tensor", Role::Value},
    {"torch.nn.parameter.Parameter", Role::Value},
    {"typing.Any", Role::Value},
    {"builtins.object", Role::Value},
    {"builtins.int", Role::Value},
    {"builtins.float", Role::Value},
    {"builtins.str", Role::Value},
    {"builtins.bool", Role::Value},
    {"torch.float32", Role::Value},
    {"torch.float", Role::Value},
    {"torch.float64", Role::Value},
    {"torch.double", Role::Value},
    {"torch.float16", Role::Value},
    {"torch.half", Role::Value},
    {"torch.bfloat16", Role::Value},
    {"torch.int64", Role::Value},
    {"torch.long", Role::Value},
    {"torch.int32", Role::Value},
    {"torch.int", Role::Value},
    {"torch.int16", Role::Value},
    {"torch.short", Role::Value},
    {"torch.int8", Role::Value},
    {"torch.uint8", Role::Value},
    {"torch.bool", Role::Value},
    {"torch.complex64", Role::Value},
    {"torch.complex128", Role::Value},
    // Inert classes, built as Opaque: what training checkpoints keep next to their tensors.
    {"argparse.Namespace", Role::Opaque},
    {"torch.device", Role::Opaque},
    {"torch.Size", Role::Opaque},
    {"torch.torch_version.TorchVersion", Role::Opaque},
    {"pathlib.Path", Role::Opaque},
    {"pathlib.PosixPath", Role::Opaque},
    {"pathlib.WindowsPath", Role::Opaque},
    {"pathlib.PurePosixPath", Role::Opaque},
    {"pathlib.PureWindowsPath", Role::Opaque},
    {"datetime.datetime", Role::Opaque},
    {"datetime.date", Role::Opaque},
    {"datetime.time", Role::Opaque},
    {"datetime.timedelta", Role::Opaque},
    {"datetime.timezone", Role::Opaque},
    {"builtins.slice", Role::Opaque},
    {"builtins.complex", Role::Opaque},
    {"builtins.range", Role::Opaque},
    {"collections.defaultdict", Role::Opaque},
    {"collections.Counter", Role::Opaque},
    {"collections.deque", Role::Opaque},
    {"numpy.ndarray", Role::Opaque},
    {"numpy.dtype", Role::Opaque},
    {"numpy.core.multiarray.scalar", Role::Opaque},
    {"numpy._core.multiarray.scalar", Role::Opaque},
};

// Packages whose classes are inert data holders in checkpoints (hyper-parameters, callback state).
constexpr std::string_view kOpaquePrefixes[] = {"pytorch_lightning.", "lightning.", "lightning_fabric.", "omegaconf.",
                                                "numpy.dtypes."};

struct StorageRule {
  std::string_view name;
  DType dtype;
};

constexpr StorageRule kStorages[] = {
    {"FloatStorage", DType::F32},     {"DoubleStorage", DType::F64}, {"HalfStorage", DType::F16},
    {"BFloat16Storage", DType::BF16}, {"LongStorage", DType::I64},   {"IntStorage", DType::I32},
    {"ShortStorage", DType::I16},     {"CharStorage", DType::I8},    {"ByteStorage", DType::U8},
    {"BoolStorage", DType::Bool},
};

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// UTF-8 text whose code points are all <= 0xFF -> those bytes (Python's str.encode('latin1')).
std::optional<std::string> latin1FromUtf8(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xc0) == 0x80) {
      const unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
      if (cp < 0x80 || cp > 0xff) return std::nullopt;
      out += static_cast<char>(cp);
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

std::optional<Role> roleOf(std::string_view name) {
  for (const GlobalRule& rule : kGlobals) {
    if (rule.name == name) return rule.role;
  }
  if (storageDtype(name)) return Role::Storage;
  for (std::string_view prefix : kOpaquePrefixes) {
    if (startsWith(name, prefix)) return Role::Opaque;
  }
  return std::nullopt;
}

void Machine::pushGlobal(std::string_view module, std::string_view name) {
  // Protocol <= 2 pickles written by Python 3 use Python 2 module names; map them as Python 3's
  // unpickler does (fix_imports), so that `__builtin__.set` is `builtins.set`.
  std::string m(module), n(name);
  if (m == "__builtin__") {
    m = "builtins";
    if (n == "unicode" || n == "basestring") n = "str";
    if (n == "long") n = "int";
    if (n == "xrange") n = "range";
  } else if (m == "copy_reg") {
    m = "copyreg";
  }
  const std::string qualified = m + "." + n;
  if (!roleOf(qualified)) {
    if (startsWith(qualified, "torch.") && qualified.size() > 7 &&
        qualified.substr(qualified.size() - 7) == "Storage") {
      throw UnsupportedError(source_.string() + ": unsupported storage type `" + printable(qualified) +
                             "` in pickle (bool, integer and real floating-point tensors are read)");
    }
    throw UnsupportedError(source_.string() + ": unsupported object `" + printable(qualified) +
                           "` in pickle (only state-dict contents are loaded; nothing in a checkpoint is executed)");
  }
  push(makeText(Kind::Global, qualified));
}

void Machine::reduce() {
  NodePtr args = pop();
  NodePtr callable = pop();
  if (args->kind != Kind::Tuple) fail(std::string("REDUCE arguments are a ") + kindName(args->kind) + ", not a tuple");
  push(call(*callable, args->items));
}

void Machine::newObject(bool withKeywords) {
  NodePtr keywords = withKeywords ? pop() : nullptr;
  NodePtr args = pop();
  NodePtr cls = pop();
  if (args->kind != Kind::Tuple) fail(std::string("NEWOBJ arguments are a ") + kindName(args->kind) + ", not a tuple");
  if (keywords && keywords->kind != Kind::Dict) fail("NEWOBJ_EX keyword arguments are not a dict");
  NodePtr object = construct(*cls, args->items, 0);
  if (keywords && object->kind == Kind::Opaque) {
    for (const auto& [k, v] : keywords->entries) setItem(object, mut(k), mut(v));
  }
  push(std::move(object));
}

void Machine::build() {
  NodePtr state = pop();
  const NodePtr target = top();
  switch (target->kind) {
    case Kind::Opaque:
      return mergeState(target, *state);
    // Attributes of containers and tensors (an OrderedDict state_dict's `_metadata`) are dropped.
    case Kind::Dict:
    case Kind::List:
    case Kind::Set:
    case Kind::Tensor:
    case Kind::Storage:
      return;
    default:
      fail(std::string("BUILD on a ") + kindName(target->kind));
  }
}

void Machine::mergeState(const NodePtr& target, const PickleValue& state) {
  auto merge = [&](const PickleValue& dict) {
    for (const auto& [k, v] : dict.entries) setItem(target, mut(k), mut(v));
  };
  if (state.kind == Kind::Dict) return merge(state);
  // (dict state, slot state) as object.__reduce_ex__ writes it for classes with __slots__.
  const auto dictOrNone = [](const PickleValuePtr& v) { return v->kind == Kind::Dict || v->kind == Kind::None; };
  if (state.kind == Kind::Tuple && state.items.size() == 2 && dictOrNone(state.items[0]) &&
      dictOrNone(state.items[1])) {
    for (const PickleValuePtr& part : state.items) {
      if (part->kind == Kind::Dict) merge(*part);
    }
  }
  // Any other state (numpy's raw array tuples) is dropped: nothing reads it.
}

NodePtr Machine::call(const Node& callable, const std::vector<PickleValuePtr>& args) {
  if (callable.kind != Kind::Global) fail(std::string("REDUCE calls a ") + kindName(callable.kind) + ", not a global");
  switch (*roleOf(callable.text)) {  // admitted by pushGlobal
    case Role::Dict:
      return makeDict(args);
    case Role::List:
      return makeSequence(Kind::List, args);
    case Role::Tuple:
      return makeSequence(Kind::Tuple, args);
    case Role::Set:
      return makeSequence(Kind::Set, args);
    case Role::Bytes:
    case Role::CodecsEncode:
      return makeBytes(args);
    case Role::RebuildTensor:
      return rebuildTensor(args);
    case Role::RebuildParameter:
      if (args.size() < 3 || args[0]->kind != Kind::Tensor)
        fail("_rebuild_parameter needs a tensor and two more arguments");
      return mut(args[0]);
    case Role::RebuildFromType:
      return rebuildFromType(args);
    case Role::Reconstructor:
    case Role::NewObj:
      // copyreg._reconstructor(cls, base, state), copyreg.__newobj__(cls, *args), numpy's
      // _reconstruct(ndarray, shape, dtype): an object of the class named first.
      if (args.empty()) fail("`" + callable.text + "` without a class");
      return construct(static_cast<const Node&>(*args[0]), args, 1);
    case Role::Opaque:
      return opaque(callable.text, args, 0);
    case Role::Value:
    case Role::Storage:
      break;
  }
  fail("`" + callable.text + "` cannot be called");
}

NodePtr Machine::construct(const Node& cls, const std::vector<PickleValuePtr>& args, std::size_t firstArg) {
  if (cls.kind != Kind::Global) fail(std::string("object of a ") + kindName(cls.kind) + ", not of a class");
  const std::vector<PickleValuePtr> rest(args.begin() + static_cast<std::ptrdiff_t>(firstArg), args.end());
  switch (*roleOf(cls.text)) {
    // Subclasses of dict / list / set are filled by SETITEMS / APPENDS after construction.
    case Role::Dict:
      return make(Kind::Dict);
    case Role::List:
      return make(Kind::List);
    case Role::Set:
      return make(Kind::Set);
    case Role::Tuple:
      return makeSequence(Kind::Tuple, rest);
    case Role::Opaque:
      return opaque(cls.text, rest, 0);
    default:
      fail("`" + cls.text + "` is not a class this reader builds objects of");
  }
}

NodePtr Machine::opaque(std::string_view name, const std::vector<PickleValuePtr>& args, std::size_t firstArg) {
  NodePtr n = makeText(Kind::Opaque, name);
  for (std::size_t i = firstArg; i < args.size(); ++i) add(*n, mut(args[i]));
  if (report_ != nullptr && reported_.insert(n->text).second) report_->opaqueTypes.push_back(n->text);
  return n;
}

NodePtr Machine::makeDict(const std::vector<PickleValuePtr>& args) {
  NodePtr dict = make(Kind::Dict);
  if (args.empty()) return dict;
  if (args.size() != 1) fail("dict() with more than one argument");
  const PickleValue& source = *args[0];
  if (source.kind == Kind::Dict) {
    for (const auto& [k, v] : source.entries) setItem(dict, mut(k), mut(v));
  } else if (source.kind == Kind::List || source.kind == Kind::Tuple) {
    for (const PickleValuePtr& pair : source.items) {  // OrderedDict([[k, v], ...]) of protocol 0/1
      if ((pair->kind != Kind::List && pair->kind != Kind::Tuple) || pair->items.size() != 2) {
        fail("dict() of a sequence that is not of pairs");
      }
      setItem(dict, mut(pair->items[0]), mut(pair->items[1]));
    }
  } else {
    fail(std::string("dict() of a ") + kindName(source.kind));
  }
  return dict;
}

NodePtr Machine::makeSequence(Kind kind, const std::vector<PickleValuePtr>& args) {
  if (args.empty()) return make(kind);
  const PickleValue& source = *args[0];
  if (args.size() != 1 || (source.kind != Kind::List && source.kind != Kind::Tuple && source.kind != Kind::Set)) {
    fail(std::string(kindName(kind)) + "() takes nothing or one list, tuple or set");
  }
  std::vector<NodePtr> items;
  items.reserve(source.items.size());
  for (const PickleValuePtr& item : source.items) items.push_back(mut(item));
  return sequence(kind, std::move(items));
}

NodePtr Machine::makeBytes(const std::vector<PickleValuePtr>& args) {
  // Protocol 2 writes bytes as _codecs.encode(text, 'latin1'), b'' as bytes() and bytearray as
  // bytearray(text, 'latin-1').
  if (args.empty()) return makeText(Kind::Bytes, "");
  if (args.size() == 1 && args[0]->kind == Kind::Bytes) return mut(args[0]);  // immutable here: share, not copy
  if (args.size() == 2 && args[0]->kind == Kind::String && args[1]->kind == Kind::String) {
    // A real pickle encodes each text once; a memoised text encoded again and again would copy
    // without bound, so the encoded total may not pass the program's own size.
    derivedBytes_ += args[0]->text.size();
    if (derivedBytes_ > size_ + (std::size_t{1} << 20)) fail("encoded bytes exceed the size of the program");
    std::string encoding = args[1]->text;
    std::transform(encoding.begin(), encoding.end(), encoding.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    if (encoding == "latin1" || encoding == "latin-1" || encoding == "iso-8859-1" || encoding == "iso8859-1") {
      const std::optional<std::string> latin1 = latin1FromUtf8(args[0]->text);
      if (!latin1) fail("text to encode as Latin-1 has characters beyond U+00FF");
      return makeText(Kind::Bytes, *latin1);
    }
    if (encoding == "utf-8" || encoding == "utf8") return makeText(Kind::Bytes, args[0]->text);
    fail("bytes in encoding '" + printable(encoding) + "'");
  }
  fail("bytes() with unexpected arguments");
}

std::int64_t Machine::intArg(const PickleValue& v, const char* what) const {
  if (v.kind != Kind::Int) fail(std::string(what) + " is a " + kindName(v.kind) + ", not an int");
  return v.integer;
}

std::vector<std::int64_t> Machine::intTuple(const PickleValue& v, const char* what) const {
  constexpr std::size_t kMaxRank = 64;  // torch's limit on dimensions
  if (v.kind != Kind::Tuple && v.kind != Kind::List)
    fail(std::string(what) + " is a " + kindName(v.kind) + ", not a tuple");
  if (v.items.size() > kMaxRank) fail(std::string(what) + " has more than 64 dimensions");
  std::vector<std::int64_t> out;
  for (const PickleValuePtr& item : v.items) out.push_back(intArg(*item, what));
  return out;
}

NodePtr Machine::rebuildTensor(const std::vector<PickleValuePtr>& args) {
  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  // and the older _rebuild_tensor(storage, storage_offset, size, stride).
  if (args.size() < 4 || args.size() > 7) fail("_rebuild_tensor with " + std::to_string(args.size()) + " arguments");
  const PickleValue& storage = *args[0];
  if (storage.kind != Kind::Storage || !storage.tensor) {
    fail(std::string("a tensor's storage is a ") + kindName(storage.kind) + ", not a storage");
  }
  RawTensor t;
  t.dtype = storage.tensor->dtype;
  t.storage = storage.tensor->storage;
  t.storageOffset = intArg(*args[1], "storage offset");
  t.shape = intTuple(*args[2], "size");
  t.strides = intTuple(*args[3], "stride");
  if (t.shape.size() != t.strides.size()) fail("tensor size and stride differ in length");
  const std::string reason = checkTensorBounds(t);
  if (!reason.empty()) {
    fail((startsWith(reason, "view needs") ? "tensor view exceeds its storage: " : "invalid tensor view: ") + reason);
  }
  NodePtr n = make(Kind::Tensor);
  n->tensor = std::make_shared<const RawTensor>(std::move(t));
  return n;
}

NodePtr Machine::rebuildFromType(const std::vector<PickleValuePtr>& args) {
  // _rebuild_from_type_v2(func, new_type, args, state): torch 2.x for tensors with Python state.
  if (args.size() != 4 || args[0]->kind != Kind::Global || args[1]->kind != Kind::Global ||
      args[2]->kind != Kind::Tuple) {
    fail("_rebuild_from_type_v2 with unexpected arguments");
  }
  const Role role = *roleOf(args[0]->text);
  if (role != Role::RebuildTensor && role != Role::RebuildParameter) {
    fail("_rebuild_from_type_v2 of `" + args[0]->text + "`");
  }
  if (args[1]->text != "torch.Tensor" && args[1]->text != "torch.nn.parameter.Parameter") {
    throw UnsupportedError(source_.string() + ": tensor subclass `" + printable(args[1]->text) +
                           "` in pickle is not supported");
  }
  return call(static_cast<const Node&>(*args[0]), args[2]->items);
}

}  // namespace pickle_detail

std::optional<DType> storageDtype(std::string_view name) noexcept {
  if (name == "torch.UntypedStorage" || name == "torch.storage.UntypedStorage") return DType::U8;
  std::string_view type;
  if (pickle_detail::startsWith(name, "torch.cuda.")) {
    type = name.substr(11);  // legacy files saved from a GPU name the CUDA storage classes
  } else if (pickle_detail::startsWith(name, "torch.")) {
    type = name.substr(6);
  } else {
    return std::nullopt;
  }
  for (const pickle_detail::StorageRule& rule : pickle_detail::kStorages) {
    if (rule.name == type) return rule.dtype;
  }
  return std::nullopt;
}

}  // namespace neco::formats

// The restricted unpickler's stack machine: the opcodes of plain data (protocols 0-5). Globals and
// the calls they stand for are in PickleCalls.cpp; nothing here imports, looks up or executes code.

#include "formats/PickleMachine.h"

#include <charconv>

namespace neco::formats {

namespace pickle_detail {

namespace {

/// Opcodes Python knows but this reader refuses, with the reason a user can act on.
const char* refusalReason(std::uint8_t op) {
  switch (op) {
    case 'i':
    case 'o':
      return "it instantiates arbitrary classes (Python 2 style objects)";
    case 0x82:
    case 0x83:
    case 0x84:
      return "the extension registry is not available";
    case 0x97:
    case 0x98:
      return "out-of-band buffers are not available";
    default:
      return "it is not a pickle opcode";
  }
}

std::string hexByte(std::uint8_t b) {
  static const char* hex = "0123456789abcdef";
  return std::string("0x") + hex[b >> 4] + hex[b & 15];
}

/// The key under which Python finds `key` in a dict, for the kinds compared by value (True == 1 ==
/// 1.0 as in Python); false for kinds this reader compares by identity only (tuples, objects).
bool dictKey(const PickleValue& key, std::string& out) {
  switch (key.kind) {
    case Kind::None:
      out = "n";
      return true;
    case Kind::Bool:
      out = key.boolean ? "i1" : "i0";
      return true;
    case Kind::Int:
      out = "i" + std::to_string(key.integer);
      return true;
    case Kind::Float:
      if (key.real > -9.2e18 && key.real < 9.2e18 &&
          key.real == static_cast<double>(static_cast<std::int64_t>(key.real))) {
        out = "i" + std::to_string(static_cast<std::int64_t>(key.real));
      } else {
        std::uint64_t bits;
        std::memcpy(&bits, &key.real, 8);
        out = "f" + std::to_string(bits);
      }
      return true;
    case Kind::String:
      out = "s" + key.text;
      return true;
    case Kind::Bytes:
      out = "b" + key.text;
      return true;
    default:
      return false;
  }
}

}  // namespace

// ---- input ------------------------------------------------------------------------------------

void Machine::fail(const std::string& reason) const {
  throw FormatError(
      source_, "pickle: " + reason + " (opcode " + opcodeName(op_) + " at offset " + std::to_string(opStart_) + ")");
}

const std::uint8_t* Machine::take(std::uint64_t n) {
  if (n > size_ - pos_) {
    fail("argument of " + std::to_string(n) + " bytes but only " + std::to_string(size_ - pos_) + " remain");
  }
  const std::uint8_t* p = data_ + pos_;
  pos_ += static_cast<std::size_t>(n);
  return p;
}

std::uint64_t Machine::le(std::size_t n) {
  const std::uint8_t* p = take(n);
  std::uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

std::string_view Machine::line() {
  const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
  if (nl == nullptr) fail("text argument without an end of line");
  const auto end = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nl) - data_);
  const std::string_view s(reinterpret_cast<const char*>(data_ + pos_), end - pos_);
  pos_ = end + 1;
  return s;
}

// ---- values and the stack ---------------------------------------------------------------------

NodePtr Machine::make(Kind kind) {
  if (++objects_ > kMaxPickleObjects) fail("more than " + std::to_string(kMaxPickleObjects) + " objects");
  auto n = std::make_shared<Node>();
  n->kind = kind;
  return n;
}

NodePtr Machine::makeInt(std::int64_t v) {
  NodePtr n = make(Kind::Int);
  n->integer = v;
  return n;
}

NodePtr Machine::makeText(Kind kind, std::string_view s) {
  NodePtr n = make(kind);
  n->text.assign(s.data(), s.size());
  return n;
}

void Machine::push(NodePtr v) {
  if (stack_.size() + marks_.size() >= kMaxPickleStack) {
    fail("stack deeper than " + std::to_string(kMaxPickleStack) + " entries");
  }
  stack_.push_back(std::move(v));
}

NodePtr Machine::pop() {
  if (stack_.size() <= base()) fail("stack underflow");
  NodePtr v = std::move(stack_.back());
  stack_.pop_back();
  return v;
}

const NodePtr& Machine::top() {
  if (stack_.size() <= base()) fail("stack underflow");
  return stack_.back();
}

std::vector<NodePtr> Machine::popMark() {
  if (marks_.empty()) fail("no MARK on the stack");
  const std::size_t b = marks_.back();
  marks_.pop_back();
  std::vector<NodePtr> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(b)),
                             std::make_move_iterator(stack_.end()));
  stack_.resize(b);
  return items;
}

void Machine::adopt(Node& parent, Node& child) {
  if (&parent == &child) fail("a container would contain itself (self-referencing structures are not supported)");
  if (parent.adopted) {
    fail("a container is changed after being stored in another (self-referencing structures are not supported)");
  }
  // Slots count like objects: list(l) or an Opaque's arguments can copy a memoised container many
  // times for a few bytes of program.
  if (++objects_ > kMaxPickleObjects) fail("more than " + std::to_string(kMaxPickleObjects) + " objects");
  const std::uint32_t depth = child.depth + 1;
  if (depth > kMaxPickleDepth) fail("containers nested deeper than " + std::to_string(kMaxPickleDepth) + " levels");
  parent.depth = std::max(parent.depth, depth);
  child.adopted = true;
}

void Machine::setItem(const NodePtr& dict, NodePtr key, NodePtr value) {
  adopt(*dict, *key);
  adopt(*dict, *value);
  std::string k;
  if (dictKey(*key, k)) {
    auto& slot = keyIndex_[dict.get()];
    if (!slot.first) slot.first = dict;
    const auto inserted = slot.second.emplace(std::move(k), dict->entries.size());
    if (!inserted.second) {
      dict->entries[inserted.first->second].second = std::move(value);
      return;
    }
  }
  dict->entries.emplace_back(std::move(key), std::move(value));
}

NodePtr Machine::sequence(Kind kind, std::vector<NodePtr> items) {
  NodePtr n = make(kind);
  n->items.reserve(items.size());
  for (NodePtr& item : items) add(*n, std::move(item));
  return n;
}

void Machine::extend(const NodePtr& target, std::vector<NodePtr> items) {
  // Lists, sets and list-like Opaque objects take APPEND / APPENDS / ADDITEMS.
  if (target->kind != Kind::List && target->kind != Kind::Set && target->kind != Kind::Opaque) {
    fail(std::string("cannot add items to a ") + kindName(target->kind));
  }
  for (NodePtr& item : items) add(*target, std::move(item));
}

// ---- memo and persistent ids ------------------------------------------------------------------

void Machine::put(std::uint64_t index) {
  const NodePtr& v = top();
  if (memo_.size() >= kMaxPickleMemo && memo_.count(index) == 0) {
    fail("memo larger than " + std::to_string(kMaxPickleMemo) + " entries");
  }
  memo_[index] = v;
}

void Machine::get(std::uint64_t index) {
  const auto it = memo_.find(index);
  if (it == memo_.end()) fail("memo key " + std::to_string(index) + " is not defined");
  push(it->second);
}

std::uint64_t Machine::textIndex(std::string_view s) {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) fail("malformed memo index '" + printable(s) + "'");
  return v;
}

void Machine::persistent(const NodePtr& id) {
  if (!loader_) fail("persistent id (a tensor storage) in a pickle read without a storage loader");
  const PickleValuePtr loaded = loader_(*id);
  if (!loaded) throw InvalidArgumentError(source_.string() + ": persistent loader returned nothing");
  if (!loaded->items.empty() || !loaded->entries.empty()) {
    throw InvalidArgumentError(source_.string() + ": persistent loader must return a leaf value");
  }
  NodePtr n = make(loaded->kind);
  static_cast<PickleValue&>(*n) = *loaded;
  push(std::move(n));
}

// ---- the machine ------------------------------------------------------------------------------

void Machine::step() {
  switch (op_) {
    case 0x80: {  // PROTO
      const std::uint8_t version = *take(1);
      if (version > 5) {
        throw UnsupportedError(source_.string() + ": pickle protocol " + std::to_string(version) +
                               " is newer than 5, the highest this reader knows");
      }
      return;
    }
    case 0x95: {  // FRAME: a length prefix for buffered reading; only checked to lie inside the input
      const std::uint64_t n = le(8);
      if (n > size_ - pos_)
        fail("frame of " + std::to_string(n) + " bytes but only " + std::to_string(size_ - pos_) + " remain");
      return;
    }
    case '(':
      if (stack_.size() + marks_.size() >= kMaxPickleStack)
        fail("stack deeper than " + std::to_string(kMaxPickleStack));
      marks_.push_back(stack_.size());
      return;
    case '0':  // POP: Python pops the MARK itself when nothing was pushed after it
      if (stack_.size() > base()) {
        stack_.pop_back();
      } else if (!marks_.empty()) {
        marks_.pop_back();
      } else {
        fail("stack underflow");
      }
      return;
    case '1':
      popMark();
      return;
    case '2':
      push(top());
      return;
    case 'N':
      return push(make(Kind::None));
    case 0x88:
    case 0x89: {
      NodePtr b = make(Kind::Bool);
      b->boolean = op_ == 0x88;
      return push(std::move(b));
    }
    case 'J':
      return push(makeInt(static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4)))));
    case 'K':
      return push(makeInt(static_cast<std::int64_t>(le(1))));
    case 'M':
      return push(makeInt(static_cast<std::int64_t>(le(2))));
    case 0x8a: {
      const std::size_t n = static_cast<std::size_t>(le(1));
      return pushLong(take(n), n);
    }
    case 0x8b: {
      const auto n = static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4)));
      if (n < 0 || n > 65536) fail("LONG4 of " + std::to_string(n) + " bytes (limit 65536)");
      return pushLong(take(static_cast<std::uint64_t>(n)), static_cast<std::size_t>(n));
    }
    case 'I':
      return pushTextInt(line(), false);
    case 'L':
      return pushTextInt(line(), true);
    case 'F':
      return pushFloat(line());
    case 'G': {
      const std::uint8_t* p = take(8);
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
      NodePtr f = make(Kind::Float);
      std::memcpy(&f->real, &bits, 8);
      return push(std::move(f));
    }
    case 'X':
      return push(makeText(Kind::String, bytes(le(4))));
    case 0x8c:
      return push(makeText(Kind::String, bytes(le(1))));
    case 0x8d:
      return push(makeText(Kind::String, bytes(le(8))));
    case 'T': {
      const auto n = static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4)));
      if (n < 0) fail("negative BINSTRING length");
      return push(makeText(Kind::String, bytes(static_cast<std::uint64_t>(n))));
    }
    case 'U':
      return push(makeText(Kind::String, bytes(le(1))));
    case 'S':
      return pushQuotedString(line());
    case 'V':
      return pushRawUnicode(line());
    case 'B':
      return push(makeText(Kind::Bytes, bytes(le(4))));
    case 'C':
      return push(makeText(Kind::Bytes, bytes(le(1))));
    case 0x8e:
    case 0x96:
      return push(makeText(Kind::Bytes, bytes(le(8))));
    case ')':
      return push(make(Kind::Tuple));
    case 't':
      return push(sequence(Kind::Tuple, popMark()));
    case 0x85:
    case 0x86:
    case 0x87: {
      std::vector<NodePtr> items(static_cast<std::size_t>(op_ - 0x84));
      for (std::size_t i = items.size(); i-- > 0;) items[i] = pop();
      return push(sequence(Kind::Tuple, std::move(items)));
    }
    case ']':
      return push(make(Kind::List));
    case 'l':
      return push(sequence(Kind::List, popMark()));
    case 'a': {
      NodePtr item = pop();
      std::vector<NodePtr> one;
      one.push_back(std::move(item));
      return extend(top(), std::move(one));
    }
    case 'e': {
      std::vector<NodePtr> items = popMark();
      return extend(top(), std::move(items));
    }
    case 0x8f:
      return push(make(Kind::Set));
    case 0x91:
      return push(sequence(Kind::Set, popMark()));
    case 0x90: {
      std::vector<NodePtr> items = popMark();
      if (top()->kind != Kind::Set) fail("ADDITEMS to a " + std::string(kindName(top()->kind)));
      return extend(top(), std::move(items));
    }
    case '}':
      return push(make(Kind::Dict));
    case 'd':
    case 's':
    case 'u': {
      std::vector<NodePtr> items;
      if (op_ == 's') {
        NodePtr value = pop();
        NodePtr key = pop();
        items.push_back(std::move(key));
        items.push_back(std::move(value));
      } else {
        items = popMark();
      }
      if (items.size() % 2 != 0) fail("odd number of items for a dict");
      NodePtr dict = op_ == 'd' ? make(Kind::Dict) : top();
      if (dict->kind != Kind::Dict && dict->kind != Kind::Opaque)
        fail(std::string("SETITEM on a ") + kindName(dict->kind));
      for (std::size_t i = 0; i < items.size(); i += 2) setItem(dict, std::move(items[i]), std::move(items[i + 1]));
      if (op_ == 'd') push(std::move(dict));
      return;
    }
    case 'p':
      return put(textIndex(line()));
    case 'q':
      return put(le(1));
    case 'r':
      return put(le(4));
    case 0x94:
      return put(memo_.size());
    case 'g':
      return get(textIndex(line()));
    case 'h':
      return get(le(1));
    case 'j':
      return get(le(4));
    case 'c': {
      const std::string_view module = line();
      return pushGlobal(module, line());
    }
    case 0x93: {
      const NodePtr name = pop();
      const NodePtr module = pop();
      if (module->kind != Kind::String || name->kind != Kind::String) fail("STACK_GLOBAL needs two strings");
      return pushGlobal(module->text, name->text);
    }
    case 'R':
      return reduce();
    case 0x81:
      return newObject(false);
    case 0x92:
      return newObject(true);
    case 'b':
      return build();
    case 'Q':
      return persistent(pop());
    case 'P':
      return persistent(makeText(Kind::String, line()));
    default:
      throw UnsupportedError(source_.string() + ": unsupported pickle opcode " + opcodeName(op_) + " (byte " +
                             hexByte(op_) + ") at offset " + std::to_string(opStart_) + ": " + refusalReason(op_) +
                             "; only the opcodes of plain data and state dicts are read");
  }
}

PickleValuePtr Machine::run(std::size_t* bytesRead) {
  while (true) {
    opStart_ = pos_;
    if (pos_ >= size_) {
      throw FormatError(source_, "pickle: ends at offset " + std::to_string(pos_) + " without STOP (truncated?)");
    }
    op_ = data_[pos_++];
    if (op_ == '.') break;
    step();
  }
  NodePtr result = pop();
  if (bytesRead != nullptr) *bytesRead = pos_;
  return result;
}

}  // namespace pickle_detail

// ---- public interface -------------------------------------------------------------------------

const PickleValue* PickleValue::find(std::string_view key) const noexcept {
  if (kind != Kind::Dict && kind != Kind::Opaque) return nullptr;
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::String && k->text == key) return v.get();
  }
  return nullptr;
}

const char* kindName(PickleValue::Kind kind) noexcept {
  using K = PickleValue::Kind;
  switch (kind) {
    case K::None:
      return "None";
    case K::Bool:
      return "Bool";
    case K::Int:
      return "Int";
    case K::Float:
      return "Float";
    case K::String:
      return "String";
    case K::Bytes:
      return "Bytes";
    case K::List:
      return "List";
    case K::Tuple:
      return "Tuple";
    case K::Dict:
      return "Dict";
    case K::Set:
      return "Set";
    case K::Tensor:
      return "Tensor";
    case K::Storage:
      return "Storage";
    case K::Global:
      return "Global";
    case K::Opaque:
      return "Opaque";
  }
  return "?";
}

PickleValuePtr unpickle(const ByteView& program, const std::filesystem::path& source, const PersistentLoader& loader,
                        UnpickleReport* report, std::size_t* bytesRead) {
  pickle_detail::Machine machine(program, source, loader, report);
  return machine.run(bytesRead);
}

}  // namespace neco::formats

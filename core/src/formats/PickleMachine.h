#pragma once
// Internal to the unpickler (Pickle.cpp: the stack machine and opcodes; PickleScalars.cpp: numbers and
// text; PickleCalls.cpp: the allow-list of globals and the calls they stand for). Not part of
// neco_formats' interface.

#include "formats/Pickle.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace neco::formats::pickle_detail {

using Kind = PickleValue::Kind;

/// Every value the machine creates. The extra fields serve the limits and stay with the value.
struct Node : PickleValue {
  std::uint32_t depth = 0;  ///< containers below this one on the longest chain
  /// Stored inside another container. From then on the container may not change: a pickle can only
  /// build a cycle by modifying a container that is already inside another (or inserting a container
  /// into itself), so refusing both makes cycles — leaks and endless walks — impossible. Python's
  /// pickler completes every object before storing it anywhere unless the data is self-referencing.
  bool adopted = false;
};
using NodePtr = std::shared_ptr<Node>;

/// Values handed out as const are Nodes the machine itself created; recovers the mutable handle.
inline NodePtr mut(const PickleValuePtr& value) {
  return std::static_pointer_cast<Node>(std::const_pointer_cast<PickleValue>(value));
}

/// What calling (REDUCE / NEWOBJ) an allowed global means.
enum class Role {
  Value,
  Dict,
  List,
  Tuple,
  Set,
  Bytes,
  CodecsEncode,
  RebuildTensor,
  RebuildParameter,
  RebuildFromType,
  Reconstructor,
  NewObj,
  Storage,
  Opaque
};

/// The allow-list: nullopt for a global that must be refused.
std::optional<Role> roleOf(std::string_view qualifiedName);
const char* opcodeName(std::uint8_t op);
/// Text from a file, made safe to print in a message (non-printable bytes as \xHH, long text cut).
std::string printable(std::string_view s);

class Machine {
 public:
  Machine(const ByteView& program, const std::filesystem::path& source, const PersistentLoader& loader,
          UnpickleReport* report)
      : data_(program.data), size_(program.size), source_(source), loader_(loader), report_(report) {}

  PickleValuePtr run(std::size_t* bytesRead);

 private:
  // ---- input (Pickle.cpp) ----
  [[noreturn]] void fail(const std::string& reason) const;
  const std::uint8_t* take(std::uint64_t n);
  std::uint64_t le(std::size_t n);
  std::string_view bytes(std::uint64_t n) {
    return {reinterpret_cast<const char*>(take(n)), static_cast<std::size_t>(n)};
  }
  std::string_view line();

  // ---- values and the stack (Pickle.cpp) ----
  NodePtr make(Kind kind);
  NodePtr makeInt(std::int64_t v);
  NodePtr makeText(Kind kind, std::string_view s);
  std::size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(NodePtr v);
  NodePtr pop();
  const NodePtr& top();
  std::vector<NodePtr> popMark();
  void adopt(Node& parent, Node& child);
  void add(Node& container, NodePtr item) {
    adopt(container, *item);
    container.items.push_back(std::move(item));
  }
  void setItem(const NodePtr& dict, NodePtr key, NodePtr value);
  NodePtr sequence(Kind kind, std::vector<NodePtr> items);

  // ---- opcodes (Pickle.cpp; numbers and text in PickleScalars.cpp) ----
  void step();
  void pushLong(const std::uint8_t* p, std::size_t n);
  void pushTextInt(std::string_view s, bool isLong);
  void pushFloat(std::string_view s);
  void pushQuotedString(std::string_view s);
  void pushRawUnicode(std::string_view s);
  void persistent(const NodePtr& id);
  void put(std::uint64_t index);
  void get(std::uint64_t index);
  std::uint64_t textIndex(std::string_view s);
  void extend(const NodePtr& target, std::vector<NodePtr> items);

  // ---- globals and calls (PickleCalls.cpp): emulated for allowed globals only ----
  void pushGlobal(std::string_view module, std::string_view name);
  void reduce();
  void newObject(bool withKeywords);
  void build();
  NodePtr call(const Node& callable, const std::vector<PickleValuePtr>& args);
  NodePtr construct(const Node& cls, const std::vector<PickleValuePtr>& args, std::size_t firstArg);
  NodePtr opaque(std::string_view name, const std::vector<PickleValuePtr>& args, std::size_t firstArg);
  NodePtr makeDict(const std::vector<PickleValuePtr>& args);
  NodePtr makeSequence(Kind kind, const std::vector<PickleValuePtr>& args);
  NodePtr makeBytes(const std::vector<PickleValuePtr>& args);
  NodePtr rebuildTensor(const std::vector<PickleValuePtr>& args);
  NodePtr rebuildFromType(const std::vector<PickleValuePtr>& args);
  void mergeState(const NodePtr& target, const PickleValue& state);
  std::int64_t intArg(const PickleValue& v, const char* what) const;
  std::vector<std::int64_t> intTuple(const PickleValue& v, const char* what) const;

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::size_t opStart_ = 0;
  std::uint8_t op_ = 0;
  const std::filesystem::path& source_;
  const PersistentLoader& loader_;
  UnpickleReport* report_;
  std::unordered_set<std::string> reported_;
  std::vector<NodePtr> stack_;
  std::vector<std::size_t> marks_;  ///< stack sizes at each open MARK
  std::unordered_map<std::uint64_t, NodePtr> memo_;
  /// Per dict: key -> entry index, so that a repeated key replaces its value as in Python. Holds the
  /// dict, so its address is never reused by another dict during the run.
  std::unordered_map<const Node*, std::pair<NodePtr, std::unordered_map<std::string, std::size_t>>> keyIndex_;
  std::size_t objects_ = 0;       ///< values created plus container slots filled
  std::size_t derivedBytes_ = 0;  ///< bytes produced by encoding text (_codecs.encode, bytearray)
};

}  // namespace neco::formats::pickle_detail

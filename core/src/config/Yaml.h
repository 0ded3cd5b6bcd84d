#pragma once
// A small, strict YAML subset for configuration files (the reference's experiments/configs/*.yml and
// our run configs). Torch-free, no dependency: the GPU build machine has only LibTorch.
//
// Accepted: block mappings by indentation (spaces only), block sequences ("- x", also "key:" followed
// by "- x" at the key's indentation, and compact "- key: v" items), single-line flow sequences and
// mappings ([a, [b, c]], {k: v}), plain / 'single' / "double" quoted scalars (all YAML escapes),
// comments (# at a line start or after whitespace, never inside quotes), null (null, Null, NULL, ~,
// an empty value) and one optional leading "---".
// Rejected with FormatError("<file>: line N: reason"): tabs in indentation, anchors / aliases / tags,
// block scalars (| >), directives, several documents, duplicate keys, bad indentation, multi-line
// plain, quoted or flow scalars, unterminated quotes, files over 1 MiB, nesting deeper than 32.
//
// Scalars stay text until a typed accessor reads them, with the YAML 1.1 rules PyYAML applies (the
// reference loads its configs with PyYAML), except where noted:
//   asBool    true/false, True/False, TRUE/FALSE, yes/no (Yes, YES, No, NO), on/off (On, ON, Off, OFF)
//   asInt     decimal only: [-+]?(0|[1-9][0-9]*). A leading zero is rejected (YAML 1.1 reads 012 as
//             octal 10); 7.0 is not an integer.
//   asDouble  any integer or decimal float: 1, 1., .5, 0.00001, 1.0e-5, .inf, -.inf, .nan.
//             LENIENT on purpose: an exponent without a dot or sign (1e-5, 2E3) is a number here,
//             whereas PyYAML reads it as a *string* (and the reference would then fail later).
//             No digit separators (1_000).
//   asString  any non-null scalar, plain or quoted.
// A quoted scalar is always a string: '5' is not a number and 'true' not a boolean, as in PyYAML.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neco::config {

inline constexpr std::size_t kMaxYamlBytes = std::size_t{1} << 20;
inline constexpr int kMaxYamlDepth = 32;

class YamlNode {
 public:
  enum class Kind { Null, Scalar, Sequence, Mapping };
  enum class Style { Plain, SingleQuoted, DoubleQuoted };
  using Entry = std::pair<std::string, YamlNode>;

  Kind kind() const noexcept { return kind_; }
  bool isNull() const noexcept { return kind_ == Kind::Null; }
  bool isScalar() const noexcept { return kind_ == Kind::Scalar; }
  bool isSequence() const noexcept { return kind_ == Kind::Sequence; }
  bool isMapping() const noexcept { return kind_ == Kind::Mapping; }
  /// 1-based line where the node starts; 0 for a value that did not come from a file (--set).
  int line() const noexcept { return line_; }
  /// Key path from the root: "train.lr_heads", "data.size_crops[1]"; "" for the root.
  const std::string& path() const noexcept { return path_; }
  std::filesystem::path source() const { return source_ ? *source_ : std::filesystem::path(); }
  Style style() const noexcept { return style_; }
  /// A scalar's value: quotes removed, escapes resolved; "" for other kinds.
  const std::string& text() const noexcept { return text_; }

  /// The items of a sequence. Throws FormatError (naming the path and line) for another kind.
  const std::vector<YamlNode>& items() const;
  /// The entries of a mapping, in file order. Throws FormatError for another kind.
  const std::vector<Entry>& entries() const;
  /// The value of `key` in a mapping; nullptr when absent or when this is not a mapping.
  const YamlNode* find(std::string_view key) const noexcept;

  // Typed reads (rules in the file comment). Each throws FormatError("<file>: line N: `path`: why").
  std::string asString() const;
  double asDouble() const;
  std::int64_t asInt(std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                     std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const;
  bool asBool() const;

  /// Throws FormatError("<file>: line N: `path`: <reason>") about this node.
  [[noreturn]] void fail(const std::string& reason) const;
  /// "null", "the string 'x'", "the number 1e-5", "a sequence", "a mapping": for messages.
  std::string describe() const;

 private:
  friend class YamlParser;
  Kind kind_ = Kind::Null;
  Style style_ = Style::Plain;
  int line_ = 0;
  std::string text_;
  std::string path_;
  std::vector<YamlNode> items_;
  std::vector<Entry> entries_;
  std::shared_ptr<const std::filesystem::path> source_;
};

/// Parses one document. An empty document (only comments) gives a null root. Throws FormatError
/// naming `source` and the line for everything outside the subset.
YamlNode parseYaml(std::string_view text, const std::filesystem::path& source);

/// Parses a single-line value (plain, quoted or flow scalar / collection), e.g. the right-hand side of
/// `--set data.size_crops=[224,98]`. Nodes get line 0 and paths below `path`. Throws FormatError.
YamlNode parseYamlValue(std::string_view text, const std::filesystem::path& source, const std::string& path);

/// `value` written so that parseYaml (and PyYAML) read it back as the same string: plain when that is
/// unambiguous and `alwaysQuote` is false, else single-quoted ('' for a quote), or double-quoted with
/// escapes when it holds control characters. Never throws.
std::string quoteYamlString(std::string_view value, bool alwaysQuote = false);

/// `value` as a YAML 1.1 float that PyYAML also reads as a float and that parses back to the same
/// double: 0.0001, 1.0e-05, 100.0, .inf, .nan. Never throws.
std::string formatYamlDouble(double value);

}  // namespace neco::config

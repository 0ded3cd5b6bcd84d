// The parser of the YAML subset (Yaml.h): lines -> block structure by indentation; the values on a
// line (plain, quoted, flow) with a cursor.
#include "config/Yaml.h"
#include "config/YamlScalar.h"

#include "neco/core/Error.h"

#include <charconv>
#include <system_error>

namespace neco::config {

using namespace detail;
namespace fs = std::filesystem;

// ---- the parser ---------------------------------------------------------------------------------

/// One significant (non-blank, non-comment) line; `content` starts at column `indent`.
struct YamlLine {
  int number = 0;
  int indent = 0;
  std::string_view content;
};

class YamlParser {
 public:
  explicit YamlParser(std::shared_ptr<const fs::path> source) : source_(std::move(source)) {}

  YamlNode document(std::string_view text) {
    if (text.size() > kMaxYamlBytes) {
      throw FormatError(*source_, "the file has " + std::to_string(text.size()) + " bytes; the limit is 1 MiB");
    }
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    splitLines(text);
    if (lines_.empty()) return makeNode(YamlNode::Kind::Null, 0, "");
    const YamlLine& first = lines_[0];
    if (first.content[0] == '[' || first.content[0] == '{') {
      std::string_view s = first.content;
      std::size_t pos = 0;
      YamlNode root = flowCollection(s, pos, first.number, 1, "");
      expectLineEnd(s, pos, first.number, "the flow collection");
      if (lines_.size() > 1) fail(lines_[1].number, "unexpected content after the top-level flow collection");
      return root;
    }
    YamlNode root = block(first.indent, 1, "");
    if (next_ < lines_.size()) {
      fail(lines_[next_].number, "bad indentation: this line is left of the block it would belong to");
    }
    return root;
  }

  YamlNode value(std::string_view text, const std::string& path) {
    while (!text.empty() && isBlank(text.front())) text.remove_prefix(1);
    while (!text.empty() && (isBlank(text.back()) || text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);
    for (char c : text)
      if (c == '\n') fail(0, "a value must be on one line");
    std::size_t pos = 0;
    if (text.empty()) return makeNode(YamlNode::Kind::Null, 0, path);
    return inlineValue(text, pos, 0, 1, path, /*inSequence=*/false);
  }

 private:
  [[noreturn]] void fail(int line, const std::string& why) const { throw FormatError(*source_, lineTag(line) + why); }

  YamlNode makeNode(YamlNode::Kind kind, int line, std::string path) const {
    YamlNode n;
    n.kind_ = kind;
    n.line_ = line;
    n.path_ = std::move(path);
    n.source_ = source_;
    return n;
  }

  YamlNode scalar(std::string text, YamlNode::Style style, int line, std::string path) const {
    if (style == YamlNode::Style::Plain && isNullText(text))
      return makeNode(YamlNode::Kind::Null, line, std::move(path));
    YamlNode n = makeNode(YamlNode::Kind::Scalar, line, std::move(path));
    n.text_ = std::move(text);
    n.style_ = style;
    return n;
  }

  void checkDepth(int depth, int line) const {
    if (depth > kMaxYamlDepth) fail(line, "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels");
  }

  static std::string child(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string item(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

  // -- lines --

  void splitLines(std::string_view text) {
    bool sawContent = false, sawMarker = false;
    int number = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view raw = text.substr(start, end - start);
      start = end + 1;
      ++number;
      if (raw.find('\0') != std::string_view::npos) fail(number, "NUL byte in the text");
      while (!raw.empty() && (raw.back() == '\r' || isBlank(raw.back()))) raw.remove_suffix(1);
      std::size_t indent = 0;
      while (indent < raw.size() && isBlank(raw[indent])) ++indent;
      if (indent == raw.size() || raw[indent] == '#') continue;  // blank or comment-only
      if (raw.substr(0, indent).find('\t') != std::string_view::npos) {
        fail(number, "tab in the indentation (YAML indents with spaces only)");
      }
      if (indent == 0 && raw[0] == '%') fail(number, "directives (%YAML, %TAG) are not supported");
      if (indent == 0 && (raw.substr(0, 3) == "---" || raw.substr(0, 3) == "...") &&
          (raw.size() == 3 || isBlank(raw[3]))) {
        if (raw[0] == '.' || sawContent || sawMarker) {
          fail(number, "multiple documents (--- or ... after content) are not supported");
        }
        std::string_view rest = raw.substr(3);
        while (!rest.empty() && isBlank(rest.front())) rest.remove_prefix(1);
        if (!rest.empty() && rest[0] != '#') fail(number, "content on the `---` line is not supported");
        sawMarker = true;
        continue;
      }
      sawContent = true;
      lines_.push_back({number, static_cast<int>(indent), raw.substr(indent)});
      if (end == text.size()) break;
    }
  }

  static bool isSequenceEntry(std::string_view content) {
    return content[0] == '-' && (content.size() == 1 || isBlank(content[1]));
  }

  /// Whether the rest of a line at `pos` is empty or a comment.
  static bool restIsEmpty(std::string_view s, std::size_t pos) {
    std::size_t i = pos;
    while (i < s.size() && isBlank(s[i])) ++i;
    return i == s.size() || (s[i] == '#' && (i == 0 || isBlank(s[i - 1])));
  }

  void expectLineEnd(std::string_view s, std::size_t pos, int line, const char* what) const {
    if (!restIsEmpty(s, pos))
      fail(line, std::string("unexpected text after ") + what + ": '" + shown(s.substr(pos)) + "'");
  }

  /// The offset of the ':' that ends a mapping key on this line, or npos when it holds no `key:`.
  static std::size_t keyColon(std::string_view s) {
    std::size_t i = 0;
    if (!s.empty() && (s[0] == '\'' || s[0] == '"')) {
      const char q = s[0];
      for (i = 1; i < s.size(); ++i) {
        if (q == '"' && s[i] == '\\') {
          ++i;
        } else if (s[i] == q) {
          if (q == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
            ++i;
          } else {
            break;
          }
        }
      }
      if (i >= s.size()) return std::string_view::npos;
      ++i;
      while (i < s.size() && isBlank(s[i])) ++i;
      return (i < s.size() && s[i] == ':' && (i + 1 == s.size() || isBlank(s[i + 1]))) ? i : std::string_view::npos;
    }
    if (!s.empty() && (s[0] == '[' || s[0] == '{')) return std::string_view::npos;
    for (i = 0; i < s.size(); ++i) {
      if (s[i] == '#' && i > 0 && isBlank(s[i - 1])) return std::string_view::npos;
      if (s[i] == ':' && (i + 1 == s.size() || isBlank(s[i + 1]))) return i;
    }
    return std::string_view::npos;
  }

  // -- block structure --

  YamlNode block(int indent, int depth, const std::string& path) {
    checkDepth(depth, lines_[next_].number);
    if (isSequenceEntry(lines_[next_].content)) return sequence(indent, depth, path);
    return mapping(indent, depth, path);
  }

  YamlNode sequence(int indent, int depth, const std::string& path) {
    YamlNode seq = makeNode(YamlNode::Kind::Sequence, lines_[next_].number, path);
    while (next_ < lines_.size() && lines_[next_].indent == indent && isSequenceEntry(lines_[next_].content)) {
      const YamlLine line = lines_[next_];
      const std::string itemPath = item(path, seq.items_.size());
      std::size_t offset = 1;
      while (offset < line.content.size() && line.content[offset] == ' ') ++offset;
      if (offset < line.content.size() && line.content[offset] == '\t') fail(line.number, "tab after `-`: use spaces");
      if (restIsEmpty(line.content, offset)) {
        ++next_;
        if (next_ < lines_.size() && lines_[next_].indent > indent) {
          seq.items_.push_back(block(lines_[next_].indent, depth + 1, itemPath));
        } else {
          seq.items_.push_back(makeNode(YamlNode::Kind::Null, line.number, itemPath));
        }
        continue;
      }
      const std::string_view rest = line.content.substr(offset);
      if (isSequenceEntry(rest) || keyColon(rest) != std::string_view::npos) {
        // "- key: v" or "- - x": a block node whose first line starts after the dash.
        lines_[next_] = {line.number, indent + static_cast<int>(offset), rest};
        seq.items_.push_back(block(indent + static_cast<int>(offset), depth + 1, itemPath));
        continue;
      }
      std::size_t pos = 0;
      seq.items_.push_back(inlineValue(rest, pos, line.number, depth + 1, itemPath, /*inSequence=*/true));
      ++next_;
      if (next_ < lines_.size() && lines_[next_].indent > indent) {
        fail(lines_[next_].number, "bad indentation (multi-line plain scalars are not supported)");
      }
    }
    if (next_ < lines_.size() && lines_[next_].indent > indent) fail(lines_[next_].number, "bad indentation");
    return seq;
  }

  YamlNode mapping(int indent, int depth, const std::string& path) {
    YamlNode map = makeNode(YamlNode::Kind::Mapping, lines_[next_].number, path);
    while (next_ < lines_.size() && lines_[next_].indent == indent) {
      const YamlLine line = lines_[next_];
      if (isSequenceEntry(line.content)) fail(line.number, "a sequence entry `- ` where `key: value` was expected");
      std::string key = mappingKey(line);
      for (const YamlNode::Entry& e : map.entries_) {
        if (e.first == key) {
          fail(line.number,
               "duplicate key '" + shown(key) + "' (first on line " + std::to_string(e.second.line_) + ")");
        }
      }
      const std::string keyPath = child(path, key);
      const std::size_t colon = keyColon(line.content);
      if (restIsEmpty(line.content, colon + 1)) {
        ++next_;
        YamlNode value = makeNode(YamlNode::Kind::Null, line.number, keyPath);
        if (next_ < lines_.size() && lines_[next_].indent > indent) {
          value = block(lines_[next_].indent, depth + 1, keyPath);
        } else if (next_ < lines_.size() && lines_[next_].indent == indent && isSequenceEntry(lines_[next_].content)) {
          checkDepth(depth + 1, lines_[next_].number);
          value = sequence(indent, depth + 1, keyPath);
        }
        value.line_ = line.number;  // a nested block is reported at its key
        map.entries_.emplace_back(std::move(key), std::move(value));
        continue;
      }
      std::size_t pos = colon + 1;
      while (pos < line.content.size() && isBlank(line.content[pos])) ++pos;
      YamlNode value = inlineValue(line.content, pos, line.number, depth + 1, keyPath, /*inSequence=*/false);
      map.entries_.emplace_back(std::move(key), std::move(value));
      ++next_;
      if (next_ < lines_.size() && lines_[next_].indent > indent) {
        fail(lines_[next_].number, "bad indentation (a key with a value on its own line has no nested block)");
      }
    }
    if (next_ < lines_.size() && lines_[next_].indent > indent) fail(lines_[next_].number, "bad indentation");
    return map;
  }

  std::string mappingKey(const YamlLine& line) {
    const std::string_view s = line.content;
    const char c = s[0];
    if (c == '?') fail(line.number, "complex keys (`? `) are not supported");
    if (c == '&' || c == '*' || c == '!') fail(line.number, "anchors (&), aliases (*) and tags (!) are not supported");
    if (c == '[' || c == '{') fail(line.number, "a flow collection cannot be a key, and a value needs a `key:`");
    const std::size_t colon = keyColon(s);
    if (colon == std::string_view::npos) {
      fail(line.number, "expected `key: value`, got '" + shown(s) + "'");
    }
    if (c == '\'' || c == '"') {
      std::size_t pos = 0;
      return quoted(s, pos, line.number);
    }
    if (c == '|' || c == '>' || c == '%' || c == '@' || c == '`' || c == ',' || c == ']' || c == '}') {
      fail(line.number, std::string("a key cannot start with '") + c + "'");
    }
    std::string_view key = s.substr(0, colon);
    while (!key.empty() && isBlank(key.back())) key.remove_suffix(1);
    if (key.empty()) fail(line.number, "empty key");
    return std::string(key);
  }

  // -- values on one line --

  /// A value starting at s[pos] (not blank) that must end the line.
  YamlNode inlineValue(std::string_view s, std::size_t& pos, int line, int depth, const std::string& path,
                       bool inSequence) {
    const char c = s[pos];
    const char after = pos + 1 < s.size() ? s[pos + 1] : ' ';
    if (c == '&' || c == '*' || c == '!') fail(line, "anchors (&), aliases (*) and tags (!) are not supported");
    if (c == '|' || c == '>') fail(line, "block scalars (| and >) are not supported");
    if (c == '[' || c == '{') {
      YamlNode n = flowCollection(s, pos, line, depth, path);
      expectLineEnd(s, pos, line, "the flow collection");
      return n;
    }
    if (c == '\'' || c == '"') {
      std::string text = quoted(s, pos, line);
      expectLineEnd(s, pos, line, "the quoted scalar");
      return scalar(std::move(text), c == '"' ? YamlNode::Style::DoubleQuoted : YamlNode::Style::SingleQuoted, line,
                    path);
    }
    if (c == '%' || c == '@' || c == '`' || c == ',' || c == ']' || c == '}') {
      fail(line, std::string("a plain value cannot start with '") + c + "'");
    }
    if ((c == '-' || c == '?' || c == ':') && isBlank(after)) {
      fail(line, inSequence ? "unexpected indicator" : "a block collection cannot start on a key's line");
    }
    std::size_t end = pos;
    while (end < s.size() && !(s[end] == '#' && (end == 0 || isBlank(s[end - 1])))) ++end;
    std::string_view text = s.substr(pos, end - pos);
    while (!text.empty() && isBlank(text.back())) text.remove_suffix(1);
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == ':' && (i + 1 == text.size() || isBlank(text[i + 1]))) {
        fail(line, "a mapping is not allowed here: write nested keys on their own lines ('" + shown(text) + "')");
      }
    }
    pos = end;
    return scalar(std::string(text), YamlNode::Style::Plain, line, path);
  }

  /// A quoted scalar at s[pos]; pos ends after the closing quote.
  std::string quoted(std::string_view s, std::size_t& pos, int line) const {
    const char q = s[pos++];
    std::string out;
    while (true) {
      if (pos >= s.size()) {
        fail(line, std::string("unterminated ") + (q == '"' ? "double" : "single") +
                       "-quoted scalar (quoted scalars must end on their line)");
      }
      const char c = s[pos++];
      if (c == q) {
        if (q == '\'' && pos < s.size() && s[pos] == '\'') {
          out += '\'';
          ++pos;
          continue;
        }
        return out;
      }
      if (q == '"' && c == '\\') {
        escape(s, pos, line, out);
        continue;
      }
      out += c;
    }
  }

  void escape(std::string_view s, std::size_t& pos, int line, std::string& out) const {
    if (pos >= s.size()) fail(line, "unterminated double-quoted scalar (quoted scalars must end on their line)");
    const char e = s[pos++];
    switch (e) {
      case '0':
        out += '\0';
        return;
      case 'a':
        out += '\a';
        return;
      case 'b':
        out += '\b';
        return;
      case 't':
      case '\t':
        out += '\t';
        return;
      case 'n':
        out += '\n';
        return;
      case 'v':
        out += '\v';
        return;
      case 'f':
        out += '\f';
        return;
      case 'r':
        out += '\r';
        return;
      case 'e':
        out += '\x1b';
        return;
      case ' ':
        out += ' ';
        return;
      case '"':
        out += '"';
        return;
      case '/':
        out += '/';
        return;
      case '\\':
        out += '\\';
        return;
      case 'N':
        appendUtf8(out, 0x85);
        return;
      case '_':
        appendUtf8(out, 0xA0);
        return;
      case 'L':
        appendUtf8(out, 0x2028);
        return;
      case 'P':
        appendUtf8(out, 0x2029);
        return;
      case 'x':
      case 'u':
      case 'U':
        break;
      default:
        fail(line, std::string("unknown escape '\\") + e + "' in a double-quoted scalar");
    }
    const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
    std::uint32_t cp = 0;
    if (pos + digits > s.size())
      fail(line, std::string("escape '\\") + e + "' needs " + std::to_string(digits) + " hex digits");
    const auto r = std::from_chars(s.data() + pos, s.data() + pos + digits, cp, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + pos + digits) {
      fail(line, std::string("escape '\\") + e + "' needs " + std::to_string(digits) + " hex digits");
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail(line, "escape to an invalid code point");
    pos += digits;
    appendUtf8(out, cp);
  }

  // -- flow collections (one line) --

  void skipBlanks(std::string_view s, std::size_t& pos, int line) const {
    while (pos < s.size() && isBlank(s[pos])) ++pos;
    if (pos == s.size() || (s[pos] == '#' && pos > 0 && isBlank(s[pos - 1]))) {
      fail(line, "unterminated flow collection (flow collections must end on their line)");
    }
  }

  YamlNode flowCollection(std::string_view s, std::size_t& pos, int line, int depth, const std::string& path) {
    checkDepth(depth, line);
    const bool isMap = s[pos] == '{';
    const char close = isMap ? '}' : ']';
    YamlNode n = makeNode(isMap ? YamlNode::Kind::Mapping : YamlNode::Kind::Sequence, line, path);
    ++pos;
    while (true) {
      skipBlanks(s, pos, line);
      if (s[pos] == close) {
        ++pos;
        return n;
      }
      if (isMap) {
        flowEntry(s, pos, line, depth, n);
      } else {
        n.items_.push_back(flowNode(s, pos, line, depth, item(path, n.items_.size())));
      }
      skipBlanks(s, pos, line);
      if (s[pos] == ',') {
        ++pos;
      } else if (s[pos] != close) {
        fail(line,
             std::string("expected ',' or '") + close + "' in a flow collection, got '" + shown(s.substr(pos)) + "'");
      }
    }
  }

  void flowEntry(std::string_view s, std::size_t& pos, int line, int depth, YamlNode& map) {
    std::string key;
    if (s[pos] == '\'' || s[pos] == '"') {
      key = quoted(s, pos, line);
    } else if (s[pos] == '[' || s[pos] == '{' || s[pos] == '?') {
      fail(line, "complex keys are not supported");
    } else {
      const YamlNode k = flowNode(s, pos, line, depth, map.path_);
      if (k.isNull()) fail(line, "empty key in a flow mapping");
      key = k.text_;
    }
    for (const YamlNode::Entry& e : map.entries_)
      if (e.first == key) fail(line, "duplicate key '" + shown(key) + "'");
    const std::string keyPath = child(map.path_, key);
    skipBlanks(s, pos, line);
    YamlNode value = makeNode(YamlNode::Kind::Null, line, keyPath);
    if (s[pos] == ':') {
      ++pos;
      skipBlanks(s, pos, line);
      if (s[pos] != ',' && s[pos] != '}') value = flowNode(s, pos, line, depth, keyPath);
    }
    map.entries_.emplace_back(std::move(key), std::move(value));
  }

  YamlNode flowNode(std::string_view s, std::size_t& pos, int line, int depth, const std::string& path) {
    skipBlanks(s, pos, line);
    const char c = s[pos];
    if (c == '[' || c == '{') return flowCollection(s, pos, line, depth + 1, path);
    if (c == '\'' || c == '"') {
      std::string text = quoted(s, pos, line);
      return scalar(std::move(text), c == '"' ? YamlNode::Style::DoubleQuoted : YamlNode::Style::SingleQuoted, line,
                    path);
    }
    if (c == '&' || c == '*' || c == '!') fail(line, "anchors (&), aliases (*) and tags (!) are not supported");
    if (c == ',' || c == ']' || c == '}') fail(line, "empty entry in a flow collection");
    if (c == '|' || c == '>' || c == '%' || c == '@' || c == '`') {
      fail(line, std::string("a plain value cannot start with '") + c + "'");
    }
    const std::size_t start = pos;
    while (pos < s.size()) {
      const char d = s[pos];
      if (d == ',' || d == '[' || d == ']' || d == '{' || d == '}') break;
      if (d == ':' &&
          (pos + 1 == s.size() || isBlank(s[pos + 1]) || s[pos + 1] == ',' || s[pos + 1] == ']' || s[pos + 1] == '}')) {
        break;
      }
      if (d == '#' && pos > start && isBlank(s[pos - 1])) break;
      ++pos;
    }
    std::string_view text = s.substr(start, pos - start);
    while (!text.empty() && isBlank(text.back())) text.remove_suffix(1);
    return scalar(std::string(text), YamlNode::Style::Plain, line, path);
  }

  std::shared_ptr<const fs::path> source_;
  std::vector<YamlLine> lines_;
  std::size_t next_ = 0;
};

YamlNode parseYaml(std::string_view text, const std::filesystem::path& source) {
  return YamlParser(std::make_shared<const fs::path>(source)).document(text);
}

YamlNode parseYamlValue(std::string_view text, const std::filesystem::path& source, const std::string& path) {
  return YamlParser(std::make_shared<const fs::path>(source)).value(text, path);
}

}  // namespace neco::config

// The typed reads of YamlNode, the scalar rules behind them, and the writing helpers (Yaml.h).
#include "config/YamlScalar.h"
#include "config/Yaml.h"

#include "neco/core/Error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

namespace neco::config {

namespace detail {

std::string lineTag(int line) {
  return line > 0 ? "line " + std::to_string(line) + ": " : std::string();
}

std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (s.size() > 60) out += "...";
  return out;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool isNullText(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool isDecimalInt(std::string_view s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size()) return false;
  if (s[i] == '0') return i + 1 == s.size();
  for (; i < s.size(); ++i)
    if (!isDigit(s[i])) return false;
  return true;
}

bool parseNumber(std::string_view s, double& out) {
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    out = negative ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    out = std::nan("");
    return true;
  }
  std::size_t i = 0, intDigits = 0, fracDigits = 0;
  while (i < body.size() && isDigit(body[i])) ++i, ++intDigits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && isDigit(body[i])) ++i, ++fracDigits;
  }
  if (intDigits + fracDigits == 0) return false;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    const std::size_t start = i;
    while (i < body.size() && isDigit(body[i])) ++i;
    if (i == start) return false;
  }
  if (i != body.size()) return false;
  // from_chars takes no '+' and is locale-independent (strtod is not: the studio may set LC_NUMERIC).
  double v = 0;
  const auto r = std::from_chars(body.data(), body.data() + body.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    v = HUGE_VAL;  // an underflow also reports out-of-range; tell them apart by the exponent sign
    if (body.find("e-") != std::string_view::npos || body.find("E-") != std::string_view::npos) v = 0;
  } else if (r.ec != std::errc() || r.ptr != body.data() + body.size()) {
    return false;
  }
  out = negative ? -v : v;
  return true;
}

}  // namespace detail

using namespace detail;

// ---- YamlNode -----------------------------------------------------------------------------------

void YamlNode::fail(const std::string& reason) const {
  const std::string where = path_.empty() ? std::string("the document") : "`" + path_ + "`";
  throw FormatError(source(), lineTag(line_) + where + ": " + reason);
}

std::string YamlNode::describe() const {
  switch (kind_) {
    case Kind::Null:
      return "null";
    case Kind::Sequence:
      return "a sequence";
    case Kind::Mapping:
      return "a mapping";
    case Kind::Scalar:
      break;
  }
  if (style_ != Style::Plain) return "the quoted string '" + shown(text_) + "'";
  return "'" + shown(text_) + "'";
}

const std::vector<YamlNode>& YamlNode::items() const {
  if (kind_ != Kind::Sequence) fail("expected a sequence, got " + describe());
  return items_;
}

const std::vector<YamlNode::Entry>& YamlNode::entries() const {
  if (kind_ != Kind::Mapping) fail("expected a mapping, got " + describe());
  return entries_;
}

const YamlNode* YamlNode::find(std::string_view key) const noexcept {
  for (const Entry& e : entries_)
    if (e.first == key) return &e.second;
  return nullptr;
}

std::string YamlNode::asString() const {
  if (kind_ != Kind::Scalar) fail("expected a string, got " + describe());
  return text_;
}

double YamlNode::asDouble() const {
  double v = 0;
  if (kind_ != Kind::Scalar || style_ != Style::Plain || !parseNumber(text_, v)) {
    fail("expected a number, got " + describe());
  }
  return v;
}

std::int64_t YamlNode::asInt(std::int64_t lo, std::int64_t hi) const {
  if (kind_ != Kind::Scalar || style_ != Style::Plain) fail("expected an integer, got " + describe());
  if (!isDecimalInt(text_)) {
    if (text_.size() > 1 && (text_[0] == '0' || ((text_[0] == '-' || text_[0] == '+') && text_[1] == '0')) &&
        std::all_of(text_.begin() + 1, text_.end(), isDigit)) {
      fail("integer with a leading zero, '" + shown(text_) + "' (YAML 1.1 reads it as octal): write it without");
    }
    fail("expected an integer, got " + describe());
  }
  std::int64_t v = 0;
  const char* begin = text_.data() + (text_[0] == '+' ? 1 : 0);
  const auto r = std::from_chars(begin, text_.data() + text_.size(), v);
  if (r.ec != std::errc() || v < lo || v > hi) {
    fail("integer " + shown(text_) + " outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

bool YamlNode::asBool() const {
  if (kind_ == Kind::Scalar && style_ == Style::Plain) {
    for (const char* t : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
      if (text_ == t) return true;
    for (const char* f : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
      if (text_ == f) return false;
  }
  fail("expected a boolean (true/false, yes/no, on/off), got " + describe());
}

// ---- writing --------------------------------------------------------------------------------------

std::string quoteYamlString(std::string_view value, bool alwaysQuote) {
  bool plain = !alwaysQuote && !value.empty() && !isNullText(value) && !isBlank(value.back());
  if (plain) {
    // Indicators, and digits / dots / signs (YAML 1.1 numbers, dates, 0x.., 1_000, 1:30 all start so).
    const char c = value[0];
    plain = std::string_view("-?:,[]{}#&*!|>'\"%@` \t.+").find(c) == std::string_view::npos && !isDigit(c);
  }
  for (std::size_t i = 0; plain && i < value.size(); ++i) {
    const char c = value[i];
    if (static_cast<unsigned char>(c) < 0x20 || c == ',' || c == '[' || c == ']' || c == '{' || c == '}' ||
        (c == ':' && (i + 1 == value.size() || isBlank(value[i + 1]))) || (c == '#' && isBlank(value[i - 1]))) {
      plain = false;
    }
  }
  if (plain) {
    // Words that would read back as something other than a string.
    for (const char* w : {"true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No",
                          "NO",   "on",   "On",   "ON",    "off",   "Off",   "OFF", "y",   "Y",   "n",  "N"})
      if (value == w) plain = false;
  }
  if (plain) return std::string(value);
  bool control = false;
  for (char c : value) control = control || static_cast<unsigned char>(c) < 0x20;
  if (!control) {
    std::string out = "'";
    for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  std::string out = "\"";
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string formatYamlDouble(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  char buf[64];
  // The shortest text that reads back exactly, %g-style: 0.0001, 1e-05, 100, 1e+20.
  const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general);
  std::string s(buf, r.ptr);
  // PyYAML 1.1 floats need a dot, and an exponent with a sign: 1e-05 -> 1.0e-05, 1e+20 -> 1.0e+20.
  const std::size_t e = s.find('e');
  std::string mantissa = s.substr(0, e), exponent = e == std::string::npos ? "" : s.substr(e + 1);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  if (!exponent.empty() && exponent[0] != '-' && exponent[0] != '+') exponent = "+" + exponent;
  return exponent.empty() ? mantissa : mantissa + "e" + exponent;
}

}  // namespace neco::config

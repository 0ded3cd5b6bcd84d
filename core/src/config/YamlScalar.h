#pragma once
// Scalar rules shared by the YAML parser and the typed accessors (Yaml.h): which plain texts are
// null, integers and numbers, and small text helpers for messages. Internal to core/src/config.

#include <cstdint>
#include <string>
#include <string_view>

namespace neco::config::detail {

inline bool isBlank(char c) {
  return c == ' ' || c == '\t';
}
inline bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

/// "line N: " for N > 0, "" for values that did not come from a file.
std::string lineTag(int line);
/// Printable text for messages, at most 60 characters.
std::string shown(std::string_view s);
void appendUtf8(std::string& out, std::uint32_t codePoint);

/// null, Null, NULL, ~ or empty (a plain scalar only).
bool isNullText(std::string_view s);
/// [-+]?(0|[1-9][0-9]*)
bool isDecimalInt(std::string_view s);
/// [-+]? (digits [. digits*] | . digits+) [(e|E) [-+]? digits+], and [-+].inf / .nan; false otherwise.
bool parseNumber(std::string_view s, double& out);

}  // namespace neco::config::detail

// The restricted unpickler's scalars: numbers and text in their binary and protocol-0 text forms,
// decoded as Python's unpickler decodes them, plus the names used in messages.

#include "formats/PickleMachine.h"

#include <charconv>

namespace neco::formats::pickle_detail {

namespace {

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// clang-format off
const char* opcodeName(std::uint8_t op) {
  switch (op) {
    case '(': return "MARK";            case '.': return "STOP";              case '0': return "POP";
    case '1': return "POP_MARK";        case '2': return "DUP";               case 'F': return "FLOAT";
    case 'I': return "INT";             case 'J': return "BININT";            case 'K': return "BININT1";
    case 'L': return "LONG";            case 'M': return "BININT2";           case 'N': return "NONE";
    case 'P': return "PERSID";          case 'Q': return "BINPERSID";         case 'R': return "REDUCE";
    case 'S': return "STRING";          case 'T': return "BINSTRING";         case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";         case 'X': return "BINUNICODE";        case 'a': return "APPEND";
    case 'b': return "BUILD";           case 'c': return "GLOBAL";            case 'd': return "DICT";
    case '}': return "EMPTY_DICT";      case 'e': return "APPENDS";           case 'g': return "GET";
    case 'h': return "BINGET";          case 'i': return "INST";              case 'j': return "LONG_BINGET";
    case 'l': return "LIST";            case ']': return "EMPTY_LIST";        case 'o': return "OBJ";
    case 'p': return "PUT";             case 'q': return "BINPUT";            case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";         case 't': return "TUPLE";             case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";        case 'G': return "BINFLOAT";          case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";  case 0x80: return "PROTO";            case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";           case 0x83: return "EXT2";             case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";         case 0x86: return "TUPLE2";           case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";        case 0x89: return "NEWFALSE";         case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";          case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";      case 0x8f: return "EMPTY_SET";        case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";      case 0x92: return "NEWOBJ_EX";        case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";        case 0x95: return "FRAME";            case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";    case 0x98: return "READONLY_BUFFER";
    default: return "unknown";
  }
}
// clang-format on

std::string printable(std::string_view s) {
  constexpr std::size_t kMaxShown = 200;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return s.size() > kMaxShown ? out + "..." : out;
}

// ---- numbers and text ----------------------------------------------------------------------------------

void Machine::pushLong(const std::uint8_t* p, std::size_t n) {
  // Little-endian two's complement of any length; it fits int64 when every byte past the eighth is
  // sign fill and the eighth byte's top bit agrees with the sign.
  const bool negative = n > 0 && (p[n - 1] & 0x80) != 0;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  if (n > 0 && n < 8 && negative) v |= ~std::uint64_t{0} << (8 * n);
  bool fits = n < 8 || ((v >> 63) != 0) == negative;
  for (std::size_t i = 8; i < n && fits; ++i) fits = p[i] == (negative ? 0xff : 0x00);
  if (fits) return push(makeInt(static_cast<std::int64_t>(v)));
  NodePtr n2 = makeText(Kind::Opaque, "int (too large)");
  add(*n2, makeText(Kind::Bytes, std::string_view(reinterpret_cast<const char*>(p), n)));
  push(std::move(n2));
}

void Machine::pushTextInt(std::string_view s, bool isLong) {
  if (isLong && !s.empty() && s.back() == 'L') s.remove_suffix(1);
  if (!isLong && (s == "00" || s == "01")) {  // protocol 0 spells booleans as INT 00 / 01
    NodePtr b = make(Kind::Bool);
    b->boolean = s == "01";
    return push(std::move(b));
  }
  std::string_view digits = s;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    fail("malformed integer '" + printable(s) + "'");
  }
  if (s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  if (std::from_chars(s.data(), s.data() + s.size(), v).ec == std::errc()) return push(makeInt(v));
  NodePtr n = makeText(Kind::Opaque, "int (too large)");  // keeps the decimal digits
  add(*n, makeText(Kind::String, s));
  push(std::move(n));
}

void Machine::pushFloat(std::string_view s) {
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) fail("malformed float '" + printable(s) + "'");
  NodePtr n = make(Kind::Float);
  n->real = v;
  push(std::move(n));
}

void Machine::pushQuotedString(std::string_view s) {
  // Protocol 0 STRING: a Python bytes literal body in matching quotes, with backslash escapes.
  if (s.size() < 2 || (s.front() != '\'' && s.front() != '"') || s.back() != s.front()) {
    fail("STRING argument is not quoted");
  }
  s = s.substr(1, s.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
      case '\'':
      case '"':
        out += c;
        break;
      case 'x': {
        const int hi = i + 1 < s.size() ? hexDigit(s[i + 1]) : -1, lo = i + 2 < s.size() ? hexDigit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) fail("malformed \\x escape in STRING");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
            v = v * 8 + (s[++i] - '0');
          out += static_cast<char>(v & 0xff);
        } else {  // Python keeps unknown escapes verbatim
          out += '\\';
          out += c;
        }
    }
  }
  push(makeText(Kind::String, out));
}

void Machine::pushRawUnicode(std::string_view s) {
  // Protocol 0 UNICODE (raw-unicode-escape): \uXXXX and \UXXXXXXXX escapes, other bytes are Latin-1.
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::size_t digits = i + 1 < s.size() && s[i] == '\\' ? (s[i + 1] == 'u' ? 4 : s[i + 1] == 'U' ? 8 : 0) : 0;
    if (digits == 0) {
      appendUtf8(out, static_cast<unsigned char>(s[i]));
      continue;
    }
    if (i + 2 + digits > s.size()) fail("truncated \\u escape in UNICODE");
    std::uint32_t cp = 0;
    for (std::size_t k = 0; k < digits; ++k) {
      const int d = hexDigit(s[i + 2 + k]);
      if (d < 0) fail("malformed \\u escape in UNICODE");
      cp = cp * 16 + static_cast<std::uint32_t>(d);
    }
    if (cp > 0x10ffff) fail("code point beyond U+10FFFF in UNICODE");
    appendUtf8(out, cp);
    i += 1 + digits;
  }
  push(makeText(Kind::String, out));
}

}  // namespace neco::formats::pickle_detail

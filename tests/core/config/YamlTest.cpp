#include "NecoTest.h"
#include "config/Yaml.h"
#include "neco/core/Error.h"

#include <cmath>
#include <string>

using neco::FormatError;
using neco::config::parseYaml;
using neco::config::parseYamlValue;
using neco::config::YamlNode;

namespace {

YamlNode parse(const std::string& text) {
  return parseYaml(text, "test.yml");
}

/// The FormatError message of parsing `text`, or "" when it parses.
std::string errorOf(const std::string& text) {
  try {
    parse(text);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

NECO_TEST(Yaml, blockMappingsSequencesAndLines) {
  const YamlNode root = parse(
      "# exp1\n"
      "num_workers: 20\n"
      "tags: \"NeCo\"\n"
      "\n"
      "data:\n"
      "  size_crops: [518, 98] # [224, 96]\n"
      "  max_scale_crops: [1., 0.25]\n"
      "  list:\n"
      "  - a\n"
      "  - b: 1\n"
      "    c: [x, [y, z]]\n"
      "  -\n"
      "    - deep\n"
      "train:\n"
      "    lr: 0.00001\n");
  NECO_REQUIRE(root.isMapping());
  NECO_CHECK_EQ(root.entries().size(), 4u);
  NECO_CHECK_EQ(root.entries()[0].first, "num_workers");  // file order kept
  NECO_CHECK_EQ(root.entries()[2].first, "data");
  NECO_CHECK_EQ(root.find("num_workers")->asInt(), 20);
  NECO_CHECK_EQ(root.find("num_workers")->line(), 2);
  NECO_CHECK_EQ(root.find("tags")->asString(), "NeCo");
  const YamlNode& data = *root.find("data");
  NECO_CHECK_EQ(data.line(), 5);
  const YamlNode& sizes = *data.find("size_crops");
  NECO_REQUIRE(sizes.isSequence() && sizes.items().size() == 2);
  NECO_CHECK_EQ(sizes.items()[1].asInt(), 98);
  NECO_CHECK_EQ(sizes.items()[1].path(), "data.size_crops[1]");
  NECO_CHECK_EQ(data.find("max_scale_crops")->items()[0].asDouble(), 1.0);
  const YamlNode& list = *data.find("list");
  NECO_REQUIRE(list.items().size() == 3);
  NECO_CHECK_EQ(list.items()[0].asString(), "a");
  NECO_CHECK_EQ(list.items()[1].find("b")->asInt(), 1);
  NECO_CHECK_EQ(list.items()[1].find("c")->items()[1].items()[1].asString(), "z");
  NECO_CHECK_EQ(list.items()[1].find("c")->line(), 11);
  NECO_CHECK_EQ(list.items()[2].items()[0].asString(), "deep");
  NECO_CHECK_EQ(root.find("train")->find("lr")->path(), "train.lr");
  NECO_CHECK_NEAR(root.find("train")->find("lr")->asDouble(), 1e-5, 1e-20);
}

NECO_TEST(Yaml, scalarsQuotesEscapesAndComments) {
  const YamlNode root = parse(
      "---\n"
      "a: 'it''s # not a comment'\n"
      "b: \"tab\\there \\\"q\\\" \\u00e9 \\x41\"   # comment\n"
      "c: plain text with # a comment\n"
      "d: a#b\n"
      "e: http://x.org/a:b\n"
      "f: {k: v, 'q k': [1, 2], e: }\n"
      "g: []\n"
      "h: {}\n");
  NECO_CHECK_EQ(root.find("a")->asString(), "it's # not a comment");
  NECO_CHECK(root.find("a")->style() == YamlNode::Style::SingleQuoted);
  NECO_CHECK_EQ(root.find("b")->asString(), "tab\there \"q\" \xc3\xa9 A");
  NECO_CHECK_EQ(root.find("c")->asString(), "plain text with");
  NECO_CHECK_EQ(root.find("d")->asString(), "a#b");
  NECO_CHECK_EQ(root.find("e")->asString(), "http://x.org/a:b");
  const YamlNode& f = *root.find("f");
  NECO_REQUIRE(f.isMapping());
  NECO_CHECK_EQ(f.find("k")->asString(), "v");
  NECO_CHECK_EQ(f.find("q k")->items()[1].asInt(), 2);
  NECO_CHECK(f.find("e")->isNull());
  NECO_CHECK(root.find("g")->isSequence() && root.find("g")->items().empty());
  NECO_CHECK(root.find("h")->isMapping() && root.find("h")->entries().empty());
}

NECO_TEST(Yaml, nullsBooleansAndNumbersFollowYaml11) {
  const YamlNode root = parse(
      "n1: null\nn2: ~\nn3:\nn4: NULL\nq: 'null'\n"
      "t1: True\nt2: yes\nt3: ON\nf1: False\nf2: no\nf3: off\n"
      "i: -42\nlead: 012\nflt: 7.0\n"
      "x1: 1.\nx2: .5\nx3: 0.00001\nx4: 1e-5\nx5: 1.0E+3\nx6: -.inf\nx7: .nan\nx8: +3\n"
      "s: '5'\nbig: 99999999999\n");
  for (const char* k : {"n1", "n2", "n3", "n4"}) NECO_CHECK(root.find(k)->isNull());
  NECO_CHECK_EQ(root.find("q")->asString(), "null");
  for (const char* k : {"t1", "t2", "t3"}) NECO_CHECK(root.find(k)->asBool());
  for (const char* k : {"f1", "f2", "f3"}) NECO_CHECK(!root.find(k)->asBool());
  NECO_CHECK_EQ(root.find("i")->asInt(), -42);
  NECO_CHECK_EQ(root.find("x1")->asDouble(), 1.0);
  NECO_CHECK_EQ(root.find("x2")->asDouble(), 0.5);
  NECO_CHECK_EQ(root.find("x3")->asDouble(), 1e-5);
  NECO_CHECK_EQ(root.find("x4")->asDouble(), 1e-5);  // lenient: PyYAML would read the string '1e-5'
  NECO_CHECK_EQ(root.find("x5")->asDouble(), 1000.0);
  NECO_CHECK(std::isinf(root.find("x6")->asDouble()) && root.find("x6")->asDouble() < 0);
  NECO_CHECK(std::isnan(root.find("x7")->asDouble()));
  NECO_CHECK_EQ(root.find("x8")->asInt(), 3);
  NECO_CHECK_EQ(root.find("i")->asDouble(), -42.0);  // an integer is a number
  // Typed-read errors name the key path and the line.
  NECO_CHECK_THROWS(FormatError, root.find("s")->asDouble());  // quoted: a string, as in PyYAML
  NECO_CHECK_THROWS(FormatError, root.find("flt")->asInt());
  NECO_CHECK_THROWS(FormatError, root.find("q")->asBool());
  NECO_CHECK_THROWS(FormatError, root.find("big")->asInt(0, 1000));
  try {
    root.find("lead")->asInt();
    NECO_CHECK(false);
  } catch (const FormatError& e) {
    NECO_CHECK(contains(e.what(), "test.yml: line 13: `lead`:"));
    NECO_CHECK(contains(e.what(), "octal"));
  }
  try {
    root.find("s")->asDouble();
  } catch (const FormatError& e) {
    NECO_CHECK(contains(e.what(), "line 23: `s`: expected a number"));
  }
}

NECO_TEST(Yaml, rejectedFeaturesNameTheLine) {
  const struct {
    const char* text;
    const char* expect;
  } cases[] = {
      {"a: 1\n\tb: 2\n", "line 2: tab in the indentation"},
      {"a: &x 1\nb: *x\n", "line 1: anchors"},
      {"a: 1\nb: *x\n", "line 2: anchors"},
      {"a: !!str 1\n", "line 1: anchors (&), aliases (*) and tags"},
      {"a: |\n  text\n", "line 1: block scalars"},
      {"a: >-\n  text\n", "line 1: block scalars"},
      {"a: 1\n---\nb: 2\n", "line 2: multiple documents"},
      {"---\na: 1\n...\n", "line 3: multiple documents"},
      {"%YAML 1.1\na: 1\n", "line 1: directives"},
      {"a: 1\nb: 2\na: 3\n", "line 3: duplicate key 'a' (first on line 1)"},
      {"a:\n  b: 1\n c: 2\n", "line 3: bad indentation"},
      {"a:\n    b: 1\n  c: 2\n", "line 3: bad indentation"},
      {"a: 1\n  b: 2\n", "line 2: bad indentation"},
      {"a: 'open\n", "line 1: unterminated single-quoted"},
      {"x: 1\na: \"open\n", "line 2: unterminated double-quoted"},
      {"a: [1, 2\n", "line 1: unterminated flow collection"},
      {"a: [1, 2]]\n", "line 1: unexpected text after the flow collection"},
      {"a: [1,, 2]\n", "line 1: empty entry"},
      {"a: b: c\n", "line 1: a mapping is not allowed here"},
      {"a: 1\n- b\n", "line 2: a sequence entry"},
      {"just a scalar\n", "line 1: expected `key: value`"},
      {"? complex\n", "line 1: complex keys"},
      {"a: \"\\q\"\n", "line 1: unknown escape"},
      {"a: - b\n", "line 1: a block collection cannot start"},
      {"a: {x: 1, x: 2}\n", "line 1: duplicate key 'x'"},
  };
  for (const auto& c : cases) {
    const std::string message = errorOf(c.text);
    if (!contains(message, c.expect)) {
      std::fprintf(stderr, "    for %s got: %s\n", c.text, message.c_str());
      NECO_CHECK(contains(message, c.expect));
    }
    NECO_CHECK(contains(message, "test.yml: "));
  }
}

NECO_TEST(Yaml, limitsOnSizeAndDepth) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "[";
  NECO_CHECK(contains(errorOf("a: " + deep + "\n"), "line 1: nesting deeper than 32"));
  std::string nested;
  for (int i = 0; i < 40; ++i)
    nested += std::string(static_cast<std::size_t>(2 * i), ' ') + "k" + std::to_string(i) + ":\n";
  NECO_CHECK(contains(errorOf(nested), "nesting deeper than 32"));
  std::string ok;
  for (int i = 0; i < 31; ++i) ok += std::string(static_cast<std::size_t>(2 * i), ' ') + "k:\n";
  NECO_CHECK_EQ(errorOf(ok), "");
  NECO_CHECK(contains(errorOf(std::string(neco::config::kMaxYamlBytes + 1, '#')), "limit is 1 MiB"));
}

NECO_TEST(Yaml, emptyDocumentsAndFlowValues) {
  NECO_CHECK(parse("").isNull());
  NECO_CHECK(parse("# only a comment\n\n---\n").isNull());
  NECO_CHECK_EQ(parse("[1, 2]\n").items().size(), 2u);
  const YamlNode v = parseYamlValue("[224, 98]", "--set data.size_crops=[224, 98]", "data.size_crops");
  NECO_CHECK_EQ(v.items()[0].asInt(), 224);
  NECO_CHECK_EQ(v.items()[0].path(), "data.size_crops[0]");
  NECO_CHECK_EQ(v.line(), 0);
  NECO_CHECK(parseYamlValue("", "--set", "k").isNull());
  NECO_CHECK_EQ(parseYamlValue(" 'a b' ", "--set", "k").asString(), "a b");
  try {
    parseYamlValue("abc", "--set train.lr_heads=abc", "train.lr_heads").asDouble();
    NECO_CHECK(false);
  } catch (const FormatError& e) {
    NECO_CHECK_EQ(std::string(e.what()), "--set train.lr_heads=abc: `train.lr_heads`: expected a number, got 'abc'");
  }
}

NECO_TEST(Yaml, writersReadBackExactly) {
  using neco::config::formatYamlDouble;
  using neco::config::quoteYamlString;
  NECO_CHECK_EQ(formatYamlDouble(1e-5), "1.0e-05");
  NECO_CHECK_EQ(formatYamlDouble(0.0001), "0.0001");
  NECO_CHECK_EQ(formatYamlDouble(100.0), "100.0");
  NECO_CHECK_EQ(formatYamlDouble(1e20), "1.0e+20");
  NECO_CHECK_EQ(formatYamlDouble(-HUGE_VAL), "-.inf");
  for (double d : {0.9995, 1.0 / 3.0, 5e-6, 1e-300, 123456.789, -0.25}) {
    NECO_CHECK_EQ(parseYamlValue(formatYamlDouble(d), "t", "k").asDouble(), d);
  }
  NECO_CHECK_EQ(quoteYamlString("vit-small"), "vit-small");
  NECO_CHECK_EQ(quoteYamlString("vit-small", true), "'vit-small'");
  for (const char* s : {"it's", "yes", "null", "", "1e-5", "012", "- x", "a: b", "a #b", "[x]", "tab\there", " lead",
                        "<PATH TO THE DATASET DIRECTORY>", "2017-01-01", "~"}) {
    const YamlNode n = parseYamlValue(quoteYamlString(s), "t", "k");
    NECO_CHECK(n.isScalar());
    NECO_CHECK_EQ(n.text(), std::string(s));
  }
}

NECO_TEST(Yaml, sequencesAtTheKeysIndentationAndCompactItems) {
  const YamlNode root = parse(
      "a:\n"
      "- x\n"
      "- 'y'\n"
      "b:\n"
      "  - k: 1\n"
      "    l:\n"
      "    - 2\n"
      "  - - 3\n"
      "    - 4\n"
      "c: 5\n");
  NECO_CHECK_EQ(root.find("a")->items()[1].asString(), "y");
  NECO_CHECK_EQ(root.find("a")->line(), 1);  // a nested block is reported at its key
  const YamlNode& b = *root.find("b");
  NECO_CHECK_EQ(b.items()[0].find("l")->items()[0].asInt(), 2);
  NECO_CHECK_EQ(b.items()[0].find("l")->items()[0].path(), "b[0].l[0]");
  NECO_CHECK_EQ(b.items()[1].items()[1].asInt(), 4);
  NECO_CHECK_EQ(root.find("c")->asInt(), 5);
  NECO_CHECK(contains(errorOf("a:\n- x\n  y\n"), "line 3: bad indentation"));
}

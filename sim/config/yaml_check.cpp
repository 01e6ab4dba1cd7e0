// The checks every YAML text passes before yaml-cpp builds its nodes (docs/reliability.md,
// "Hostile YAML"): UTF-8, no raw control character, no escape that decodes to a byte that is not
// UTF-8, and aliases that expand to at most kMaxYamlNodes nodes.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string_view>

#include "config/config.hpp"

namespace racewin {
namespace {

// Where the first byte of `s` that does not start a well-formed UTF-8 sequence is (Unicode 15,
// table 3-7: no overlong form, no surrogate, nothing above U+10FFFF; what nlohmann::json's writer
// accepts), or npos.
size_t invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t more = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) more = 1;
    else if (c >= 0xE0 && c <= 0xEF) more = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) more = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else return i;
    if (s.size() - i <= more) return i;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return i;
    for (size_t k = 2; k <= more; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    i += more + 1;
  }
  return std::string_view::npos;
}

// Reads the parser's events (before any node is built) and counts the nodes the document expands
// to: each anchored node's expanded size is remembered, and an alias adds it again.
class ExpansionCheck : public YAML::EventHandler {
 public:
  explicit ExpansionCheck(std::string label) : label_(std::move(label)) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    uint64_t n = anchor < sizes_.size() ? sizes_[anchor] : 1;
    add(n);
    if (total_ > kMaxYamlNodes)
      throw ConfigError(at(mark), "aliases expand to more than " + std::to_string(kMaxYamlNodes) +
                                      " nodes; racewin refuses such a document (write the values out, or use fewer aliases)");
  }
  // An escape must not make a value that is not UTF-8. yaml-cpp refuses those of surrogates and
  // beyond U+10FFFF ("invalid unicode"), but decodes \N (U+0085) and \_ (U+00A0) as the single
  // bytes 0x85 and 0xA0, which results.json's writer refused after the run (found by fuzz_scenario).
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    if (invalid_utf8(value) != std::string_view::npos)
      throw ConfigError(at(mark), "a double-quoted string's escape \\N or \\_ is not supported (the YAML reader "
                                  "decodes it as a byte that is not UTF-8); write the character itself");
    leaf(anchor);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    uint64_t size;  // expanded nodes so far, itself included
  };
  SourceLoc at(const YAML::Mark& m) const { return {label_, m.line + 1, m.column + 1}; }
  // Sizes saturate just above the limit, so that nothing overflows.
  static uint64_t sat(uint64_t a, uint64_t b) { return std::min(a + b, kMaxYamlNodes + 1); }
  void add(uint64_t n) {
    total_ = sat(total_, n);
    if (!open_.empty()) open_.back().size = sat(open_.back().size, n);
  }
  void remember(YAML::anchor_t anchor, uint64_t n) {
    if (anchor == YAML::NullAnchor) return;
    if (sizes_.size() <= anchor) sizes_.resize(anchor + 1, 1);
    sizes_[anchor] = n;
  }
  void leaf(YAML::anchor_t anchor) {
    add(1);
    remember(anchor, 1);
  }
  void open(YAML::anchor_t anchor) {
    total_ = sat(total_, 1);
    open_.push_back({anchor, 1});
  }
  void close() {
    Open o = open_.back();
    open_.pop_back();
    remember(o.anchor, o.size);
    if (!open_.empty()) open_.back().size = sat(open_.back().size, o.size);
  }

  std::string label_;
  std::vector<Open> open_;
  std::vector<uint64_t> sizes_;  // by anchor id (yaml-cpp numbers them from 1)
  uint64_t total_ = 0;
};

}  // namespace

namespace {

// Where byte `at` of `text` is, as file:line:column, with what is wrong with it.
[[noreturn]] void fail_at_byte(const std::string& text, size_t at, const std::string& label, const std::string& what) {
  size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
  line_start = line_start == std::string::npos || at == 0 ? 0 : line_start + 1;
  int line = 1 + int(std::count(text.begin(), text.begin() + long(at), '\n'));
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[at]));
  throw ConfigError({label, line, int(at - line_start) + 1}, std::string("byte ") + byte + what);
}

}  // namespace

void check_utf8(const std::string& text, const std::string& label) {
  if (size_t bad = invalid_utf8(text); bad != std::string_view::npos)
    fail_at_byte(text, bad, label, " is not valid UTF-8; racewin reads YAML files as UTF-8");
}

void check_yaml(const std::string& text, const std::string& label) {
  check_utf8(text, label);
  // A control character other than tab, line feed and carriage return may appear in YAML only
  // escaped (YAML 1.2 c-printable). yaml-cpp does not refuse a raw one: a NUL in a scalar gave it a
  // string that the JSON writer of results.json then refused, after the run (found by fuzz_scenario).
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
      fail_at_byte(text, i, label, " is a control character, which YAML allows only escaped in a double-quoted string (\"\\x01\")");
  }
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    ExpansionCheck check(label);
    parser.HandleNextDocument(check);  // the document YAML::Load reads: the first
  } catch (const YAML::ParserException& e) {
    throw ConfigError({label, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg);
  }
}

}  // namespace racewin

#include "config/config.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>

#include "base/units.hpp"

namespace racewin {
namespace {

// Nodes created by overrides carry no mark; remember where they came from.
struct Origin {
  YAML::Node node;
  SourceLoc loc;
};
std::vector<Origin>& origins() {
  static thread_local std::vector<Origin> o;
  return o;
}

// Every node of an override value is reported at the override: a --set as itself, a case
// override at its own line in the scenario file.
void remember(const YAML::Node& n, const SourceLoc& origin) {
  SourceLoc l = origin;
  if (origin.line > 0 && !n.Mark().is_null()) l.line = n.Mark().line + 1, l.column = n.Mark().column + 1;
  origins().push_back({n, l});
  if (n.IsMap())
    for (auto it = n.begin(); it != n.end(); ++it) remember(it->first, origin), remember(it->second, origin);
  else if (n.IsSequence())
    for (const auto& e : n) remember(e, origin);
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

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

bool is_regular_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

std::string nearest_word(const std::string& word, const std::vector<std::string>& choices) {
  std::string best;
  size_t best_d = word.size() / 2 + 2;
  for (const auto& c : choices) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

CNode::CNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string key_path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(key_path)) {}

namespace {

// The texts of files this process has read and check_yaml found well-formed, by path: a scenario
// names the same arch, hypervisor and path files in every case (the study reads
// madvise_dontneed.yaml 14 times), and a sweep loads its scenario at every point. check_yaml is a
// second full parse, so a file read again with the same text is not checked again. The text is
// read and compared every time (a file's size and modification time can stay the same across an
// edit within the clock's tick), and each load parses a tree of its own, since overrides change it.
std::mutex checked_mutex;
std::map<std::string, std::string> checked_texts;

}  // namespace

CNode CNode::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError({path, 0, 0}, "cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  bool checked;
  {
    std::lock_guard lock(checked_mutex);
    auto it = checked_texts.find(path);
    checked = it != checked_texts.end() && it->second == text;
  }
  if (!checked) {
    check_yaml(text, path);
    std::lock_guard lock(checked_mutex);
    checked_texts.insert_or_assign(path, text);
  }
  return load_checked(text, path);
}

CNode CNode::parse(const std::string& text, const std::string& label) {
  check_yaml(text, label);
  return load_checked(text, label);
}

CNode CNode::load_checked(const std::string& text, const std::string& label) {
  try {
    return CNode(YAML::Load(text), std::make_shared<const std::string>(label), "");
  } catch (const YAML::ParserException& e) {
    throw ConfigError({label, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg);
  }
}

OriginScope::OriginScope() : mark_(origins().size()) {}
OriginScope::~OriginScope() {
  if (origins().size() > mark_) origins().resize(mark_);
}
size_t OriginScope::remembered() { return origins().size(); }

SourceLoc CNode::loc() const {
  for (const auto& o : origins())
    if (o.node.is(node_)) return o.loc;
  SourceLoc l{file_ ? *file_ : std::string(), 0, 0};
  if (node_.IsDefined() && !node_.Mark().is_null()) {
    l.line = node_.Mark().line + 1;
    l.column = node_.Mark().column + 1;
  }
  return l;
}

void CNode::fail(const std::string& msg) const {
  throw ConfigError(loc(), (path_.empty() ? std::string() : "'" + path_ + "': ") + msg);
}

bool CNode::has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined(); }

std::optional<CNode> CNode::get(const std::string& key) const {
  if (!node_.IsMap()) fail("expected a map with key '" + key + "'");
  YAML::Node n = node_[key];
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  return CNode(n, file_, path_.empty() ? key : path_ + "." + key);
}

CNode CNode::at(const std::string& key) const {
  auto n = get(key);
  if (!n) fail("missing required key '" + key + "'");
  return *n;
}

std::vector<CNode> CNode::items() const {
  if (!node_.IsSequence()) fail("expected a list");
  std::vector<CNode> out;
  for (size_t i = 0; i < node_.size(); ++i)
    out.emplace_back(node_[i], file_, path_ + "[" + std::to_string(i) + "]");
  return out;
}

std::vector<std::pair<std::string, CNode>> CNode::entries() const {
  if (!node_.IsMap()) fail("expected a map");
  std::vector<std::pair<std::string, CNode>> out;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    // A key added by an override has no mark of its own: report it where its value came from.
    CNode key_node(it->first.Mark().is_null() ? it->second : it->first, file_, path_);
    if (!it->first.IsScalar()) key_node.fail("a key must be a plain name");
    std::string k = it->first.Scalar();
    for (const auto& [seen, _] : out)
      if (seen == k) key_node.fail("key '" + k + "' appears twice");
    out.emplace_back(k, CNode(it->second, file_, path_.empty() ? k : path_ + "." + k));
  }
  return out;
}

void CNode::allow_keys(const std::vector<std::string>& allowed) const {
  if (!node_.IsMap()) fail("expected a map");
  entries();  // rejects keys that are not names, and repeated keys
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string k = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    CNode key_node(it->first.Mark().is_null() ? it->second : it->first, file_, path_);
    std::string msg = "unknown key '" + k + "'";
    std::string near = nearest_word(k, allowed);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    msg += "; expected one of:";
    for (const auto& a : allowed) msg += " " + a;
    key_node.fail(msg);
  }
}

std::string CNode::str() const {
  if (!node_.IsScalar()) fail("expected a single value");
  return node_.Scalar();
}

double CNode::number() const {
  std::string s = str();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v)) fail("expected a number, got '" + s + "'");
  return v;
}

double CNode::duration() const {
  std::string s = str();
  auto v = parse_duration_ns(s);
  if (!v) fail(duration_problem(s));
  if (*v < 0) fail("a duration cannot be negative, got '" + s + "'");
  return *v;
}

long CNode::integer(long lo, long hi) const {
  std::string s = str();
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0') fail("expected a whole number, got '" + s + "'");
  if (v < lo || v > hi)
    fail("expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
         ", got " + s);
  return v;
}

bool CNode::boolean() const {
  std::string s = str();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail("expected true or false, got '" + s + "'");
}

std::string CNode::resolve_path(const std::string& rel) const {
  namespace fs = std::filesystem;
  fs::path p(rel);
  if (p.is_absolute() || !file_) return rel;
  fs::path base = fs::path(*file_).parent_path();
  return (base / p).lexically_normal().string();
}

void CNode::set_dotted(const std::string& key, const YAML::Node& value, const SourceLoc& origin) const {
  auto fail_at = [&](const std::string& msg) { throw ConfigError(origin, msg); };
  YAML::Node cur;
  cur.reset(node_);  // yaml-cpp: operator= would overwrite the node, reset() rebinds
  std::string rest = key, done;
  while (true) {
    auto dot = rest.find('.');
    std::string head = rest.substr(0, dot);
    if (head.empty()) fail_at("'" + key + "' has an empty part");
    YAML::Node next;
    if (cur.IsSequence()) {
      if (head.size() > 9 || head.find_first_not_of("0123456789") != std::string::npos)
        fail_at("'" + done + "' is a list: expected an index, got '" + head + "'");
      size_t i = std::stoul(head);
      if (i >= cur.size()) fail_at("'" + done + "' has no element " + head);
      if (dot == std::string::npos) {
        cur[i] = value;
        break;
      }
      next.reset(cur[i]);
    } else {
      if (cur.IsDefined() && !cur.IsNull() && !cur.IsMap())
        fail_at("cannot set '" + key + "': '" + done + "' is a single value, not a map");
      if (dot == std::string::npos) {
        cur[head] = value;
        break;
      }
      next.reset(cur[head]);
      if (!next.IsDefined() || next.IsNull()) {
        cur[head] = YAML::Node(YAML::NodeType::Map);
        next.reset(cur[head]);
        origins().push_back({next, origin});
      }
    }
    cur.reset(next);
    done += (done.empty() ? "" : ".") + head;
    rest = rest.substr(dot + 1);
  }
  remember(value, origin);
}

}  // namespace racewin

#include "config/config.hpp"

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

}  // namespace

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

// The marks of a profile's parameters, read from the comments yaml-cpp drops: each key's node
// knows its line, and the line's comment is read from the file's text.
#include "config/profile_marks.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "base/units.hpp"
#include "config/scenario.hpp"

namespace racewin {

namespace {

// The comment of a YAML line: from a '#' that starts the line or follows a blank, outside quotes.
std::string comment_of(const std::string& line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(i + 1);
    }
  }
  return {};
}

std::string flow(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

struct Walk {
  std::string file;
  std::vector<std::string> lines;
  std::vector<ProfileParam> out;

  std::string key(const YAML::Node& k) const {
    if (!k.IsScalar()) throw ConfigError({file, k.Mark().line + 1, k.Mark().column + 1}, "a key must be a plain name");
    return k.Scalar();
  }

  void node(const YAML::Node& n, const std::string& prefix, int parent_line) {
    if (n.IsMap()) {
      for (auto it = n.begin(); it != n.end(); ++it) {
        std::string k = key(it->first);
        if (prefix.empty() && (k == "arch" || k == "hypervisor" || k == "doc")) continue;
        entry(it->second, prefix + k, it->first.Mark().line);
      }
    } else if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i) {
        const YAML::Node& item = n[i];
        int line = item.Mark().line;
        if (item.IsMap() && line != parent_line) {
          for (auto it = item.begin(); it != item.end(); ++it) {
            std::string k = key(it->first);
            if (k != "name" && k != "model" && k != "vcpus") entry(it->second, prefix + std::to_string(i) + "." + k, it->first.Mark().line);
          }
        } else {
          entry(item, prefix + std::to_string(i), line);
        }
      }
    }
  }

  void entry(const YAML::Node& v, const std::string& key, int line) {
    std::string comment = line >= 0 && size_t(line) < lines.size() ? comment_of(lines[size_t(line)]) : "";
    std::string marks = marks_in_comment(comment);
    bool block = (v.IsMap() || v.IsSequence()) && v.Mark().line != line;
    if (marks.empty() && block) return node(v, key + ".", line);
    ProfileParam p{key, v.IsScalar() ? v.Scalar() : flow(v), marks, {file, line + 1, 0}, {}, {}};
    std::smatch m;
    static const std::regex range(R"(\[[CSIVM/]*E[CSIVM/]* +([^\] ]+)\.\.([^\] ]+)\])");
    if (std::regex_search(comment, m, range)) p.range = m[1].str() + ".." + m[2].str();
    p.reason = reason(comment, line, p.range);
    out.push_back(std::move(p));
  }

  std::string reason(const std::string& comment, int line, const std::string& range) const {
    static const std::regex bracket(R"(\[[CSIEVM](?:/[CSIEVM])*[^\]]*\])");
    static const std::regex loose(R"(\s+([;,.]))");  // "slices [I]; the law" without its marks: "slices; the law"
    std::string own = trim(std::regex_replace(std::regex_replace(comment, bracket, ""), loose, "$1"));
    if (own.find_first_not_of(" ;,.") != std::string::npos) return own;
    std::string above;  // the comment lines just above the key
    for (int l = line - 1; l >= 0; --l) {
      std::string t = trim(lines[size_t(l)]);
      if (t.empty() || t[0] != '#') break;
      above = trim(t.substr(1)) + (above.empty() ? "" : " " + above);
    }
    if (!above.empty()) return above;
    if (range.empty()) return {};
    std::string legend = "# [E " + range + "]:";
    for (const auto& l : lines)
      if (trim(l).rfind(legend, 0) == 0) return trim(trim(l).substr(legend.size()));
    return {};
  }

  static std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
  }
};

// The first duration in `v` (objects in key order: a lognormal's median, an exponential's mean).
std::optional<double> first_duration(const nlohmann::json& v) {
  if (v.is_object() || v.is_array()) {
    for (const auto& x : v)
      if (auto d = first_duration(x)) return d;
    return std::nullopt;
  }
  if (!v.is_string()) return std::nullopt;
  return parse_duration_ns(v.get<std::string>());
}

}  // namespace

std::optional<RangeFactors> range_factors(const ProfileParam& p, const nlohmann::json& value) {
  if (p.range.empty()) return std::nullopt;
  size_t dots = p.range.find("..");
  std::string a = p.range.substr(0, dots), b = p.range.substr(dots + 2);
  auto fail = [&](const std::string& why) { throw ConfigError(p.loc, "range '" + p.range + "' of " + p.key + why); };
  auto bound = [&](const std::string& t) -> double {
    if (!t.empty() && t[0] == 'x') {
      try {
        size_t used = 0;
        double f = std::stod(t.substr(1), &used);
        if (used + 1 == t.size() && f > 0) return f;
      } catch (const std::exception&) {
      }
      fail(": '" + t + "' is not a factor (x0.5, x3)");
    }
    auto ns = parse_duration_ns(t);
    if (!ns) fail(": '" + t + "' is neither a factor (x2) nor a duration (3us)");
    auto nominal = first_duration(value);
    if (!nominal || *nominal <= 0) fail(": the value holds no duration to bound; give factors (x0.5..x2)");
    return *ns / *nominal;
  };
  RangeFactors r{bound(a), bound(b)};
  if (!(r.lo <= 1 && 1 <= r.hi && r.lo < r.hi)) fail(" does not hold the value itself");
  return r;
}

std::string marks_in_comment(const std::string& comment) {
  static const std::regex mark(R"(\[([CSIEVM](?:/[CSIEVM])*)(?=[\] ,]))");
  std::string letters;
  for (std::sregex_iterator it(comment.begin(), comment.end(), mark), end; it != end; ++it)
    for (char c : (*it)[1].str())
      if (c != '/' && letters.find(c) == std::string::npos) letters += c;
  return letters;
}

std::vector<ProfileParam> case_params(const CaseConfig& c) {
  std::vector<ProfileParam> out;
  for (const auto& [prefix, file] : {std::pair{"arch.", c.arch_file}, std::pair{"hypervisor.", c.hypervisor_file}}) {
    if (file.empty()) continue;
    for (auto& p : profile_params(file)) out.push_back(std::move(p)), out.back().key.insert(0, prefix);
  }
  return out;
}

std::string replaced_by(const CaseConfig& c, const std::string& key) {
  if (key.rfind("arch.costs.", 0) != 0) return "";
  const std::string name = key.substr(11);
  if (c.hypervisor.costs.count(name)) return "hypervisor.costs." + name;
  if (c.kernel.debug && c.arch.debug_costs.count(name)) return "arch.debug_costs." + name;
  return "";
}

std::vector<ProfileParam> profile_params(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw ConfigError({file, 0, 0}, "cannot read the profile");
  std::stringstream ss;
  ss << in.rdbuf();
  Walk w{file, {}, {}};
  for (std::string line; std::getline(ss, line);) w.lines.push_back(line);
  YAML::Node root;
  check_yaml(ss.str(), file);  // aliases would make the walk below exponential
  try {
    root = YAML::Load(ss.str());
  } catch (const YAML::Exception& e) {
    throw ConfigError({file, e.mark.line + 1, e.mark.column + 1}, e.msg);
  }
  w.node(root, "", -1);
  return w.out;
}

}  // namespace racewin

// The marks of a profile's parameters, read from the comments yaml-cpp drops: each key's node
// knows its line, and the line's comment is read from the file's text.
#include "config/profile_marks.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <sstream>

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
    std::string marks = line >= 0 && size_t(line) < lines.size() ? marks_in_comment(comment_of(lines[size_t(line)])) : "";
    bool block = (v.IsMap() || v.IsSequence()) && v.Mark().line != line;
    if (marks.empty() && block) return node(v, key + ".", line);
    out.push_back({key, v.IsScalar() ? v.Scalar() : flow(v), marks, {file, line + 1, 0}});
  }
};

}  // namespace

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

bool replaced_by_hypervisor(const nlohmann::json& resolved, const std::string& key) {
  if (key.rfind("arch.costs.", 0) != 0) return false;
  const auto& h = resolved.at("hypervisor");
  return h.contains("costs") && h.at("costs").contains(key.substr(11));
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

#include "config/scenario_checks.hpp"

#include <algorithm>

#include "config/config.hpp"

namespace racewin {

bool has_steal(const YAML::Node& steal) {
  auto live = [](const YAML::Node& p) { return p.IsMap() && !(p["model"].IsScalar() && p["model"].Scalar() == "none"); };
  if (steal.IsSequence())
    for (const auto& p : steal)
      if (live(p)) return true;
  return live(steal);
}

// A scope must name a case of the file: a typo would otherwise apply to nothing, silently.
void check_scopes(const std::vector<Override>& overrides, const std::vector<std::string>& cases) {
  for (const auto& o : overrides) {
    if (o.scope.empty() || std::any_of(cases.begin(), cases.end(), [&](const std::string& c) { return scope_matches(o.scope, c); }))
      continue;
    std::string msg = "no case matches '" + o.scope + "'";
    std::string near = nearest_word(o.scope, cases);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    msg += "; the cases are:";
    for (const auto& c : cases) msg += " " + c;
    throw OverrideError({o.label, 0, 0}, msg);
  }
}

// One message for every refused override, naming the cases each would have changed silently.
void refuse(const std::vector<Override>& overrides, const std::vector<Refusal>& refusals) {
  std::vector<std::pair<std::string, std::string>> parts;  // the override, what it would do
  for (size_t i = 0; i < overrides.size(); ++i)
    for (bool meaningless : {false, true}) {
      std::vector<const Refusal*> rs;
      for (const auto& r : refusals)
        if (r.index == int(i) && r.meaningless == meaningless) rs.push_back(&r);
      if (rs.empty()) continue;
      std::string list;
      for (size_t k = 0; k < rs.size(); ++k)
        list += (k == 0 ? "" : k + 1 == rs.size() ? " and " : ", ") + rs[k]->case_name + " (" + rs[k]->detail + ")";
      const Override& o = overrides[i];
      parts.push_back({o.origin + " " + o.key + "=" + o.value,
                       meaningless ? "means nothing for case(s) " + list : "replaces what case(s) " + list + " set themselves"});
    }
  if (parts.empty()) return;
  std::string msg = parts[0].second;
  for (size_t k = 1; k < parts.size(); ++k) msg += "; " + parts[k].first + " " + parts[k].second;
  throw OverrideError({parts[0].first, 0, 0}, msg + "; give it a scope (--set 'CASE:KEY=VALUE', CASE may be a glob such "
                                                    "as 's390x_*') or --force-override");
}

std::string yaml_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// A cost that no step or mechanism of any loaded case charges is a typo or a dead figure.
void check_cost_sets(const Gathered& g) {
  std::vector<std::string> charged(g.charged.begin(), g.charged.end());
  for (const auto& [name, where] : g.cost_sets) {
    if (g.charged.count(name)) continue;
    std::string msg = "cost '" + name + "' is charged by no step and no mechanism of any case";
    std::string near = nearest_word(name, charged);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    throw ConfigError(where, msg);
  }
}

}  // namespace racewin

#pragma once
// What load_scenario checks across its cases (scenario.cpp loads them one by one): that a --set's
// scope names a case, that no unscoped --set changes a case silently, and that every cost an
// override sets is charged by something.
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/overrides.hpp"

namespace racewin {

// An unscoped --set refused for one case: it replaces the case's own line (`detail`: where), or
// it means nothing there (`detail`: why).
struct Refusal {
  int index;
  bool meaningless;
  std::string case_name, detail;
};


// What loading the cases gathers for the checks across cases (load_scenario).
struct Gathered {
  bool force = false;
  std::vector<Refusal> refusals;
  std::set<std::string> charged;  // every cost a step or a mechanism of a loaded case can charge
  std::vector<std::pair<std::string, SourceLoc>> cost_sets;  // cost names the overrides set
};

// A hypervisor's `steal:` holds a process: not absent, not {model: none}, not an empty list.
bool has_steal(const YAML::Node& steal);

// Throws OverrideError for a scope that matches none of `cases` (all the file's cases).
void check_scopes(const std::vector<Override>& overrides, const std::vector<std::string>& cases);
// Throws one OverrideError naming every refused override and the cases it would have changed.
void refuse(const std::vector<Override>& overrides, const std::vector<Refusal>& refusals);
// A value as a one-line YAML text (flow style), for listing an override.
std::string yaml_text(const YAML::Node& n);
// Throws ConfigError, with a did-you-mean, for an overridden cost that nothing charges.
void check_cost_sets(const Gathered& g);

}  // namespace racewin

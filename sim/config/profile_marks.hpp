#pragma once
// How a profile's figures are known. Every parameter of an arch or hypervisor profile carries, in
// the comment on its key's own line, a mark as in REFERENCES.md: [C] primary figure (a source, a
// config default), [S] secondary, [I] derived, [E] estimate, [V] validation only; combined ones
// such as [S/E] name each. The mark is declared once, beside the value; what reads it (the
// default set of a sensitivity sweep, `racewin params`, the test that every parameter has one)
// reads it from there.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace racewin {

struct ProfileParam {
  std::string key;    // dotted, from the profile's root: costs.unlock_page, steal.0.interarrival
  std::string value;  // as written (a flow map in YAML flow style)
  std::string marks;  // the mark letters on the key's line, e.g. "C", "SE"; empty: unmarked
  SourceLoc loc;
  // An estimate's plausible range, inside its mark: `[E 1us..10us]` (bounds of the value's first
  // duration: a fixed value, a lognormal's median, an exponential's mean) or `[E x0.5..x3]`
  // (factors of the value). Empty: none given.
  std::string range;
  // Why: the text of the key's comment without its marks; else the comment lines just above
  // the key; else the file's legend for the range, a comment line `# [E x0.5..x3]: why`.
  std::string reason;
  bool estimate() const { return marks.find('E') != std::string::npos; }
};

// The factors (low, high) by which an estimate may scale its value, from its range; nothing if
// it has none. Throws ConfigError at the parameter's line if the range is malformed, its bounds
// are not below and above the value, or the value holds no duration for an absolute range.
struct RangeFactors {
  double lo = 1, hi = 1;
};
std::optional<RangeFactors> range_factors(const ProfileParam& p, const nlohmann::json& value);

// The parameters of a profile file, in file order. A key whose line carries a mark is one
// parameter, whatever its value; a key without one whose value is a block map or list is looked
// into; any other key is a parameter without a mark. The identity keys (arch, hypervisor, doc;
// a steal or interrupt source's name, its kind of process and its vCPUs) are not parameters.
std::vector<ProfileParam> profile_params(const std::string& file);

struct CaseConfig;
// The parameters of a case's arch and hypervisor profiles, keyed as overrides name them
// (arch.costs.unlock_page, hypervisor.steal.0.interarrival); none for a profile given inline.
std::vector<ProfileParam> case_params(const CaseConfig& c);

// The key whose value the case uses instead of `key`: hypervisor.costs.X for an arch.costs.X that
// the hypervisor's cost table replaces (it is on top), arch.debug_costs.X for one that a debug
// kernel (kernel.config: debug) replaces; "" if the case uses `key` itself.
std::string replaced_by(const CaseConfig& c, const std::string& key);

// The mark letters in a comment (the text after '#'), "" if none.
std::string marks_in_comment(const std::string& comment);

}  // namespace racewin

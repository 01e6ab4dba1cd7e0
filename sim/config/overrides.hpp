#pragma once
// Overrides: a case's own lines in the scenario file, and --set on the command line. Which case a
// --set is for (its scope), when one would change a case's identity silently (then it is refused),
// and how outputs name what a run changed from its file, so that no result is mislabelled.
#include <string>
#include <vector>

#include "base/error.hpp"

namespace racewin {

struct Override {
  std::string key;    // dotted, e.g. hypervisor.steal.duration
  std::string value;  // YAML text
  std::string label = {};   // how errors name it; default "--set KEY"
  std::string scope = {};   // a case name or a glob (s390x_*): only the cases it matches; empty: all
  // A deviation from the file that the outputs list ("--set", "--set-after"); empty for what only
  // steers the run (--time, --seed) or what a sweep file records itself.
  std::string origin = {};
  // Made by racewin from the profile itself (a sensitivity point scaling each [E] figure, which
  // reports those that change nothing as such): its cost names are not checked as typed ones.
  bool derived = false;
};

// One override a case took, in the order applied.
struct AppliedOverride {
  std::string key, value;
  std::string origin;      // "--set", "--set-after", or FILE:LINE:COL of the case's own line
  bool from_file = false;  // the case's own line: part of what the file says the case is
};

// A command line the loader refuses (exit 2, not 1: the files are fine): a scope that matches no
// case, or an unscoped --set that replaces a case's own line or means nothing for a case.
class OverrideError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// "[CASE:]KEY=VALUE" as given to `option` (--set, --set-after); throws OverrideError.
Override parse_override(const std::string& text, const std::string& option);

// CASE matched as a shell glob (fnmatch: *, ?, [...]) against the whole case name.
bool scope_matches(const std::string& scope, const std::string& case_name);

// Do overrides of dotted keys `a` and `b` touch the same value (equal, or one inside the other)?
// Choosing a profile file (`arch`, `hypervisor`) does not touch the keys set inside the profile.
bool overlaps(const std::string& a, const std::string& b);

// The cost name an override of `key` sets (arch.costs.X, hypervisor.costs.X), "" if none.
std::string cost_key(const std::string& key);

// "NAME [writer=proc_mem_write_v5.9.yaml, pv_tlb_flush=true]": the case with its deviations from
// the file (only those; the case's own lines are what the file says). NAME alone without any.
std::string case_label(const std::string& name, const std::vector<AppliedOverride>& applied);

// "key=value (origin); ..." of the deviations, "" without any.
std::string deviations_text(const std::vector<AppliedOverride>& applied);

}  // namespace racewin

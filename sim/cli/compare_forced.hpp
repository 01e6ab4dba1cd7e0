#pragma once
// racewin compare --rare-event: both sides forced, one run each (compare_cmd.cpp hands over here
// once the scenarios are loaded and the cases paired).
#include <string>
#include <utility>
#include <vector>

#include "config/scenario.hpp"
#include "rare/rare_event.hpp"
#include "run/run.hpp"

namespace racewin::cli {

struct ForcedCompareRequest {
  std::string scenario, before_file, after_file, out_dir;
  std::vector<std::string> sets, sets_after;
  std::vector<std::pair<CaseConfig, CaseConfig>> pairs;  // before, after: the after side's seed is replaced
  std::vector<std::string> hazards;
  std::string method;  // as given: "force" or "force:X"
  ForceOptions force;
  StoppingRule rule;  // --rel-error, --p-below; the hazards are set per side
  unsigned jobs = 1;
  bool quiet = false;
};

// Runs, prints and writes (compare.json, compare.csv); the exit code as for compare.
int run_forced_compare(const ForcedCompareRequest& q);

}  // namespace racewin::cli

#pragma once
// What the rare-event tests share: a validation case by file and name, racewin exact's P(window
// hit), the `window:race` hazard of a result, and a fixed-length run, crude or forced.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "exact/exact.hpp"
#include "run/run.hpp"

namespace racewin::rare_testing {

inline CaseConfig validation_case(const std::string& file, const std::string& name, const std::vector<Override>& o = {}) {
  Scenario s = load_scenario("configs/validation/" + file, o, {name});
  REQUIRE(s.cases.size() == 1);
  return s.cases.front();
}

inline double exact_p(const CaseConfig& c) { return solve_chain(build_chain(c, {}), 1).windows.at(0).p_hit; }

inline size_t race(const CaseResult& r) {
  for (size_t h = 0; h < r.hazards.size(); ++h)
    if (r.hazards[h].name == "window:race") return h;
  FAIL("no window:race");
  return 0;
}

// `iterations` of the counted thread, no time limit, the case's seed unless one is given.
inline CaseResult run_fixed(CaseConfig c, uint64_t iterations, bool forced, uint64_t seed = 0, ForceOptions opt = {}) {
  c.limits.iterations = iterations;
  c.limits.time_ns = 0;
  if (seed) c.seed = seed;
  RunControl ctl;
  StoppingRule rule;
  CaseResult r = run_case(c, EngineKind::Native, ctl, {}, &rule, {}, forced ? &opt : nullptr);
  REQUIRE(r.failure.empty());
  return r;
}

}  // namespace racewin::rare_testing

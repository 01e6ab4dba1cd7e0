#pragma once
// Helpers shared by the validation tests: reading a case's parameters back from a scenario.
#include <doctest/doctest.h>

#include <cstddef>
#include <stdexcept>
#include <string>

#include "config/scenario.hpp"

namespace testing {

inline const std::string kDir = "configs/validation/";

inline const racewin::CaseConfig& the_case(const racewin::Scenario& s, const std::string& name) {
  for (const auto& c : s.cases)
    if (c.name == name) return c;
  FAIL("no case " << name << " in " << s.file);
  throw std::logic_error("unreachable");
}

// The rate (per ns) of an exponential cost of the case; fails the test if it is not exponential.
inline double rate_of(const racewin::Dist& d, const std::string& what) {
  INFO(what << " is " << d.describe());
  REQUIRE(d.kind() == racewin::Dist::Kind::Exponential);
  return 1 / d.mean();
}
inline double cost_rate(const racewin::CaseConfig& c, const std::string& name) {
  for (size_t i = 0; i < c.cost_names.size(); ++i)
    if (c.cost_names[i] == name) return rate_of(c.costs[i], "cost " + name);
  FAIL("case " << c.name << " has no cost " << name);
  return 0;
}

}  // namespace testing

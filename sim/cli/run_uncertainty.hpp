#pragma once
// racewin run --uncertainty N (run_uncertainty.cpp).
#include <cstdint>
#include <string>
#include <vector>

namespace racewin::cli {

struct UncertaintyRequest {
  std::string scenario;  // the scenario file, as given
  std::vector<std::string> cases;
  uint64_t seed = 1;
  size_t samples = 0;
  std::string hazard;
  std::string time;  // the run's budget and stopping rule, as racewin run has them
  uint64_t iterations = 0;
  double rel_error = 0, p_below = 0;
  std::string rare_event;
  std::string out;
  unsigned jobs = 0;
  bool quiet = false;
};

// Writes the uncertainty sweep of `r` to OUT/sweep.yaml and runs it there; returns the exit code
// of `racewin sweep` (0, 1 on a bad input or a failed point, 130 interrupted: the same command resumes).
int run_uncertainty(const UncertaintyRequest& r);

}  // namespace racewin::cli

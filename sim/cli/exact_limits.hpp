#pragma once
// What stops `racewin exact` before the machine runs out of memory, and what it then suggests:
// every state waiting to be expanded is a whole copy of the machine, so memory grows with the
// states enumerated, and a case too large dies on std::bad_alloc (or the OOM killer) otherwise.
#include <cstddef>
#include <stdexcept>
#include <string>

#include "config/scenario.hpp"

namespace racewin::cli {

// The enumeration stopped because memory would run out: `states` reached, at `bytes_per_state`.
struct MemoryLimit : std::runtime_error {
  MemoryLimit(const std::string& what, size_t s, double b) : std::runtime_error(what), states(s), bytes_per_state(b) {}
  size_t states;
  double bytes_per_state;
};

// Watches the process's memory while one case is enumerated. check() is called with the states
// reached so far; it throws MemoryLimit once what is left (MemAvailable, and what RLIMIT_AS leaves
// of the address space) falls below a reserve for solving the chain: a quarter of what the
// enumeration took, at least 128 MiB.
class MemoryWatch {
 public:
  MemoryWatch();
  void check(size_t states);
  // Resident bytes the enumeration added, per state reached (0 before any state).
  double bytes_per_state(size_t states) const;

 private:
  size_t rss0_;
};

// The reductions of the model that apply to case `c` (those scripts/racewin-study uses for the
// reduced model: no steal, no interrupts, pagevecs of 2, 16 pages; --reachable), as a line to
// print; `reachable`: the run already asked --reachable.
std::string state_reductions(const CaseConfig& c, bool reachable);

// "4.9 KB", "1.2 GB".
std::string bytes(double b);

}  // namespace racewin::cli

#pragma once
// The exact driver: when every duration of a case is exponential (or zero), the passive machine is
// a continuous-time Markov chain over its discrete state. This driver enumerates the states
// reachable from the start and the clocks between them, then solves the chain (exact_solve.cpp).
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/scenario.hpp"

namespace racewin {

// A duration that is neither exponential nor zero: the message names the step or cost.
class NotExponential : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// More reachable states than --max-states.
class StateLimit : public std::runtime_error {
 public:
  StateLimit(const std::string& what, size_t reached) : std::runtime_error(what), states(reached) {}
  size_t states;
};

// Throws NotExponential naming the first duration of `cfg` that is not exponential or zero.
void check_exponential(const CaseConfig& cfg);
// Every duration replaced by an exponential of the same mean (zero stays zero); lock spin loops too.
void make_exponential(CaseConfig& cfg);

// The chain: states in discovery order (0 is the start), each with its outgoing clocks.
struct Chain {
  struct Transition {
    uint32_t to;
    double rate;     // per ns
    uint32_t reward;  // index into rewards: what the transition counts (0: nothing)
  };
  // Per transition, what it adds to the run's counts: the counted thread's finished iterations,
  // and per hazard its events and its hit iterations, per window its closes and hit closes.
  struct Reward {
    int64_t iterations = 0;
    std::vector<int64_t> events, iterations_hit, closed, hit;
    bool operator==(const Reward&) const = default;
  };
  std::vector<uint64_t> row;  // transitions of state s: [row[s], row[s+1])
  std::vector<Transition> trans;
  std::vector<Reward> rewards;
  std::vector<std::string> hazards, windows;
  size_t states() const { return row.empty() ? 0 : row.size() - 1; }
};

struct ExactOptions {
  size_t max_states = 2'000'000;
  std::function<void(size_t states, size_t frontier)> progress;  // now and then while enumerating
  // Key states up to a renaming of pages and with dead variables cleared (machine_canon.cpp): an
  // exact lumping, fewer states, the same answers. Throws ModelError if a path forbids it.
  bool symmetry = false;
};

Chain build_chain(const CaseConfig& cfg, const ExactOptions& opt);

// Reachability (exact_reach.cpp): every state the exact driver's chain can reach, breadth first,
// looking for one step that raises `hazard`. No rates are needed: under exponential clocks every
// enabled clock may fire first, so this is the set of states any timing can reach (docs/rare-events.md).
struct ReachOptions {
  std::string hazard = "bad_page_state";
  size_t max_states = 2'000'000;
  bool pool_as_set = true;  // free pages as a set (PageSymmetry): more behaviours, fewer states
  std::function<void(size_t states, size_t frontier, size_t transitions)> progress;
};
struct ReachResult {
  bool reached = false;   // a step raised the hazard
  bool complete = false;  // every reachable state was expanded (with !reached: unreachable)
  size_t states = 0, transitions = 0, dead_ends = 0;
  size_t branched = 0;        // states where a free page still referred to was also tried as the next allocated
  int max_pages_in_use = 0;   // allocated or leaked, over the states seen
  size_t depth = 0;                 // transitions from the start to the hit
  std::string detail;               // the hazard's message, when reached
  std::vector<std::string> trace;   // the model's events from the start to the hit, when reached
};
ReachResult reach(const CaseConfig& cfg, const ReachOptions& opt);

struct ExactHazard {
  std::string name;
  double p_iteration = 0;      // long run: P(an iteration of the counted thread is hit)
  double events_per_s = 0;     // long run
  double time_per_hit_iteration_s = 0;  // long run: 1 / (hit iterations per second)
  double p_within_k = 0;       // from the start: P(hit within the first K iterations); NaN if not solved
  double mean_time_to_first_s = 0;  // from the start; infinity if it may never happen, NaN if not solved
};
struct ExactWindow {
  std::string name;
  double p_hit = 0;  // long run: of closed windows, the share hit
  double closed_per_s = 0;
};
struct ExactResult {
  size_t states = 0, transitions = 0;
  int k = 1;
  double iterations_per_s = 0;
  std::vector<ExactHazard> hazards;
  std::vector<ExactWindow> windows;
  std::string method;  // which solvers
  // Largest error measure of the systems solved: the relative residual |Ax - b| / |b| of an LU or
  // iterative solve, the componentwise backward error of a GTH elimination.
  double residual = 0;
  // Figures that could not be computed (NaN in the hazards), and why: a from-the-start system that
  // did not solve leaves the long-run figures standing.
  std::vector<std::string> notes;
};

// Solves the chain: the stationary distribution for the long-run figures, absorbing chains for the
// ones from the start. K: iterations of the counted thread for p_within_k.
ExactResult solve_chain(const Chain& chain, int k);

}  // namespace racewin

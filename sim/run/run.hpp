#pragma once
// One case run to its end on an engine, and what it measured.
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/run_control.hpp"
#include "base/stats.hpp"
#include "config/scenario.hpp"
#include "model/machine.hpp"
#include "rare/rare_event.hpp"
#include "timeline/timeline.hpp"

namespace racewin {

enum class EngineKind { Native, SimGrid };
const char* engine_name(EngineKind k);

// What a run says of one hazard. A hazard may fire more than once in an iteration (a window hit by
// several steps while its vCPU is stolen): `count` and `rate` are of events, `p` is a probability,
// the share of the counted thread's iterations in which it fired at least once.
struct HazardResult {
  std::string name;
  uint64_t count = 0;           // events
  uint64_t iterations_hit = 0;  // finished iterations of the counted thread with at least one event
  double p = 0;
  Interval p_ci;          // P(hit in an iteration): Clopper-Pearson over iterations
  double rate = 0;
  Interval rate_ci;       // events per simulated second: exact Poisson (Garwood)
  double mttf_s = 0;
  Interval mttf_ci;       // seconds of simulated time per iteration that hits (from its Poisson rate)
  double first_time_s = -1;
  uint64_t first_iteration = 0;
  std::string first_detail;
  BadPageReports reports;
  std::vector<uint64_t> replication_hits;  // iterations hit in each replication (two or more), in order
};

// P(a window is hit): of the windows that closed, the share another thread found open.
struct WindowResult {
  WindowStats stats;
  double p_hit = 0;
  Interval p_hit_ci;  // Clopper-Pearson over closed windows
};
WindowResult summarize_window(const WindowStats& w);
HazardResult summarize_hazard(const HazardStats& h, uint64_t iterations, double time_ns);

// Sequential stopping: a run ends when every selected hazard is estimated well enough, or when a
// budget is spent. Rule and event budget are looked at on checkpoints only (kCheckpointEvents), so
// the stopping point depends on configuration and seed; a wall budget makes it machine-dependent.
struct StoppingRule {
  double rel_error = 0;  // > 0: met when the 95% interval's half-width is <= rel_error * p (p > 0)
  double p_below = 0;    // > 0: met when the interval's upper bound is < p_below
  // Empty: those of bad_page_state and the case's window:* hazards that can be hit
  // (hazard_can_be_hit), or all of them if none can: a rule on a hazard nothing can hit is never met.
  std::vector<std::string> hazards;
  uint64_t max_events = 0;  // > 0: stop at the first checkpoint at or past this many events
  double max_wall_s = 0;    // > 0: wall-clock seconds per case
  bool has_rule() const { return rel_error > 0 || p_below > 0; }
  bool any() const { return has_rule() || max_events > 0 || max_wall_s > 0; }
  std::string describe() const;  // "rel-error 0.1", "p-below 1e-06", both joined by " or "
};

// Every hazard a case reports (builtins, then window:NAME), and those a rule looks at.
std::vector<std::string> case_hazards(const CaseConfig& cfg);
std::vector<std::string> rule_hazards(const StoppingRule& rule, const CaseConfig& cfg);
// The default hazards rule_hazards left out because nothing in the case can hit them (said in the
// output); empty when the rule names its hazards.
std::vector<std::string> rule_left_out(const StoppingRule& rule, const CaseConfig& cfg);
// False for window:NAME when no path of the case has a window_hit step for NAME: such a window only
// measures lengths, nothing can hit it, and a P(hit) for it (0, or a bound) would mean nothing.
// False for a builtin hazard when no step of the case touches a page or a PTE.
bool hazard_can_be_hit(const CaseConfig& cfg, const std::string& hazard);

// One hazard against the rule, from its counts over the counted thread's finished iterations.
struct HazardCheck {
  std::string name;
  uint64_t iterations_hit = 0;
  double p = 0;
  Interval ci;
  bool rel_met = false, below_met = false;
  bool met() const { return rel_met || below_met; }
};
HazardCheck check_hazard(const StoppingRule& rule, const std::string& name, uint64_t hit, uint64_t iterations);
// The same from an estimate and its interval; `hits` positive contributions (relative precision
// needs at least `min_hits`: a t interval from a handful of weighted hits is not trusted).
HazardCheck check_estimate(const StoppingRule& rule, const std::string& name, uint64_t hits, double p, Interval ci,
                           uint64_t min_hits = 1);

// The rule at one checkpoint.
struct StopCheck {
  uint64_t events = 0, iterations = 0;
  Time now = 0;
  double wall_s = 0;
  std::vector<HazardCheck> hazards;
  bool met() const;
};
// Events the run will have when the rule is met, from how intervals shrink (half-widths like
// 1/sqrt(n), a zero-hit upper bound like 1/n); infinity when it cannot tell (no hit yet).
double projected_events(const StoppingRule& rule, const StopCheck& c);
// Wall seconds left to the rule or the first budget, at the pace so far; infinity if unknown.
double seconds_left(const StoppingRule& rule, const StopCheck& c, const RunLimits& limits);

// How a run under a stopping rule or budget ended.
struct Stopping {
  StoppingRule rule;
  RunLimits limits;                  // the sim time and iteration budgets
  std::vector<HazardCheck> hazards;  // at the end of the run
  std::vector<std::string> left_out;  // rule_left_out: defaults nothing can hit
  std::string reason;  // "rel-error 0.1 reached", "sim time budget spent", "interrupted", ...
  bool machine_dependent = false;  // the wall budget ended it
  uint64_t events = 0;
  double sim_time_ns = 0;
};

struct CaseResult {
  std::string case_name;
  EngineKind engine = EngineKind::Native;
  uint64_t seed = 0;
  double sim_time_ns = 0;
  uint64_t iterations = 0;
  std::vector<std::pair<std::string, uint64_t>> thread_iterations;
  uint64_t events = 0;
  uint64_t ipis = 0;  // TLB-shootdown IPIs sent, by every thread
  std::vector<HazardResult> hazards;
  std::vector<uint64_t> replication_iterations;  // of each replication (two or more), in order: ratio.hpp pairs them
  std::vector<WindowResult> windows;
  std::vector<std::pair<std::string, SpinLockStats>> locks;
  std::vector<double> steal_fraction;  // per vCPU
  bool interrupted = false;
  std::string failure;  // a deadlock or model error: the run's result, not a crash
  double wall_seconds = 0;
  std::optional<Stopping> stopping;  // set when the run had a stopping rule or budget
  std::optional<ForcedRun> forced;   // set by a rare-event run: its p and p_ci are the hazards'
  std::optional<RunTimeline> timeline;  // TimelineRequest::full
  std::vector<FirstHit> first_hits;     // TimelineRequest::first_hit, in the order of hazards
};

// One run of a case: a single replication (cfg.replications is not looked at). With `rule`, the
// run also stops as it says; `on_check` sees the rule's state at each checkpoint.
// With `force`, the native engine runs the case under the forcing driver (rare_event.hpp).
// With `timeline`, the result keeps the run's events or its first hits (timeline.hpp).
CaseResult run_case(const CaseConfig& cfg, EngineKind engine, RunControl& control,
                    const std::string& paje_trace = {}, const StoppingRule* rule = nullptr,
                    const std::function<void(const StopCheck&)>& on_check = {},
                    const ForceOptions* force = nullptr, const TimelineRequest* timeline = nullptr);

// Replication k of a case: a share of its limits, and a seed derived from the case's seed.
CaseConfig replication_config(const CaseConfig& cfg, int k);
// The replications of one case, in order, as one result; independent of who ran them when.
CaseResult merge_replications(const CaseConfig& cfg, const std::vector<CaseResult>& reps);
// All replications of a case, one after the other.
CaseResult run_case_replicated(const CaseConfig& cfg, EngineKind engine, RunControl& control);

}  // namespace racewin

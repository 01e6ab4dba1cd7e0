#pragma once
// One case run to its end on an engine, and what it measured.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "machine.hpp"
#include "run_control.hpp"
#include "scenario.hpp"
#include "stats.hpp"

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
};

// P(a window is hit): of the windows that closed, the share another thread found open.
struct WindowResult {
  WindowStats stats;
  double p_hit = 0;
  Interval p_hit_ci;  // Clopper-Pearson over closed windows
};
WindowResult summarize_window(const WindowStats& w);
HazardResult summarize_hazard(const HazardStats& h, uint64_t iterations, double time_ns);

struct CaseResult {
  std::string case_name;
  EngineKind engine = EngineKind::Native;
  uint64_t seed = 0;
  double sim_time_ns = 0;
  uint64_t iterations = 0;
  std::vector<std::pair<std::string, uint64_t>> thread_iterations;
  uint64_t events = 0;
  std::vector<HazardResult> hazards;
  std::vector<WindowResult> windows;
  std::vector<std::pair<std::string, SpinLockStats>> locks;
  std::vector<double> steal_fraction;  // per vCPU
  bool interrupted = false;
  std::string failure;  // a deadlock or model error: the run's result, not a crash
  double wall_seconds = 0;
};

// One run of a case: a single replication (cfg.replications is not looked at).
CaseResult run_case(const CaseConfig& cfg, EngineKind engine, RunControl& control,
                    const std::string& paje_trace = {});

// Replication k of a case: a share of its limits, and a seed derived from the case's seed.
CaseConfig replication_config(const CaseConfig& cfg, int k);
// The replications of one case, in order, as one result; independent of who ran them when.
CaseResult merge_replications(const CaseConfig& cfg, const std::vector<CaseResult>& reps);
// All replications of a case, one after the other.
CaseResult run_case_replicated(const CaseConfig& cfg, EngineKind engine, RunControl& control);

}  // namespace racewin

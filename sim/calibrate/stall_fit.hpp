#pragma once
// From a probe's gap records to stall processes: a periodic source (the tick) found by its
// period and phase, its gaps' length law; the rest as a renewal process (running time between
// stalls, stall length), with how bursty it is; and whether stalls on different vCPUs come
// together. docs/calibrate.md says how each figure is read.
#include <optional>
#include <string>
#include <vector>

#include "calibrate/fit_dist.hpp"
#include "calibrate/mm_fit.hpp"

namespace racewin::calibrate {

// One pinned spinner's record (racewin-probe: stalls.alone[] or stalls.together.cpus[]).
struct GapRecord {
  int cpu = 0;
  double spun_ns = 0;
  std::vector<double> start, len;  // each gap above the threshold, in time order
};

struct PeriodicFit {
  std::string origin;              // how its period was first guessed
  bool found = false;
  double period_ns = 0;
  double rayleigh_z = 0;           // n R^2 over every gap at the period: about 1 for no periodicity
  std::vector<double> phase_ns;    // per record, in [0, period)
  double window_ns = 0;            // a gap starting within this of the phase is the source's
  size_t gaps = 0;                 // gaps taken as the source's
  double expected = 0;             // periods spun: one gap each if every one showed
  double chance_gaps = 0;          // how many of the source's gaps the other gaps' density puts in its window
  std::optional<LawFit> length;    // the source's gap lengths
  // From the records spun together (one time origin): the largest offset between two CPUs'
  // phases. Within the window: the CPUs' ticks are aligned (skew_tick=0).
  bool aligned_known = false;
  double max_phase_offset_ns = 0;
};

struct RenewalFit {
  size_t gaps = 0;
  double seconds = 0;              // spun
  double rate_per_s = 0;
  double time_fraction = 0;        // of the time spun, the part in these gaps
  double longest_ns = 0;
  std::optional<LawFit> running;   // from one gap's end to the next one's start (the model's interarrival)
  std::optional<LawFit> length;
  double cv = 0;                   // of the running times: 1 for a Poisson process
  double lag1 = 0;                 // correlation of successive log running times: 0 for a renewal process
  bool bursty = false;             // lag1 above 3 / sqrt(n): not a renewal process
  std::optional<MmFit> mm;         // bursty: a two-state Markov-modulated fit of the running times
};

struct Correlation {
  size_t gaps = 0;
  size_t overlapping = 0;          // gaps of one CPU overlapping a gap of another (within 1 us)
  double expected = 0;             // the same count if the CPUs' gaps were independent
};

struct StallFit {
  double threshold_ns = 0;
  PeriodicFit tick;                         // the guest's tick, near 1/HZ
  std::vector<PeriodicFit> other_periodic;  // found from the rest's start-to-start intervals
  RenewalFit rest;                          // what no periodic source took
  std::optional<Correlation> together;
};

// Finds a periodic source near `period_hint_ns` (1/HZ; 0: try 100, 250, 300 and 1000 Hz) in the
// records, takes its gaps out and fits the rest. `together` are records spun at once from one
// origin (may be empty).
StallFit fit_stalls(const std::vector<GapRecord>& alone, const std::vector<GapRecord>& together,
                    double threshold_ns, double period_hint_ns);

// The periodic search alone: Rayleigh's z summed over the records at `period_ns`.
double rayleigh_z(const std::vector<GapRecord>& records, double period_ns);

}  // namespace racewin::calibrate

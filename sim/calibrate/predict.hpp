#pragma once
// Predict, then compare: the probe's race of known window (configs/calibration/window_race.yaml)
// run on racewin with a machine's fitted profiles and the probe's own timings, beside what the
// probe measured.
#include <string>
#include <vector>

#include "base/stats.hpp"
#include "calibrate/probe_file.hpp"
#include "calibrate/stall_fit.hpp"

namespace racewin::calibrate {

struct RaceTimings {  // what a race's scenario case takes from the probe
  double window_ns = 0;     // the median window less one clock read: the stall-free open interval
  double closed_ns = 0;     // the opener's period less the window, stalls taken out
  double check_gap_ns = 0;  // the checker's period, stalls taken out
};

// The share of a spinner's time in gaps, over the records spun one CPU at a time.
double stall_fraction(const std::vector<GapRecord>& alone);
RaceTimings race_timings(const ProbeRace& r, double stall_fraction, double read_ns);

// The case keys of an arch overlay (arch_overlay.yaml's lines), indented for a scenario's case.
std::string overlay_keys(const std::string& overlay);

// A scenario of the probe's races, one case each, on `arch_file` with `hypervisor_file` and the
// tick `overlay` (the case keys arch_overlay.yaml holds), the paths from `paths_dir`. Paths in it
// are as given.
std::string race_scenario(const Probe& p, double stall_fraction, const std::string& arch_file, const std::string& hypervisor_file,
                          const std::string& overlay, const std::string& paths_dir);

struct RaceComparison {
  ProbeRace measured;
  RaceTimings timings;
  double p = 0;            // P(window hit), predicted
  Interval p_ci;
  double mean_len = 0;     // predicted mean window length, plus one clock read (as the probe measures it)
  double p_stretched = 0;  // predicted share of windows a stall or interrupt stretched
  Interval measured_p_ci;  // Clopper-Pearson over the probe's windows
  // P(window longer than x) at a few x: the model's closed windows by length (its histogram's
  // bins, whose lower edges the x are) and the probe's sample of window lengths.
  std::vector<double> tail_x;
  std::vector<uint64_t> tail_predicted;  // windows longer than x, of predicted_closed
  uint64_t predicted_closed = 0;
};

std::string comparison_table(const std::vector<RaceComparison>& rows);

// Did the race's two threads run at the same time? Running together, the checker finds a window it
// sees open about max(1, mean window / check period) times; far more (three times that, over at
// least 100 open checks) means it ran while the opener stood still mid-window, as on a host busy
// with other work. Empty when the race looks sound (or the file has no open-check count), else why
// its P(hit) is unreliable as a measurement.
std::string race_concurrency_problem(const ProbeRace& r);

// The x for P(window longer than x): the first four of the model histogram's bin edges (`edges`,
// increasing) from 1.5 W on; their indices.
std::vector<size_t> tail_bins(double window_ns, const std::vector<double>& edges);

// P(window longer than x), measured (the probe's sample, the probe's window including one clock
// read: x + read_ns) beside predicted, each with its 95% interval.
std::string tail_table(const std::vector<RaceComparison>& rows, double read_ns);

// The probe's timed paths as a scenario: one case per measured loop, on the same profiles, the
// kernel's paths from `mm_dir` and the spinning second thread from `paths_dir`. The cases, in order:
// madvise of an empty PTE; a write fault then madvise of the present PTE, alone and with a second
// thread of the mm spinning on the other vCPU; the /proc/self/mem writer alone; the two
// dirtyc0w_child loops together (madvise's, then the writer's iterations).
std::string loops_scenario(const Probe& p, const std::string& arch_file, const std::string& hypervisor_file,
                           const std::string& overlay, const std::string& mm_dir, const std::string& paths_dir);

struct LoopComparison {
  std::string name;
  double measured_ns = 0;   // mean time per iteration, stalls included
  double predicted_ns = 0;  // simulated time per iteration of the counted thread
};
std::vector<std::string> loop_case_names();
// The measured mean per case of loops_scenario, in its order (0: not measured).
std::vector<double> measured_loops(const Probe& p);
std::string loops_table(const std::vector<LoopComparison>& rows);

}  // namespace racewin::calibrate

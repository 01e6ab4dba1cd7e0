#pragma once
// A racewin-probe file (format racewin-probe/1, docs/probe.md) as calibration reads it. Loading
// checks every key it uses and names the file and key of anything missing or malformed.
#include <string>
#include <vector>

#include "calibrate/stall_fit.hpp"

namespace racewin::calibrate {

// A timed series: its exact summary and the reservoir sample.
struct Series {
  size_t count = 0;
  double mean = 0, min = 0, max = 0;
  std::vector<double> sample;
  double median() const;  // of the sample
  double quantile(double q) const;
};

struct ProbeRace {
  double window_ns = 0, check_gap_ns = 0, closed_ns = 0;
  size_t windows = 0, hits = 0, checks = 0;
  size_t open_checks = 0;  // checks that found a window open (checks_in_open_window; 0: not in the file)
  double check_period_ns = 0;
  double opener_ns = 0;  // the opener's time from its first window to its last; 0: not in the file
  Series window_length;
  double long_window_ns = 0;
  size_t long_windows = 0, long_windows_hit = 0;
};

struct Probe {
  std::string file, name, date, probe_version;
  std::string arch, kernel, cpu_model, hypervisor, clocksource;
  double hz = 0;              // CONFIG_HZ when the file has it, else 0
  double read_ns = 0;         // one clock read, in every measured time
  double threshold_ns = 0;
  bool interrupted = false;
  std::vector<GapRecord> alone, together;
  // paths (empty series when the part was not run)
  Series madvise_present, madvise_empty, write_fault;           // alone
  Series madvise_present_shootdown, madvise_empty_2, write_fault_2;  // with a second thread running
  // The second thread's gaps while the first zapped (empty: an older file), and the flush IPIs
  // the run took (TLB and CAL lines of /proc/interrupts, every CPU).
  Series second_cpu_gaps;
  double second_cpu_spun_ns = 0;
  double flush_irqs = 0;
  bool flush_irqs_known = false;
  Series write_alone;                                           // the writer's loop alone (empty: not in the file)
  Series madvise_loop, write_loop;                              // dirtyc0w_child, together
  double madvise_loop_per_s = 0, write_loop_per_s = 0;
  std::vector<ProbeRace> races;
};

// Throws ConfigError naming `path` and the key.
Probe load_probe(const std::string& path);

}  // namespace racewin::calibrate

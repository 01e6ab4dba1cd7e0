#include "calibrate/predict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace racewin::calibrate {

// The case keys of the tick's overlay, indented for a case.
std::string overlay_keys(const std::string& overlay) {
  std::string s;
  for (size_t a = 0, b; a < overlay.size(); a = b + 1) {
    b = overlay.find('\n', a);
    if (b == std::string::npos) b = overlay.size();
    std::string line = overlay.substr(a, b - a);
    if (line.rfind("arch.", 0) == 0) s += "    " + line.substr(0, line.find("  #")) + "\n";
  }
  return s;
}

double stall_fraction(const std::vector<GapRecord>& alone) {
  double gaps = 0, spun = 0;
  for (const auto& r : alone) gaps += std::accumulate(r.len.begin(), r.len.end(), 0.0), spun += r.spun_ns;
  return spun > 0 ? gaps / spun : 0;
}

RaceTimings race_timings(const ProbeRace& r, double f, double read_ns) {
  RaceTimings t;
  // The probe reads the clock before the opening store and after the closing one: what it
  // measures is the open interval plus one read's duration (half of each read on either side).
  t.window_ns = std::max(r.window_length.median() - read_ns, 1.0);
  // The opener's period per window with its stalls taken out (the model adds its own), less the
  // window; without the opener's time in the file, W's own closed time C.
  double period = r.opener_ns > 0 && r.windows > 0 ? r.opener_ns / double(r.windows) : 0;
  t.closed_ns = period > 0 ? std::max(period * (1 - f) - t.window_ns, 1.0) : std::max(r.closed_ns, 1.0);
  t.check_gap_ns = r.check_period_ns * (1 - f);
  return t;
}

std::string race_scenario(const Probe& p, double f, const std::string& arch_file, const std::string& hypervisor_file,
                          const std::string& overlay, const std::string& paths_dir) {
  std::string s;
  s += fmt::format("# racewin calibrate: the probe's races on {} ({}) as configs/calibration/window_race.yaml runs them,\n",
                   p.name.empty() ? "an unnamed machine" : p.name, p.date);
  s += fmt::format("# with the fitted profiles and each race's own timings (stalls, {:.3g}% of the time, taken out: the model adds its own).\n",
                   100 * f);
  s += "scenario: window_race_predicted\n";
  s += "doc: the probe's race of known window, predicted from the fitted profiles\n";
  s += "run:\n  time: 5s\n  seed: 1\n  count: opener\n";
  s += "machine:\n  vcpus: 2\n  pages: 4\n";
  s += fmt::format("arch: {}\nhypervisor: {}\n", arch_file, hypervisor_file);
  s += fmt::format("threads:\n  opener: {{vcpu: 0, path: {}/race_opener.yaml}}\n  checker: {{vcpu: 1, path: {}/race_checker.yaml}}\n", paths_dir,
                   paths_dir);
  s += "cases:\n";
  for (const auto& r : p.races) {
    RaceTimings t = race_timings(r, f, p.read_ns);
    s += fmt::format("  w{:.0f}ns_g{:.0f}ns:\n", r.window_ns, r.check_gap_ns);
    // The loops' periods jitter on a real machine (the probe records their means); fixed ones would
    // lock the model's checker to one phase of the opener, so that a single stall moved every later
    // hit. A 5% lognormal spread [E] keeps the means and breaks the lock within a few periods.
    s += fmt::format("    arch.costs.race_window: {:.1f}ns\n    arch.costs.race_closed: {{lognormal: {{median: {:.1f}ns, sigma: 0.05}}}}\n"
                     "    arch.costs.race_check_gap: {{lognormal: {{median: {:.1f}ns, sigma: 0.05}}}}\n",
                     t.window_ns, t.closed_ns, t.check_gap_ns);
    s += overlay_keys(overlay);
  }
  return s;
}

std::vector<std::string> loop_case_names() {
  return {"madvise_empty", "fault_then_madvise", "fault_then_madvise_shootdown", "write_alone", "dirtyc0w_madvise", "dirtyc0w_writer"};
}

std::vector<double> measured_loops(const Probe& p) {
  return {p.madvise_empty.mean, p.write_fault.mean + p.madvise_present.mean, p.write_fault_2.mean + p.madvise_present_shootdown.mean,
          p.write_alone.mean, p.madvise_loop.mean, p.write_loop.mean};
}

std::string loops_scenario(const Probe& p, const std::string& arch_file, const std::string& hypervisor_file,
                           const std::string& overlay, const std::string& mm_dir, const std::string& paths_dir) {
  std::string s;
  s += fmt::format("# racewin calibrate: the probe's timed paths on {} ({}), with the fitted profiles and the shipped\n",
                   p.name.empty() ? "an unnamed machine" : p.name, p.date);
  s += "# arch profile's path costs (not fitted): what the model predicts each loop's iteration takes.\n";
  s += "scenario: loops_predicted\ndoc: the probe's madvise, fault and dirtyc0w_child loops, predicted\n";
  s += "run:\n  time: 200ms\n  seed: 1\n  count: m\n";
  // As many pages as the study's scenario: the per-CPU free lists hold up to pcp_high each.
  s += "machine:\n  vcpus: 2\n  pages: 1024\n  spinlocks: [ptl]\n  ptes: [map]\n";
  s += "kernel:\n  config: production\n";
  s += fmt::format("arch: {}\nhypervisor: {}\n", arch_file, hypervisor_file);
  s += fmt::format("threads:\n  m: {{vcpu: 0, path: {}/madvise_dontneed.yaml}}\n", mm_dir);
  const std::string keys = overlay_keys(overlay);
  s += "cases:\n";
  s += "  madvise_empty:\n" + keys;
  s += fmt::format("  fault_then_madvise:\n    threads.m.path: [{0}/touch_anon.yaml, {0}/madvise_dontneed.yaml]\n", mm_dir) + keys;
  s += fmt::format("  fault_then_madvise_shootdown:\n    threads.m.path: [{0}/touch_anon.yaml, {0}/madvise_dontneed.yaml]\n"
                   "    threads.other: {{vcpu: 1, path: {1}/spin.yaml}}\n", mm_dir, paths_dir) + keys;
  s += fmt::format("  write_alone:\n    threads.m.path: {}/proc_mem_write_v5.9.yaml\n", mm_dir) + keys;
  // The LTP loops, each counted in its own case (the same seed: the same run, counted twice).
  for (const char* counted : {"m", "w"})
    s += fmt::format("  dirtyc0w_{}:\n    threads.w: {{vcpu: 1, path: {}/proc_mem_write_v5.9.yaml}}\n    run.count: {}\n",
                     counted[0] == 'm' ? "madvise" : "writer", mm_dir, counted) + keys;
  return s;
}

std::string loops_table(const std::vector<LoopComparison>& rows) {
  std::string o = fmt::format("  {:<30} {:>14} {:>14} {:>8}\n", "loop (mean per iteration)", "measured", "predicted", "ratio");
  for (const auto& r : rows)
    o += r.measured_ns > 0 ? fmt::format("  {:<30} {:>11.3f} us {:>11.3f} us {:>8.3f}\n", r.name, r.measured_ns / 1e3, r.predicted_ns / 1e3,
                                         r.predicted_ns / r.measured_ns)
                           : fmt::format("  {:<30} {:>14} {:>11.3f} us\n", r.name, "not measured", r.predicted_ns / 1e3);
  return o;
}

std::string race_concurrency_problem(const ProbeRace& r) {
  if (r.open_checks < 100 || r.hits == 0 || r.check_period_ns <= 0) return "";
  double seen = double(r.open_checks) / double(r.hits);
  double together = std::max(1.0, r.window_length.mean / r.check_period_ns);
  if (seen <= 3 * together) return "";
  return fmt::format("UNRELIABLE: the checker saw each window it hit {:.3g} times where threads running together see it about {:.2g} times: "
                     "the two threads did not run at the same time (a host busy with other work?)",
                     seen, together);
}

std::string comparison_table(const std::vector<RaceComparison>& rows) {
  std::string o = fmt::format("  {:<22} {:<34} {:<34} {:>8} {:>16} {:>16}\n", "race (W, G)", "P(window hit) measured [95%]",
                              "predicted [95%]", "ratio", "mean window m/p", "stretched m/p");
  for (const auto& r : rows) {
    double pm = double(r.measured.hits) / double(r.measured.windows);
    double long_m = double(r.measured.long_windows) / double(r.measured.windows);
    o += fmt::format("  {:<22} {:<34} {:<34} {:>8.3f} {:>16} {:>16}\n",
                     fmt::format("{:.0f} ns, {:.0f} ns", r.measured.window_ns, r.measured.check_gap_ns),
                     fmt::format("{:.4g} [{:.4g}, {:.4g}]", pm, r.measured_p_ci.lo, r.measured_p_ci.hi),
                     fmt::format("{:.4g} [{:.4g}, {:.4g}]", r.p, r.p_ci.lo, r.p_ci.hi), pm > 0 ? r.p / pm : 0.0,
                     fmt::format("{:.0f}/{:.0f} ns", r.measured.window_length.mean, r.mean_len),
                     fmt::format("{:.2g}/{:.2g}", long_m, r.p_stretched));
  }
  o += "  (stretched: measured, windows longer than W + the threshold; predicted, windows a stall or an interrupt fell in)\n";
  for (const auto& r : rows)
    if (std::string why = race_concurrency_problem(r.measured); !why.empty())
      o += fmt::format("  {:.0f} ns, {:.0f} ns measured: {}\n", r.measured.window_ns, r.measured.check_gap_ns, why);
  return o;
}

std::vector<size_t> tail_bins(double window_ns, const std::vector<double>& edges) {
  std::vector<size_t> out;
  for (size_t k = 0; k < edges.size() && out.size() < 4; ++k)
    if (edges[k] >= 1.5 * window_ns) out.push_back(k);
  return out;
}

std::string tail_table(const std::vector<RaceComparison>& rows, double read_ns) {
  std::string o = fmt::format("  {:<22} {:>10} {:<34} {}\n", "race (W, G)", "x", "P(window > x) measured [95%]", "predicted [95%]");
  for (const auto& r : rows) {
    const auto& sample = r.measured.window_length.sample;  // sorted
    for (size_t i = 0; i < r.tail_x.size(); ++i) {
      double x = r.tail_x[i];
      auto above = uint64_t(sample.end() - std::upper_bound(sample.begin(), sample.end(), x + read_ns));
      Interval m = binomial_interval(above, sample.size()), p = binomial_interval(r.tail_predicted[i], r.predicted_closed);
      o += fmt::format("  {:<22} {:>7.3g} us {:<34} {}\n",
                       i ? "" : fmt::format("{:.0f} ns, {:.0f} ns", r.measured.window_ns, r.measured.check_gap_ns), x / 1e3,
                       fmt::format("{:.3g} [{:.3g}, {:.3g}]", sample.empty() ? 0.0 : double(above) / double(sample.size()), m.lo, m.hi),
                       fmt::format("{:.3g} [{:.3g}, {:.3g}]", r.predicted_closed ? double(r.tail_predicted[i]) / double(r.predicted_closed) : 0.0,
                                   p.lo, p.hi));
    }
  }
  o += fmt::format("  (measured: the probe's {} sampled windows a race, less one clock read, {:.0f} ns; predicted: every closed window)\n",
                   rows.empty() ? 0 : rows[0].measured.window_length.sample.size(), read_ns);
  return o;
}

}  // namespace racewin::calibrate

#include "calibrate/report.hpp"

#include <fmt/format.h>

#include "calibrate/predict.hpp"

namespace racewin::calibrate {
namespace {

std::string us(double ns) { return fmt::format("{:.3g} us", ns / 1e3); }

std::string series_line(const char* name, const Series& s) {
  if (!s.count) return fmt::format("  {:<34} not measured\n", name);
  return fmt::format("  {:<34} median {:>9}  p90 {:>9}  p99 {:>9}  mean {:>9}  ({} calls)\n", name, us(s.median()),
                     us(s.quantile(0.9)), us(s.quantile(0.99)), us(s.mean), s.count);
}

}  // namespace

std::string law_lines(const LawFit& f, const std::string& indent) {
  std::string out;
  for (size_t i = 0; i < f.families.size(); ++i)
    out += fmt::format("{}{} {}{}\n", indent, i == 0 ? "*" : " ", f.families[i].describe(), f.families[i].converged ? "" : "  (not converged)");
  out += fmt::format("{}  KS 5% bound {:.4f} over {} values{}: {}\n", indent, f.ks_critical, f.n,
                     f.lower > 0 ? fmt::format(" (truncated at {:.0f} ns)", f.lower) : "",
                     f.parametric_fits() ? "the best family is taken" : "no family fits; the empirical law is taken");
  return out;
}

std::string report(const Probe& p, const StallFit& s) {
  std::string o;
  o += fmt::format("{}: {} ({}), {} {}, kernel {}, hypervisor: {}, clock {}{}\n", p.file, p.name.empty() ? "unnamed" : p.name,
                   p.date, p.arch, p.cpu_model, p.kernel, p.hypervisor, p.clocksource, p.interrupted ? " (INTERRUPTED)" : "");
  double spun = 0;
  size_t gaps = 0;
  for (const auto& r : p.alone) spun += r.spun_ns, gaps += r.start.size();
  o += fmt::format("\nStalls: {} gaps above {:.0f} ns in {:.1f} s spun on {} CPUs one at a time\n", gaps, s.threshold_ns, spun / 1e9, p.alone.size());
  auto periodic = [&](const PeriodicFit& t) {
    o += fmt::format("  periodic, {}: period {:.7g} ms ({:.3f} Hz), Rayleigh z {:.0f}; {} gaps within {} of its phase in {:.0f} periods"
                     " ({:.0f}% showed one; {:.1f} of them expected there by chance)\n",
                     t.origin, t.period_ns / 1e6, 1e9 / t.period_ns, t.rayleigh_z, t.gaps, us(t.window_ns), t.expected,
                     100.0 * double(t.gaps) / t.expected, t.chance_gaps);
    if (t.aligned_known)
      o += fmt::format("    the CPUs' phases (spun together) differ by at most {}: {}\n", us(t.max_phase_offset_ns),
                       t.max_phase_offset_ns <= t.window_ns ? "aligned on every CPU" : "not aligned");
    if (t.length) o += "    its gap lengths:\n" + law_lines(*t.length, "      ");
  };
  if (s.tick.found) periodic(s.tick);
  else o += fmt::format("  no tick found near {:.6g} ms (Rayleigh z {:.1f})\n", s.tick.period_ns / 1e6, s.tick.rayleigh_z);
  for (const auto& f : s.other_periodic) periodic(f);
  const RenewalFit& r = s.rest;
  o += fmt::format("  the rest: {} gaps, {:.4g} a second, {:.3g}% of the time, the longest {}\n", r.gaps, r.rate_per_s,
                   100 * r.time_fraction, us(r.longest_ns));
  if (r.running) {
    o += fmt::format("  running time between them (CV {:.3g}; lag-1 correlation of log running times {:.3f}: {}):\n", r.cv, r.lag1,
                     r.bursty ? "BURSTY, not a renewal process" : "no sign against a renewal process");
    o += law_lines(*r.running, "    ");
    if (r.mm && r.mm->fitted) {
      const MmFit& m = *r.mm;
      o += fmt::format("    Markov-modulated, two states (Baum-Welch, {} iterations): BIC {:.6g} against {:.6g} for one lognormal: {}\n",
                       m.iterations, m.bic, m.renewal_bic, m.better() ? "the chain explains them better" : "no better than one law");
      for (size_t i = 0; i < m.mu.size(); ++i)
        o += fmt::format("      state {}: running time lognormal median {}, sigma {:.3f}; stays {:.4g} stalls on average; {:.1f}% of the stalls\n", i,
                         us(std::exp(m.mu[i])), m.sigma[i], 1 / std::max(1 - m.transitions[i][i], 1e-12), 100 * m.stationary[i]);
    }
  }
  if (r.length) o += "  their lengths:\n" + law_lines(*r.length, "    ");
  if (s.together)
    o += fmt::format("  spun together: {} of {} gaps overlap another CPU's (independent CPUs: {:.1f} expected){}\n", s.together->overlapping,
                     s.together->gaps, s.together->expected,
                     double(s.together->overlapping) > 2 * s.together->expected + 10 ? ": CORRELATED across vCPUs" : "");
  o += "\nPaths (each time includes one clock read of " + fmt::format("{:.0f} ns", p.read_ns) + "):\n";
  o += series_line("madvise, present PTE", p.madvise_present);
  o += series_line("madvise, empty PTE", p.madvise_empty);
  o += series_line("write fault", p.write_fault);
  o += series_line("madvise, present PTE, 2nd thread", p.madvise_present_shootdown);
  o += series_line("madvise, empty PTE, 2nd thread", p.madvise_empty_2);
  if (p.madvise_present.count && p.madvise_present_shootdown.count)
    o += fmt::format("  {:<34} {} (median with a second thread running less median alone)\n", "the shootdown",
                     us(p.madvise_present_shootdown.median() - p.madvise_present.median()));
  o += series_line("dirtyc0w_child madvise loop", p.madvise_loop);
  o += series_line("dirtyc0w_child write loop", p.write_loop);
  if (p.madvise_loop.count)
    o += fmt::format("  loops together: madvise {:.0f}/s, writer {:.0f}/s: the {} loop is the faster\n", p.madvise_loop_per_s,
                     p.write_loop_per_s, p.madvise_loop_per_s > p.write_loop_per_s ? "madvise" : "write");
  if (!p.races.empty()) {
    o += "\nRace of known window:\n";
    for (const auto& x : p.races) {
      std::string why = race_concurrency_problem(x);
      o += fmt::format("  W {:>6} ns, checks every {:>6} ns (measured period {}): P(hit) {:.4g} ({} of {} windows); window median {},"
                       " mean {}; {} windows above {} ({} hit)\n",
                       x.window_ns, x.check_gap_ns, us(x.check_period_ns), double(x.hits) / double(x.windows), x.hits, x.windows,
                       us(x.window_length.median()), us(x.window_length.mean), x.long_windows, us(x.long_window_ns), x.long_windows_hit) +
           (why.empty() ? "" : "    " + why + "\n");
    }
  }
  return o;
}

}  // namespace racewin::calibrate

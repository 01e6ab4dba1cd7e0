#include "calibrate/profile_writer.hpp"

#include <fmt/format.h>

#include <cctype>

#include "base/version.hpp"

namespace racewin::calibrate {
namespace {

std::string ident(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? char(std::tolower(static_cast<unsigned char>(c))) : '_';
  return out.empty() ? "unnamed" : out;
}

std::string dur(double ns) {
  if (ns >= 1e6) return fmt::format("{:.7g}ms", ns / 1e6);
  if (ns >= 1e3) return fmt::format("{:.6g}us", ns / 1e3);
  return fmt::format("{:.6g}ns", ns);
}

// Why a law is what the profile states: the family and its KS distance, or why the empirical one.
std::string law_note(const LawFit& f) {
  const FamilyFit& b = f.best();
  if (f.parametric_fits()) return fmt::format("{} by BIC over {} values, KS {:.3f}", family_name(b.family), f.n, b.ks);
  return fmt::format("{} values; best family {} {} misses them by KS {:.3f} (5% bound {:.3f}), so their quantiles", f.n,
                     family_name(b.family), b.yaml(), b.ks, f.ks_critical);
}

}  // namespace

Profiles write_profiles(const Probe& p, const StallFit& s, const std::string& source) {
  Profiles out;
  const std::string m = "[M " + source + "]";
  std::string& h = out.hypervisor;
  h += fmt::format("# Measured by racewin-probe {} on {} ({}): {} {}, kernel {}, hypervisor as the guest sees it:\n", p.probe_version,
                   p.name.empty() ? "an unnamed machine" : p.name, p.date, p.arch, p.cpu_model, p.kernel, p.hypervisor);
  h += fmt::format("# {}; clock {}. Fitted by racewin calibrate ({}) from {}.\n", p.hypervisor, p.clocksource, kVersion, source);
  h += "# Marks: [M] measured, from that file; [E] what a guest's probe cannot tell.\n";
  h += "# The guest's own tick is in the arch overlay beside this file (arch_overlay.yaml), not here. Left\n";
  h += "# out: IPI and shootdown costs (the probe's paths measure them; racewin calibrate reports them, not\n";
  h += "# yet fitted), and any burstiness of the stalls that are neither periodic nor the tick";
  h += s.rest.bursty ? fmt::format(" (measured:\n# lag-1 correlation {:.2f}; a renewal process has none).\n", s.rest.lag1) : ".\n";
  double busy = s.rest.time_fraction;
  for (const auto& f : s.other_periodic) busy += double(f.gaps) * (f.length ? f.length->best().median() : 0) / (s.rest.seconds * 1e9);
  h += fmt::format("hypervisor: measured_{}\n", ident(p.name));
  h += fmt::format("doc: {} as racewin-probe measured it on {} (stalls other than the guest's tick ~{:.2g}% of the time)\n",
                   p.name.empty() ? "a machine" : p.name, p.date.substr(0, 10), 100 * busy);
  h += "cpus: shared  # a guest's vCPUs are host threads (KVM, z/VM, PR/SM shared) [C]\n";
  h += "steal:\n";
  int i = 0;
  for (const auto& f : s.other_periodic) {
    ++i;
    double mean_len = 0;
    if (f.length) mean_len = f.length->families.front().median();
    h += fmt::format("  # Periodic: {:.7g} Hz in the guest's time, {} of {:.0f} periods showed a gap{}. As a renewal process\n", 1e9 / f.period_ns,
                     f.gaps, f.expected,
                     f.aligned_known ? fmt::format(", the CPUs' phases {:.3g} us apart", f.max_phase_offset_ns / 1e3) : "");
    h += "  # whose running time is the period less the gap (the model starts every vCPU's at once).\n";
    h += fmt::format("  - name: periodic_{}\n    model: renewal\n", i);
    h += "    preempts: false  # exits taken in the host's run loop, as a host tick's; a guest cannot tell [E]\n";
    h += fmt::format("    interarrival: {{fixed: {}}}  # {} less the gaps' median {} {}\n", dur(f.period_ns - mean_len), dur(f.period_ns),
                     dur(mean_len), m);
    if (f.length) h += fmt::format("    duration: {}  # {} {}\n", f.length->yaml(), law_note(*f.length), m);
  }
  if (s.rest.running && s.rest.length) {
    h += fmt::format("  # The rest: {:.4g} stalls a second, {:.3g}% of the time, the longest {}.\n", s.rest.rate_per_s, 100 * s.rest.time_fraction,
                     dur(s.rest.longest_ns));
    h += "  - name: stalls\n    model: renewal\n";
    h += "    preempts: true  # a guest cannot tell a preemption from an exit; irregular stalls are taken as preemptions [E]\n";
    h += fmt::format("    interarrival: {}  # running time between stalls: {} {}\n", s.rest.running->yaml(), law_note(*s.rest.running), m);
    h += fmt::format("    duration: {}  # {} {}\n", s.rest.length->yaml(), law_note(*s.rest.length), m);
  }
  if (i == 0 && !(s.rest.running && s.rest.length)) h += "  []  # no stall but the tick's was measured [M]\n";
  h += "interrupt_exits:\n";
  h += fmt::format("  timer: 0ns  # the tick's exit is inside its measured gap (arch overlay) {}\n", m);

  std::string& a = out.arch_overlay;
  a += fmt::format("# The guest's tick on {} ({}), as a case's keys over an arch profile: copy them into a case of a\n",
                   p.name.empty() ? "an unnamed machine" : p.name, p.date);
  a += fmt::format("# scenario whose arch profile's interrupts[0] is the tick. Fitted by racewin calibrate from {}.\n", source);
  if (s.tick.found) {
    a += fmt::format("arch.interrupts.0.interarrival: {}  # {} of {:.0f} periods showed a gap {}\n", dur(s.tick.period_ns), s.tick.gaps,
                     s.tick.expected, m);
    if (s.tick.aligned_known)
      a += fmt::format("arch.interrupts.0.aligned: {}  # the CPUs' phases {:.3g} us apart, window {:.3g} us {}\n",
                       s.tick.max_phase_offset_ns <= s.tick.window_ns ? "true" : "false", s.tick.max_phase_offset_ns / 1e3,
                       s.tick.window_ns / 1e3, m);
    if (s.tick.length) a += fmt::format("arch.interrupts.0.handler: {}  # the whole gap: {} {}\n", s.tick.length->yaml(), law_note(*s.tick.length), m);
    a += fmt::format("arch.interrupts.0.softirq: 0ns  # in the handler's measured gap: user space cannot split them {}\n", m);
  } else {
    a += fmt::format("# No tick was found (Rayleigh z {:.1f} near {} ms): nothing to override.\n", s.tick.rayleigh_z, s.tick.period_ns / 1e6);
  }
  return out;
}

}  // namespace racewin::calibrate

#include "calibrate/profile_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

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

// The share of a periodic source's periods that showed a gap above the threshold.
double shown(const PeriodicFit& f) { return f.expected > 0 ? std::min(1.0, double(f.gaps) / f.expected) : 1; }

// A source that shows a gap in a share q of its periods only takes less than the threshold in
// the others: its law is then the gaps' law with (1 - q) of its weight at half the threshold [E],
// as 64 equally likely values. From q = 0.95 on, the gaps' law itself.
std::string thinned(const LawFit& law, double q, double threshold_ns) {
  if (q >= 0.95 || law.quantiles.empty()) return law.yaml();
  const size_t n = 64, below = size_t(std::lround((1 - q) * double(n)));
  std::string s = "{empirical: [";
  for (size_t i = 0; i < n; ++i) {
    double v = threshold_ns / 2;
    if (i >= below) v = law.quantiles[std::min(law.quantiles.size() - 1, size_t((double(i - below) + 0.5) / double(n - below) * double(law.quantiles.size())))];
    s += (i ? ", " : "") + dur(v);
  }
  return s + "]}";
}

}  // namespace

bool broadcast_arch(const std::string& arch) { return arch == "s390x"; }

Profiles write_profiles(const Probe& p, const StallFit& s, const std::string& source, const FlushFit& flush) {
  Profiles out;
  const std::string m = "[M " + source + "]";
  std::string& h = out.hypervisor;
  h += fmt::format("# Measured by racewin-probe {} on {} ({}): {} {}, kernel {}, hypervisor as the guest sees it:\n", p.probe_version,
                   p.name.empty() ? "an unnamed machine" : p.name, p.date, p.arch, p.cpu_model, p.kernel, p.hypervisor);
  h += fmt::format("# {}; clock {}. Fitted by racewin calibrate ({}) from {}.\n", p.hypervisor, p.clocksource, kVersion, source);
  h += "# Marks: [M] measured, from that file; [E] what a guest's probe cannot tell.\n";
  h += "# The guest's own tick is in the arch overlay beside this file (arch_overlay.yaml), not here. Left\n";
  h += flush.by_hypercall ? "# out: IPI costs (this guest sends no flush IPI; the path costs are in arch_costs.yaml when\n# racewin calibrate --predict fits them)"
                          : "# out: IPI and shootdown costs (racewin calibrate --predict fits them as the path costs,\n# arch_costs.yaml)";
  h += ", and any burstiness of the stalls that are neither periodic nor the tick";
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
    double q = shown(f);
    bool aligned = !f.aligned_known || f.max_phase_offset_ns <= f.window_ns;
    h += fmt::format("  # Periodic: {:.7g} Hz in the guest's time, {} of {:.0f} periods showed a gap{}.\n", 1e9 / f.period_ns, f.gaps,
                     f.expected, f.aligned_known ? fmt::format(", the CPUs' phases {:.3g} us apart", f.max_phase_offset_ns / 1e3) : "");
    h += fmt::format("  - name: periodic_{}\n", i);
    h += "    preempts: false  # exits taken in the host's run loop, as a host tick's; a guest cannot tell [E]\n";
    if (aligned) {
      // At the same instants on every vCPU, as measured (or, with no records spun together, as assumed).
      h += "    model: periodic\n";
      h += fmt::format("    period: {}  # {}\n", dur(f.period_ns), m);
      h += fmt::format("    show: {:.4g}  # the share of periods with a gap {}\n", q, m);
      if (!f.aligned_known) h += "    # aligned on every vCPU: no records spun together say otherwise [E]\n";
    } else {
      // Not aligned: a renewal process per vCPU, whose running time is the period less the gap (at
      // the rate of its gaps if some periods show none).
      double every = q >= 0.95 ? f.period_ns : f.period_ns / q;
      h += "    model: renewal  # not aligned across vCPUs: each its own (a periodic source is aligned)\n";
      h += fmt::format("    interarrival: {{fixed: {}}}  # one gap every {}, less the gaps' median {} {}\n", dur(every - mean_len), dur(every),
                       dur(mean_len), m);
    }
    if (f.length) h += fmt::format("    duration: {}  # {} {}\n", f.length->yaml(), law_note(*f.length), m);
  }
  if (s.rest.running && s.rest.length) {
    h += fmt::format("  # The rest: {:.4g} stalls a second, {:.3g}% of the time, the longest {}.\n", s.rest.rate_per_s, 100 * s.rest.time_fraction,
                     dur(s.rest.longest_ns));
    const auto& mm = s.rest.mm;
    if (mm && mm->better()) {
      // Bursty: the running times come in runs; a chain over the stalls picks each one's law.
      h += fmt::format("  # Bursty (lag-1 correlation {:.2f}): a Markov chain over the stalls picks each running time's law,\n", s.rest.lag1);
      h += fmt::format("  # lognormal per state (Baum-Welch; BIC {:.6g} against {:.6g} for one law).\n", mm->bic, mm->renewal_bic);
      h += "  - name: stalls\n    model: markov_modulated\n";
      h += "    preempts: true  # a guest cannot tell a preemption from an exit; irregular stalls are taken as preemptions [E]\n";
      h += "    states:\n";
      for (size_t st = 0; st < mm->mu.size(); ++st)
        h += fmt::format("      - {{interarrival: {{lognormal: {{median: {}, sigma: {:.4g}}}}}}}  # {:.1f}% of the stalls {}\n", dur(std::exp(mm->mu[st])),
                         mm->sigma[st], 100 * mm->stationary[st], m);
      h += "    transitions: [";
      for (size_t from = 0; from < mm->transitions.size(); ++from) {
        h += from ? ", [" : "[";
        for (size_t to = 0; to < mm->transitions[from].size(); ++to) h += fmt::format("{}{:.8g}", to ? ", " : "", mm->transitions[from][to]);
        h += "]";
      }
      h += fmt::format("]  # after a stall, from state i to j {}\n", m);
    } else {
      h += "  - name: stalls\n    model: renewal\n";
      h += "    preempts: true  # a guest cannot tell a preemption from an exit; irregular stalls are taken as preemptions [E]\n";
      h += fmt::format("    interarrival: {}  # running time between stalls: {} {}\n", s.rest.running->yaml(), law_note(*s.rest.running), m);
    }
    h += fmt::format("    duration: {}  # {} {}\n", s.rest.length->yaml(), law_note(*s.rest.length), m);
  }
  if (i == 0 && !(s.rest.running && s.rest.length)) h += "  []  # no stall but the tick's was measured [M]\n";
  if (flush.by_hypercall && flush.stall) {
    // The sender's extra time is the way there, the target's hold, and the way back; a guest sees
    // only the sum, so what is left of it beside the hold is split evenly. Never zero: the cost fit
    // scales it.
    // The hold's median by the law taken: the family's where it fits, else the values' own.
    const auto& q = flush.stall->quantiles;
    double hold = flush.stall->parametric_fits() || q.size() < 2 ? flush.stall->best().median() : (q[q.size() / 2 - 1] + q[q.size() / 2]) / 2;
    double way = std::max(100.0, (flush.sender_extra_ns - hold) / 2);
    h += fmt::format("# TLB flush of other CPUs {}.\n", flush.why);
    if (broadcast_arch(p.arch)) {  // no IPI to replace: the broadcast itself holds the other CPUs
      h += "# The arch flushes by broadcast (IPTE), and the platform holds the other running CPUs\n";
      h += "# while it does (an emulator's synchronised section, as QEMU TCG's), the sender waiting.\n";
      h += "broadcast_sync:\n";
    } else {
      h += "# The hypervisor flushes them at the sender's hypercall: each running target is held in the\n";
      h += "# host meanwhile, and the sender waits for them all.\n";
      h += "remote_flush:\n";
    }
    h += "  # send and ack_latency: the zap's median with the second thread less alone, less the target's\n";
    h += "  # hold, halved between the way there and back: a guest sees only their sum.\n";
    h += fmt::format("  send: {}  # ({} - {}) / 2 {}\n", dur(way), dur(flush.sender_extra_ns), dur(hold), m);
    h += fmt::format("  latency: 0ns  # in send {}\n", m);
    h += fmt::format("  target_stall: {}  # the second CPU's gaps: {}, ~{:.0f}% of them its background stalls {}\n", flush.stall->yaml(),
                     law_note(*flush.stall), 100 * std::min(1.0, flush.background / flush.gaps), m);
    h += fmt::format("  ack_latency: {}  # as send {}\n", dur(way), m);
  }
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
    if (s.tick.length) {
      double q = shown(s.tick);
      a += fmt::format("arch.interrupts.0.handler: {}  # the whole gap: {} {}\n", thinned(*s.tick.length, q, p.threshold_ns),
                       law_note(*s.tick.length), m);
      if (q < 0.95)
        a += fmt::format("# Only {:.0f}% of the ticks showed a gap above {}: the handler's law puts the other {:.0f}% at half\n"
                         "# that [E], below what the probe sees.\n", 100 * q, dur(p.threshold_ns), 100 * (1 - q));
    }
    a += fmt::format("arch.interrupts.0.softirq: 0ns  # in the handler's measured gap: user space cannot split them {}\n", m);
  } else {
    a += fmt::format("# No tick was found (Rayleigh z {:.1f} near {} ms): nothing to override.\n", s.tick.rayleigh_z, s.tick.period_ns / 1e6);
  }
  return out;
}

}  // namespace racewin::calibrate

#include "calibrate/flush_fit.hpp"

#include <fmt/format.h>

namespace racewin::calibrate {

FlushFit fit_flush(const Probe& p) {
  FlushFit f;
  if (!p.flush_irqs_known || !p.second_cpu_gaps.count || !p.madvise_present_shootdown.count || p.alone.empty()) {
    f.why = "not told: the probe file has no second-thread gaps (older than 2026-12-05) or no stall records";
    return f;
  }
  f.known = true;
  f.calls = double(p.madvise_present_shootdown.count);
  f.irqs = p.flush_irqs;
  f.gaps = double(p.second_cpu_gaps.count);
  // The stalls every CPU has anyway, at the rate the stall records show alone.
  double n = 0, ns = 0;
  for (const auto& g : p.alone) {
    n += double(g.len.size());
    ns += g.spun_ns;
    for (double l : g.len) ns += l;
  }
  f.background = ns > 0 ? n / ns * p.second_cpu_spun_ns : 0;
  f.gaps_per_call = (f.gaps - f.background) / f.calls;
  f.sender_extra_ns = p.madvise_present_shootdown.median() - (p.madvise_present.count ? p.madvise_present.median() : 0);
  f.by_hypercall = f.irqs < 0.01 * f.calls && f.gaps_per_call >= 0.5;
  if (f.by_hypercall) {
    if (p.second_cpu_gaps.sample.size() >= 10) f.stall = fit_law(p.second_cpu_gaps.sample, p.threshold_ns);
    f.why = fmt::format("by the hypervisor: {:.0f} flush interrupts in {:.0f} zaps that each flushed the second CPU, which "
                        "stalled {:.2f} times a zap beyond its {:.0f} background stalls",
                        f.irqs, f.calls, f.gaps_per_call, f.background);
  } else {
    f.why = fmt::format("by IPI: {:.0f} flush interrupts in {:.0f} zaps; the second CPU stalled {:.2f} times a zap beyond its background",
                        f.irqs, f.calls, f.gaps_per_call);
  }
  return f;
}

}  // namespace racewin::calibrate

// Periodic ticks for rare-event forcing: their phase drawn afresh in a branch.
//
// A tick on the same edge on every CPU (the timer interrupt of bare metal and of most guests) has
// no density: given the past, its next arrival is known, and forcing cannot speed it up. Its phase
// against the threads' loops is what makes a window hit or not. Taken as uniform over one period
// (stationary: the loops forget the last tick long before the next, so the time to the next tick
// seen from a window's opening is uniform on [0, T)), the next tick from a branch point is a gap
// with a density, 1 / (T - a) its hazard at age a, which forcing can speed up and weigh exactly.
// rephase_ticks() makes that gap the pending arrival of the window's vCPU; when it arrives the
// other CPUs take their ticks on their own edges of the new phase (align_ticks), and every CPU
// then goes on with period T.
//
// What this assumes, and the run does not check: the distribution of the machine at a window's
// opening does not depend on the time since the last tick, for times near one period. The bias is
// of the order of the share of a period the last tick still disturbs (its handler and what it
// delays: ~1e-3 of a 10 ms period here). docs/rare-events.md has the validation.
#include <algorithm>
#include <cmath>

#include "model/machine.hpp"

namespace racewin {

bool Machine::tick_source(size_t s) const {
  const IrqSource& src = irq_sources_[s];
  return src.aligned && src.interarrival.kind() == Dist::Kind::Fixed && src.interarrival.mean() > 0;
}

void Machine::enable_tick_phase() {
  phase_law_.clear();
  for (size_t s = 0; s < irq_sources_.size(); ++s)
    phase_law_.push_back(tick_source(s) ? Dist::uniform(0, irq_sources_[s].interarrival.mean()) : Dist::fixed(0));
}

int Machine::window_vcpu() const {
  for (const Thread& t : threads_)
    if (t.open_windows > 0) return t.vcpu;
  return -1;
}

int Machine::deferred_process() const {
  return task_src_ >= 0 && cfg_.kernel.preempt ? int(cfg_.hypervisor.steal.size()) + task_src_ : -1;
}

bool Machine::armed() const {
  if (open_windows_ > 0) return true;
  if (deferred_process() < 0) return false;
  for (const Thread& t : threads_)
    if (opens_window_[size_t(t.id)] && vcpus_[size_t(t.vcpu)].preempt > 0) return true;
  return false;
}

void Machine::rephase_ticks(int v) {
  if (phase_law_.empty()) throw std::logic_error("rephase_ticks: enable_tick_phase() first");
  const size_t k = cfg_.hypervisor.steal.size();
  for (size_t s = 0; s < irq_sources_.size(); ++s) {
    if (!tick_source(s) || !applies_to(irq_sources_[s].vcpus, v)) continue;
    const size_t j = k + s;
    for (Vcpu& c : vcpus_) ++c.arrivals[j].gen, c.arrivals[j].rephased = false;  // pending ticks forgotten
    Vcpu& c = vcpus_[size_t(v)];
    c.arrivals[j].rephased = true;
    eng_.schedule(eng_.now() + draw(phase_law_[s], c.irq_gap_rngs[s]), arrival_timer(v, j, eng_.now()));
  }
  if (!force_.empty()) refresh_force();
}

// The rephased tick of source s arrived on v: the other CPUs take theirs on their edges (the same
// instant, or with skew_tick the offsets tick-sched.c gives them), then every CPU has period T.
void Machine::align_ticks(int v, size_t s) {
  const size_t j = cfg_.hypervisor.steal.size() + s;
  vcpus_[size_t(v)].arrivals[j].rephased = false;
  const double period = irq_sources_[s].interarrival.mean();
  const double skew = cfg_.kernel.skew_tick ? period / 2 / double(vcpus_.size()) : 0;
  for (size_t u = 0; u < vcpus_.size(); ++u) {
    if (int(u) == v || !applies_to(irq_sources_[s].vcpus, int(u))) continue;
    double off = std::fmod((double(u) - double(v)) * skew + period, period);
    ++vcpus_[u].arrivals[j].gen;
    eng_.schedule(eng_.now() + off, arrival_timer(int(u), j, eng_.now()));
  }
}

}  // namespace racewin

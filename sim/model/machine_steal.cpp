// Hypervisor steal: renewal, periodic, Markov-modulated and traced sources, started stationary;
// a vCPU held off its CPU by one or more of them.
#include <algorithm>

#include "model/machine.hpp"

namespace racewin {

// A renewal or Markov-modulated source's running-time law now: its own, or its state's.
const Dist& Machine::running_law(const Vcpu& c, size_t k) const {
  const StealProcess& p = cfg_.hypervisor.steal[k];
  return p.kind == StealProcess::Kind::MarkovModulated ? p.state_interarrival[size_t(c.mm_state[k])] : p.interarrival;
}

// After a Markov-modulated source's steal: its next state, by its row of the transitions.
void Machine::mm_step(Vcpu& c, size_t k) {
  const StealProcess& p = cfg_.hypervisor.steal[k];
  if (p.kind != StealProcess::Kind::MarkovModulated) return;
  const auto& row = p.transitions[size_t(c.mm_state[k])];
  double u = c.mm_rngs[k].uniform(), acc = 0;
  size_t next = row.size() - 1;
  for (size_t j = 0; j < row.size(); ++j)
    if (u < (acc += row[j])) { next = j; break; }
  c.mm_state[k] = int(next);
}

void Machine::start_steal_process(int v) {
  Vcpu& c = vcpus_[size_t(v)];
  for (size_t k = 0; k < cfg_.hypervisor.steal.size(); ++k) {
    const StealProcess& p = cfg_.hypervisor.steal[k];
    if (!applies_to(p.vcpus, v)) continue;
    bool renewal = p.kind == StealProcess::Kind::Renewal || p.kind == StealProcess::Kind::MarkovModulated;
    if (p.kind == StealProcess::Kind::MarkovModulated) {  // the state at the burn-in's start, from the chain's stationary law
      double u = c.mm_rngs[k].uniform(), acc = 0;
      c.mm_state[k] = int(p.stationary.size()) - 1;
      for (size_t j = 0; j < p.stationary.size(); ++j)
        if (u < (acc += p.stationary[j])) { c.mm_state[k] = int(j); break; }
    }
    if (renewal && sampling_ == Sampling::kMeans) {
      eng_.schedule(eng_.now() + running_law(c, k).mean(), arrival_timer(v, k, eng_.now()));
    } else if (renewal) {
      Rng& gap = c.steal_gap_rngs[k];
      Rng& len = c.steal_len_rngs[k];
      double mean_running = p.interarrival.mean();
      if (p.kind == StealProcess::Kind::MarkovModulated) {
        mean_running = 0;
        for (size_t j = 0; j < p.stationary.size(); ++j) mean_running += p.stationary[j] * p.state_interarrival[j].mean();
      }
      double cycle = mean_running + p.duration.mean();
      double t = -(kBurnInCycles + gap.uniform()) * cycle;
      for (;;) {
        double from = t;
        t += draw(running_law(c, k), gap);
        if (t >= 0) {
          eng_.schedule(eng_.now() + t, arrival_timer(v, k, eng_.now() + from));
          break;
        }
        double d = draw(p.duration, len);
        if (t + d > 0) {  // stolen at time 0
          c.first_steal_len[k] = t + d;
          eng_.schedule(eng_.now(), arrival_timer(v, k, eng_.now()));
          break;
        }
        t += d;
        mm_step(c, k);
      }
    } else if (p.kind == StealProcess::Kind::Periodic) {
      // Stationary from time 0: the period before's stall may still be on.
      double first = steal_phase_[k];
      c.periodic_next[k] = first + p.period;
      if (sampling_ != Sampling::kMeans && c.steal_gap_rngs[k].uniform() < p.show) {
        double left = first - p.period + draw(p.duration, c.steal_len_rngs[k]);
        if (left > 0) {
          c.first_steal_len[k] = left;
          c.periodic_next[k] = first;
          eng_.schedule(eng_.now(), arrival_timer(v, k, eng_.now()));
          continue;
        }
      }
      eng_.schedule(eng_.now() + first, arrival_timer(v, k, eng_.now()));
    } else if (size_t(v) < p.trace.size() && !p.trace[size_t(v)].empty()) {
      eng_.schedule(p.trace[size_t(v)][0].start, arrival_timer(v, k, eng_.now()));
    }
  }
}

// One steal source lets go of vCPU `v`: its next steal is scheduled, and the vCPU runs again
// when no other source holds it.
void Machine::steal_end(int v, int k) {
  Vcpu& c = vcpus_[size_t(v)];
  const StealProcess& p = cfg_.hypervisor.steal[size_t(k)];
  c.steal_on[size_t(k)] = 0;
  if (p.kind == StealProcess::Kind::Renewal || p.kind == StealProcess::Kind::MarkovModulated) {
    mm_step(c, size_t(k));
    eng_.schedule(eng_.now() + draw(running_law(c, size_t(k)), c.steal_gap_rngs[size_t(k)]), arrival_timer(v, size_t(k), eng_.now()));
  } else if (p.kind == StealProcess::Kind::Trace) {
    const auto& trace = p.trace[size_t(v)];
    size_t next = size_t(++c.trace_pos[size_t(k)]);
    if (next < trace.size()) eng_.schedule(std::max(trace[next].start, eng_.now()), arrival_timer(v, size_t(k), eng_.now()));
  }
  if (--c.steal_depth == 0) unsteal(v);
}

// One more reason holds vCPU `v` off its CPU; the first takes it away.
void Machine::steal_begin(int v) {
  Vcpu& c = vcpus_[size_t(v)];
  if (c.steal_depth++ > 0) return;  // already stolen by another source
  c.stolen = true;
  c.stolen_since = eng_.now();
  eng_.set_stolen(v, true);
  if (c.thread >= 0) {
    Thread& t = threads_[size_t(c.thread)];
    for (size_t w = 0; w < t.window_open_at.size(); ++w)
      if (t.window_open_at[w] >= 0) t.window_stretch[w] |= 1;
  }
  if (tracing()) emit(TraceEvent::Kind::StealBegin, v);
}

void Machine::unsteal(int v) {
  Vcpu& c = vcpus_[size_t(v)];
  c.stolen = false;
  c.stolen_total += eng_.now() - c.stolen_since;
  eng_.set_stolen(v, false);
  if (c.descheduled) sched_in(c);
  if (tracing()) emit(TraceEvent::Kind::StealEnd, v);
  if (c.flush_deferred) {  // kvm_steal_time: the flush requested while preempted, at VM entry
    c.flush_deferred = false;
    if (tracing()) emit(TraceEvent::Kind::DeferredFlush, v);
  }
  sync_flush_resume(v);
  try_deliver(v);
  if (c.thread >= 0 && c.handlers.empty()) spin_poll(threads_[size_t(c.thread)]);
}

}  // namespace racewin

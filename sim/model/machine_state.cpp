// The machine's state as a key: what decides its future, for the exact driver to tell states apart.
//
// Left out, because they only record the past (statistics) or are never read when durations are
// means (the exact driver's Sampling::kMeans):
//   Thread: iterations (unless asked for), wait_since, free_pc (messages only), window_open_at's time (only open or not is
//           kept), window_stretch, cost_rngs;
//   Vcpu:   stolen_since, stolen_total, steal_gen and yield_gen (the driver drops dead StealEnd and
//           YieldEnd timers instead), steal_until (with means, the source's mean, never a state's),
//           ple_window and descheduled (the window never grows with exponential durations),
//           first_steal_len (unused with means), periodic_next and mm_state (periodic and
//           Markov-modulated steal: the exact driver refuses them), every Rng, arrivals (forcing only: the exact
//           driver never forces, so every arrival timer is live);
//   Page:   nothing; SpinLock: acquired_at, stats; hazards_, window_stats_, events_, ipis_sent_, drained_
//           (scratch), open_windows_ and Thread::open_windows (counts of window_open_at, which is
//           in the key), force_, log_weight_, exposure_, forced_arrivals_, force_cap_, force_max_arrivals_, forced_h_, force_spent_, force_nominal_, forced_by_, phase_law_ (forcing only), and what never changes
//           after construction (irq_sources_, opens_window_, irq_phase_, steal_phase_, irq_exit_).
// When a field is added to MachineState, it goes in the key or in this list.
#include <cstring>

#include "model/machine.hpp"

namespace racewin {
namespace {

struct Key {
  std::string& out;
  template <class T>
  void raw(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
  }
  void i(int64_t v) { raw(v); }
  void d(double v) { raw(v); }
  template <class C>
  void ints(const C& c) {
    i(int64_t(c.size()));
    for (auto x : c) i(int64_t(x));
  }
  void pte(const PteVal& p) {
    i(p.present | p.writable << 1 | p.dirty << 2 | p.young << 3);
    i(p.page);
  }
};

}  // namespace

void Machine::state_key(std::string& out, bool with_iterations) const {
  Key k{out};
  k.i(finished_);
  for (const Thread& t : threads_) {
    k.i(t.pc);
    for (const Value& v : t.vars) {
      k.i(v.is_pte);
      if (v.is_pte) k.pte(v.pte);
      else k.i(v.i);
    }
    k.i(int(t.state));
    k.i(t.effect_pending);
    k.d(t.remaining);
    k.i(t.wait_acks);
    k.i(t.waiting_lock);
    k.i(t.waiting_page);
    k.i(int(t.phase));
    k.d(t.spun);
    k.i(t.page_lock_tries);
    k.ints(t.freeing);
    k.i(t.in_free);
    k.i(t.tlb.pending);
    k.ints(t.tlb.batch);
    for (size_t w = 0; w < t.window_open_at.size(); ++w) k.i((t.window_open_at[w] >= 0) | t.window_hit[w] << 1);
    if (with_iterations && t.id == cfg_.count_thread) k.i(int64_t(t.iterations));
  }
  for (const Vcpu& c : vcpus_) {
    k.i(c.irq_on);
    k.i(c.preempt);
    k.i(c.need_resched);
    k.i(c.stolen);
    k.i(c.steal_depth);
    k.ints(c.trace_pos);
    k.ints(c.steal_on);
    k.i(c.yielded);
    k.i(c.flush_deferred);
    k.ints(c.sync_flush_waiters);
    k.i(int64_t(c.handlers.size()));
    for (const Interrupt& h : c.handlers) k.i(int(h.kind)), k.i(h.arg), k.i(h.soft), k.d(h.remaining);
    k.i(int64_t(c.pending.size()));
    for (const Interrupt& h : c.pending) k.i(int(h.kind)), k.i(h.arg);
    k.ints(c.irq_pending);
    k.ints(c.pagevec);
    k.ints(c.activate_pvec);
    k.ints(c.pcp);
  }
  for (const Page& p : pages_) {
    k.i(int(p.state));
    k.i(p.refcount);
    k.i(p.mapcount);
    k.i(p.locked | p.dirty << 1 | p.lru << 2 | p.anon << 3 | p.swapbacked << 4 | p.referenced << 5 | p.active << 6);
    k.i(p.lock_owner);
    k.ints(p.lock_waiters);
  }
  k.ints(free_pages_);
  for (const PteVal& p : ptes_) k.pte(p);
  for (const SpinLock& l : locks_) {
    k.i(l.owner);
    k.ints(l.waiters);
    k.i(l.steals);
  }
  // IPI slots: who sent each one in flight; a free slot's stale sender is left out.
  k.ints(free_ipis_);
  k.i(int64_t(ipis_.size()));
  for (size_t id = 0; id < ipis_.size(); ++id)
    if (std::find(free_ipis_.begin(), free_ipis_.end(), int(id)) == free_ipis_.end())
      k.i(ipis_[id].from_vcpu), k.i(ipis_[id].from_thread);
  k.ints(iteration_hits_);
}

bool Machine::timer_live(const Timer& t) const {
  if (t.kind == Timer::StealStart || t.kind == Timer::IrqArrive) return arrival_live(t);
  const Vcpu& c = vcpus_[size_t(t.vcpu)];
  if (t.kind == Timer::YieldEnd) return t.gen == c.yield_gen && c.yielded;
  if (t.kind != Timer::StealEnd) return true;
  return t.gen == c.steal_gen[size_t(t.arg)] && c.steal_on[size_t(t.arg)];
}

}  // namespace racewin

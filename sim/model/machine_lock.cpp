// Spinlocks as the profiles choose them, and deadlock detection.
//  - fifo: a queued lock that hands itself to the head waiter at release, even a stolen one.
//  - queued (s390 arch_spin_lock_queued, dedicated CPUs): the head waiter takes a released lock
//    when it sees it free; a new locker may take a free lock past the waiters lock_steals times.
//  - classic (s390 arch_spin_lock_classic, shared CPUs) and tas (x86 virt_spin_lock): no queue;
//    whichever spinner's compare-and-swap comes first wins, the releaser's next spin_lock included.
//  - pv_qspinlock (x86 KVM guest with PV_UNHALT): the head waiter spins spin_threshold, then
//    halts (pv_wait) and is kicked (pv_kick) by the unlocker; while it does not spin actively
//    (halted or being woken) new lockers may steal the lock (pv_hybrid_queued_unfair_trylock).
// s390 spinners ask whether the holder runs (arch_vcpu_is_preempted: SIGP SENSE RUNNING) when they
// start waiting and yield their vCPU to it (smp_yield_cpu: DIAG 9C) if it does not; after every
// spin_retry of spinning they yield again, always under z/VM and only to a preempted holder on an
// LPAR (arch/s390/lib/spinlock.c, v5.9). x86 spinners under KVM exit after the pause-loop window
// and the host yields to the holder if it is preempted (kvm_vcpu_on_spin, virt/kvm/kvm_main.c).
#include <algorithm>
#include <functional>
#include <sstream>

#include "model/machine.hpp"

namespace racewin {

bool Machine::try_take_free(SpinLock& l, Thread& t) {
  if (l.owner >= 0) return false;
  if (!l.waiters.empty()) {
    switch (cfg_.lock.kind) {
      case LockModel::Kind::Fifo: return false;
      case LockModel::Kind::Queued:
        if (l.steals >= cfg_.lock.lock_steals) return false;
        ++l.steals;
        break;
      case LockModel::Kind::PvQspinlock: {  // only past a head that does not spin (no pending bit)
        SpinPhase ph = threads_[size_t(l.waiters.front())].phase;
        if (ph != SpinPhase::Halt && ph != SpinPhase::Kick) return false;
        break;
      }
      case LockModel::Kind::Classic: case LockModel::Kind::Tas: break;
    }
  }
  take_lock(l, t, false);
  return true;
}

void Machine::take_lock(SpinLock& l, const Thread& t, bool waited) {
  l.owner = t.id;
  l.acquired_at = eng_.now();
  if (tracing()) emit(TraceEvent::Kind::LockTaken, t.vcpu, t.id, int(&l - locks_.data()), -1, waited ? 1 : 0);
  if (!waited) return;
  double w = eng_.now() - t.wait_since;
  l.stats.wait_sum += w;
  l.stats.wait_max = std::max(l.stats.wait_max, w);
}

bool Machine::spin_lock(Thread& t, int lock) {
  SpinLock& l = locks_[size_t(lock)];
  ++vcpus_[size_t(t.vcpu)].preempt;
  ++l.stats.acquisitions;
  if (try_take_free(l, t)) return true;
  ++l.stats.contended;
  if (tracing()) emit(TraceEvent::Kind::SpinWait, t.vcpu, t.id, lock, l.owner >= 0 ? threads_[size_t(l.owner)].vcpu : -1);
  l.waiters.push_back(t.id);
  t.waiting_lock = lock;
  if (fifo()) {
    block(t, TState::Spinning);
    return false;
  }
  t.state = TState::Spinning;
  t.wait_since = eng_.now();
  t.spun = 0;
  if (cfg_.lock.s390()) spin_start(t, SpinPhase::Check);
  else spin_on(t);
  check_deadlock(t);
  return false;
}

void Machine::spin_unlock(Thread& t, int lock) {
  SpinLock& l = locks_[size_t(lock)];
  if (l.owner != t.id)
    throw ModelError(where(t) + ": spin_unlock of '" + cfg_.names.spinlocks[size_t(lock)] + "', which it does not hold");
  --vcpus_[size_t(t.vcpu)].preempt;
  double hold = eng_.now() - l.acquired_at;
  l.stats.hold_sum += hold;
  l.stats.hold_max = std::max(l.stats.hold_max, hold);
  l.owner = -1;
  if (tracing()) emit(TraceEvent::Kind::LockReleased, t.vcpu, t.id, lock);
  if (l.waiters.empty()) return;
  if (!fifo()) {  // the lock word is free: spinners that see it try their compare-and-swap
    std::vector<int> ws(l.waiters.begin(), l.waiters.end());
    for (int id : ws) spin_poll(threads_[size_t(id)]);
    return;
  }
  Thread& w = threads_[size_t(l.waiters.front())];  // queued lock: the head waiter owns it now
  l.waiters.erase(l.waiters.begin());
  take_lock(l, w, true);
  wake(w, cost(w, handoff_cost_));
}

bool Machine::eligible(const SpinLock& l, const Thread& t) const {
  return cfg_.lock.unqueued() || (!l.waiters.empty() && l.waiters.front() == t.id);
}

void Machine::spin_start(Thread& t, SpinPhase ph) {
  t.phase = ph;
  double amount = kForever;
  switch (ph) {
    case SpinPhase::Check: amount = cost(t, sigp_cost_); break;
    case SpinPhase::Yield: amount = cost(t, yield_cost_); break;
    case SpinPhase::Attempt: amount = cost(t, handoff_cost_); break;
    case SpinPhase::Kick: amount = cost(t, kick_cost_); break;
    case SpinPhase::Halt: break;
    case SpinPhase::Spin: {
      bool pv_head = cfg_.lock.kind == LockModel::Kind::PvQspinlock && eligible(locks_[size_t(t.waiting_lock)], t);
      if (cfg_.lock.exponential) {  // one exponential loop: the head's until it halts, else spin_retry's
        double mean = pv_head ? cfg_.lock.spin_threshold : cfg_.lock.spin_retry;
        if (mean > 0) amount = draw(Dist::exponential(mean), t.spin_rng);
        break;
      }
      if (cfg_.lock.spin_retry > 0) amount = cfg_.lock.s390() ? cfg_.lock.spin_retry : vcpus_[size_t(t.vcpu)].ple_window;
      if (pv_head) amount = std::min(amount, std::max(0.0, cfg_.lock.spin_threshold - t.spun));
      break;
    }
  }
  t.remaining = amount;
  if (on_top(t)) eng_.start_work(t.vcpu, amount);
}

void Machine::spin_on(Thread& t) {
  const SpinLock& l = locks_[size_t(t.waiting_lock)];
  spin_start(t, l.owner < 0 && eligible(l, t) ? SpinPhase::Attempt : SpinPhase::Spin);
}

// A running spinner sees the free lock; a halted pv-qspinlock head is kicked.
bool Machine::spin_poll(Thread& t) {
  if (t.state != TState::Spinning || fifo()) return false;
  if (t.phase != SpinPhase::Spin && t.phase != SpinPhase::Halt) return false;
  const SpinLock& l = locks_[size_t(t.waiting_lock)];
  if (l.owner >= 0 || !eligible(l, t)) return false;
  if (t.phase == SpinPhase::Halt) {  // pv_kick: the host wakes the halted vCPU
    if (on_top(t)) eng_.stop_work(t.vcpu);
    sched_in(vcpus_[size_t(t.vcpu)]);
    if (tracing()) emit(TraceEvent::Kind::Kick, t.vcpu, t.id, t.waiting_lock);
    spin_start(t, SpinPhase::Kick);
    return true;
  }
  if (!on_top(t) || vcpus_[size_t(t.vcpu)].stolen) return false;
  eng_.stop_work(t.vcpu);
  spin_start(t, SpinPhase::Attempt);
  return true;
}

void Machine::spin_phase_done(Thread& t) {
  const SpinLock& l = locks_[size_t(t.waiting_lock)];
  bool holder_preempted = l.owner >= 0 && preempted(vcpus_[size_t(threads_[size_t(l.owner)].vcpu)]);
  switch (t.phase) {
    case SpinPhase::Attempt: case SpinPhase::Kick:
      if (l.owner < 0 && eligible(l, t)) return acquire_after_wait(t);
      t.spun = 0;
      break;  // another CPU's compare-and-swap came first
    case SpinPhase::Check:
      if (holder_preempted) return spin_start(t, SpinPhase::Yield);
      break;
    case SpinPhase::Yield: directed_yield(t); break;
    case SpinPhase::Halt: break;
    case SpinPhase::Spin: {
      t.spun = cfg_.lock.exponential && eligible(l, t) ? cfg_.lock.spin_threshold : t.spun + t.remaining;
      if (cfg_.lock.kind == LockModel::Kind::PvQspinlock && eligible(l, t) && t.spun >= cfg_.lock.spin_threshold &&
          l.owner >= 0) {
        if (tracing()) emit(TraceEvent::Kind::Halt, t.vcpu, t.id, t.waiting_lock);
        return spin_start(t, SpinPhase::Halt);
      }
      if (l.owner < 0 || cfg_.lock.spin_retry <= 0) break;
      if (!cfg_.lock.s390()) {  // a pause-loop exit: KVM grows the window, then kvm_vcpu_on_spin
        Vcpu& c = vcpus_[size_t(t.vcpu)];
        if (cfg_.lock.spin_retry_grow > 1) {
          c.ple_window *= cfg_.lock.spin_retry_grow;
          if (cfg_.lock.spin_retry_max > 0) c.ple_window = std::min(c.ple_window, cfg_.lock.spin_retry_max);
        }
        return spin_start(t, SpinPhase::Yield);
      }
      return spin_start(t, cfg_.hypervisor.spin_yield == HypervisorProfile::Yield::Always ? SpinPhase::Yield
                                                                                           : SpinPhase::Check);
    }
  }
  spin_on(t);
}

void Machine::acquire_after_wait(Thread& t) {
  SpinLock& l = locks_[size_t(t.waiting_lock)];
  if (!l.waiters.empty() && l.waiters.front() == t.id) l.steals = 0;
  l.waiters.erase(std::find(l.waiters.begin(), l.waiters.end(), t.id));
  take_lock(l, t, true);
  t.waiting_lock = -1;
  t.state = TState::Working;
  t.effect_pending = false;
  work_completed(t);
}

// DIAG 9C, or the host's kvm_vcpu_on_spin after a pause-loop exit: the hypervisor runs the
// holder's vCPU in the spinner's place if it is preempted, ending the steals that deschedule it;
// a short exit the holder is in (a source that does not preempt) ends on its own. With
// hypervisor.yield_ends_slice the two swap places: the spinner's vCPU waits in the host as long
// as the holder still had to wait (when means are drawn, the exact driver's case, that is the
// source's mean duration: the rest of an exponential steal is the same exponential).
void Machine::directed_yield(Thread& t) {
  const SpinLock& l = locks_[size_t(t.waiting_lock)];
  if (l.owner < 0) return;
  int ov = threads_[size_t(l.owner)].vcpu;
  Vcpu& o = vcpus_[size_t(ov)];
  if (tracing()) emit(TraceEvent::Kind::Yield, t.vcpu, t.id, t.waiting_lock, ov);
  if (!preempted(o)) return;
  double rest = 0;
  for (size_t k = 0; k < o.steal_on.size(); ++k)
    if (o.steal_on[k] && cfg_.hypervisor.steal[k].preempts) {
      rest = std::max(rest, o.steal_until[k] - eng_.now());
      steal_end(ov, int(k));
    }
  if (!cfg_.hypervisor.yield_ends_slice || rest <= 0) return;
  Vcpu& c = vcpus_[size_t(t.vcpu)];
  c.yielded = true;
  c.descheduled = true;
  eng_.schedule(eng_.now() + rest, {Timer::YieldEnd, t.vcpu, 0, ++c.yield_gen});
  steal_begin(t.vcpu);
}

void Machine::check_deadlock(const Thread& start) {
  // Fast path, the common case: the lock's owner is running, so there is no cycle.
  int owner = start.state == TState::Spinning && start.waiting_lock >= 0 ? locks_[size_t(start.waiting_lock)].owner
              : start.state == TState::Sleeping && start.waiting_page >= 0 ? pages_[size_t(start.waiting_page)].lock_owner
                                                                            : -1;
  if (owner >= 0 && owner != start.id) {
    TState os = threads_[size_t(owner)].state;
    if (os == TState::Working || os == TState::Ready) return;
  }
  // Follow "waits for" edges; a cycle back to `start` is a deadlock.
  auto waits_for = [&](const Thread& t) -> std::vector<int> {
    if (t.state == TState::Spinning && t.waiting_lock >= 0) return {locks_[size_t(t.waiting_lock)].owner};
    if (t.state == TState::Sleeping && t.waiting_page >= 0) return {pages_[size_t(t.waiting_page)].lock_owner};
    if (t.state == TState::WaitingAcks) {  // a target with IRQs off that is itself stuck never acks
      std::vector<int> out;
      for (const auto& o : threads_)
        if (o.id != t.id && !vcpus_[size_t(o.vcpu)].irq_on && o.state != TState::Working && o.state != TState::Ready)
          out.push_back(o.id);
      return out;
    }
    return {};
  };
  std::vector<int> chain{start.id};
  std::vector<uint8_t> seen(threads_.size(), 0);
  std::function<bool(int)> dfs = [&](int id) -> bool {
    for (int n : waits_for(threads_[size_t(id)])) {
      if (n < 0) continue;
      if (n == start.id) return true;
      if (seen[size_t(n)]) continue;
      seen[size_t(n)] = 1;
      chain.push_back(n);
      if (dfs(n)) return true;
      chain.pop_back();
    }
    return false;
  };
  if (!dfs(start.id)) return;
  std::ostringstream o;
  o << "deadlock at t=" << format_duration(eng_.now()) << ":";
  for (int id : chain) {
    const Thread& t = threads_[size_t(id)];
    o << "\n  " << where(t);
    if (t.waiting_lock >= 0)
      o << " spins on '" << cfg_.names.spinlocks[size_t(t.waiting_lock)] << "' held by "
        << threads_[size_t(locks_[size_t(t.waiting_lock)].owner)].spec->name;
    else if (t.waiting_page >= 0)
      o << " sleeps on PG_locked of page " << t.waiting_page;
    else if (t.state == TState::WaitingAcks)
      o << " waits for IPI acks from vCPUs with IRQs off";
  }
  throw DeadlockError(o.str());
}

}  // namespace racewin

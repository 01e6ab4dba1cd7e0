// Interrupts and IPIs: their delivery, handlers and the timers that drive them (steal: machine_steal.cpp;
// TLB shootdown: machine_flush.cpp).
#include <algorithm>

#include "model/machine.hpp"

namespace racewin {

void Machine::start_irq_source(int v, size_t s) {
  const IrqSource& src = irq_sources_[s];
  if (!applies_to(src.vcpus, v)) return;
  Vcpu& c = vcpus_[size_t(v)];
  double first, from = 0;
  if (sampling_ == Sampling::kMeans) {
    first = src.interarrival.mean();
  } else if (src.first >= 0 || src.aligned) {
    first = irq_phase_[s];
    if (src.aligned && cfg_.kernel.skew_tick) first += double(v) * src.interarrival.mean() / 2 / double(vcpus_.size());
  } else {
    double mean = src.interarrival.mean();
    double t = -(kBurnInCycles + c.irq_gap_rngs[s].uniform()) * mean;
    while (t < 0) from = t, t += std::max(draw(src.interarrival, c.irq_gap_rngs[s]), 1.0);
    first = t;
  }
  eng_.schedule(eng_.now() + first, arrival_timer(v, cfg_.hypervisor.steal.size() + s, eng_.now() + from));
}

// ---- interrupts, IPIs, steal ------------------------------------------------------------------

// The vCPU idles in halt: its thread sleeps on the page lock, or waits halted for a kick.
bool Machine::halted(const Vcpu& c) const {
  if (c.thread < 0 || !c.handlers.empty()) return false;
  const Thread& t = threads_[size_t(c.thread)];
  return t.state == TState::Sleeping || (t.state == TState::Spinning && t.phase == SpinPhase::Halt);
}

bool Machine::preempted(const Vcpu& c) const {
  if (!c.stolen) return false;
  for (size_t k = 0; k < c.steal_on.size(); ++k)
    if (c.steal_on[k] && cfg_.hypervisor.steal[k].preempts) return true;
  return false;
}

int Machine::priority(const Interrupt& i) const {
  return i.kind == HKind::Ipi ? cfg_.arch.ipi_priority : irq_sources_[size_t(i.arg)].priority;
}

// Takes the highest-priority pending interrupt (the first of equals) if the vCPU can: it runs, and
// either its thread has IRQs on and no handler runs, or the innermost handler is in its softirq
// tail. `after_handler`: a handler just ended, so nothing runs on the engine and whatever it
// interrupted has its remaining work saved already.
void Machine::try_deliver(int v, bool after_handler) {
  Vcpu& c = vcpus_[size_t(v)];
  if (c.stolen || c.pending.empty()) return;
  bool nested = !c.handlers.empty();
  if (nested ? !c.handlers.back().soft : !c.irq_on) return;
  auto best = c.pending.begin();
  for (auto it = c.pending.begin(); it != c.pending.end(); ++it)
    if (priority(*it) > priority(*best)) best = it;
  Interrupt p = *best;
  c.pending.erase(best);
  if (p.kind == HKind::Irq) c.irq_pending[size_t(p.arg)] = 0;
  if (nested) {
    if (!after_handler) c.handlers.back().remaining = eng_.stop_work(v);
  } else if (c.thread >= 0) {  // preempt the thread; its remaining work is kept
    Thread& t = threads_[size_t(c.thread)];
    if (!after_handler && (t.state == TState::Working || t.state == TState::Spinning)) t.remaining = eng_.stop_work(v);
    else if (!after_handler && t.state == TState::WaitingAcks) eng_.stop_work(v);
    for (size_t w = 0; w < t.window_open_at.size(); ++w)
      if (t.window_open_at[w] >= 0) t.window_stretch[w] |= 2;
  }
  c.handlers.push_back({p.kind, p.arg});  // its hardirq part runs with IRQs off
  double len;
  if (p.kind == HKind::Ipi) {
    len = draw(cfg_.arch.ipi_handler, c.ipi_handler_rng) + draw(cfg_.hypervisor.ipi_target_exit, c.ipi_exit_rng);
  } else {
    len = draw(irq_sources_[size_t(p.arg)].handler, c.irq_handler_rngs[size_t(p.arg)]);
    if (const Dist* x = irq_exit_[size_t(p.arg)]) len += draw(*x, c.irq_exit_rngs[size_t(p.arg)]);
  }
  if (tracing()) {
    bool ipi = p.kind == HKind::Ipi;
    emit(TraceEvent::Kind::HandlerBegin, v, -1, ipi ? -1 : p.arg, ipi ? ipis_[size_t(p.arg)].from_vcpu : -1, ipi ? p.arg : -1);
  }
  eng_.start_work(v, len);
}

void Machine::handler_done(int v) {
  Vcpu& c = vcpus_[size_t(v)];
  Interrupt& h = c.handlers.back();
  // irq_exit(): softirqs run with IRQs on, unless this interrupt nested in another (in_interrupt).
  bool outermost = c.handlers.size() == 1 || (c.handlers.size() == 2 && c.handlers[0].kind == HKind::Task);
  if (h.kind == HKind::Irq && !h.soft && outermost && !irq_sources_[size_t(h.arg)].softirq.is_zero()) {
    h.soft = true;
    h.remaining = draw(irq_sources_[size_t(h.arg)].softirq, c.softirq_rngs[size_t(h.arg)]);
    if (tracing()) emit(TraceEvent::Kind::Softirq, v, -1, h.arg);
    size_t depth = c.handlers.size();
    if (!c.pending.empty()) try_deliver(v, true);
    if (c.handlers.size() == depth) eng_.start_work(v, c.handlers.back().remaining);
    return;
  }
  Interrupt done = h;
  c.handlers.pop_back();
  if (done.kind == HKind::Ipi) {  // flush_tlb_func done: ack the sender
    Ipi ipi = ipis_[size_t(done.arg)];
    free_ipis_.push_back(done.arg);
    double lat = draw(cfg_.arch.ipi_ack_latency, c.ack_rng);
    eng_.schedule(eng_.now() + lat, {Timer::AckArrive, ipi.from_vcpu, ipi.from_thread});
  }
  // The timer that ends the task's sleep wakes it (try_to_wake_up, check_preempt_curr): the thread
  // must let it run at its next preemption point. A wakeup while it runs finds it awake.
  if (done.kind == HKind::Irq && done.arg == task_src_ &&
      std::none_of(c.handlers.begin(), c.handlers.end(), [](const Interrupt& i) { return i.kind == HKind::Task; }))
    c.need_resched = true;
  if (tracing()) emit(done.kind == HKind::Task ? TraceEvent::Kind::TaskEnd : TraceEvent::Kind::HandlerEnd, v, c.thread);
  if (!c.pending.empty() && !c.stolen) {
    size_t depth = c.handlers.size();
    try_deliver(v, true);
    if (c.handlers.size() > depth) return;  // another handler runs now
  }
  if (!c.handlers.empty()) return eng_.start_work(v, c.handlers.back().remaining);  // back to the softirq or task
  // The return from the interrupt: with CONFIG_PREEMPT, preempt_schedule_irq() if the count is 0.
  if (c.thread >= 0 && preemptible(c, threads_[size_t(c.thread)])) return switch_to_task(v);
  resume_vcpu(v);
}

bool Machine::preemptible(const Vcpu& c, const Thread& t) const {
  if (!c.need_resched || !c.handlers.empty()) return false;
  switch (t.state) {
    case TState::Sleeping: return true;  // lock_page's schedule() picks the task
    case TState::Spinning: case TState::WaitingAcks: return false;  // preemption off in spin_lock, get_cpu()
    case TState::Working: case TState::Ready: break;
  }
  if (t.in_user) return true;  // the return to user space (exit_to_user_mode_loop)
  return cfg_.kernel.preempt && c.preempt == 0 && c.irq_on;
}

void Machine::switch_to_task(int v) {
  Vcpu& c = vcpus_[size_t(v)];
  Thread& t = threads_[size_t(c.thread)];
  c.need_resched = false;
  for (size_t w = 0; w < t.window_open_at.size(); ++w)
    if (t.window_open_at[w] >= 0) t.window_stretch[w] |= 4;
  c.handlers.push_back({HKind::Task, 0, true});
  if (tracing()) emit(TraceEvent::Kind::TaskBegin, v, t.id);
  // __schedule() to the task, its work, and its sleep switching back; the thread's own work, if
  // it was in a step, is saved in t.remaining (as under an interrupt).
  eng_.start_work(v, cost(t, switch_cost_) + cost(t, task_run_cost_) + cost(t, switch_cost_));
}

void Machine::resume_vcpu(int v) {
  Vcpu& c = vcpus_[size_t(v)];
  if (c.thread < 0 || !c.handlers.empty()) return;
  Thread& t = threads_[size_t(c.thread)];
  switch (t.state) {
    case TState::Working:
      if (t.remaining > 0) eng_.start_work(v, t.remaining);
      else work_completed(t);  // finished at the instant the handler came, or woken meanwhile
      break;
    case TState::Spinning:
      if (fifo()) eng_.start_work(v, kForever);
      else if (!spin_poll(t)) eng_.start_work(v, t.remaining);  // the phase it was in goes on
      break;
    case TState::WaitingAcks: eng_.start_work(v, kForever); break;
    case TState::Sleeping: break;
    case TState::Ready: run_thread(t); break;
  }
}

void Machine::on_timer(const Timer& tm) {
  ++events_;
  Vcpu& c = vcpus_[size_t(tm.vcpu)];
  switch (tm.kind) {
    case Timer::StealStart: {
      if (!arrival_live(tm)) break;  // redrawn by forcing
      arrived(tm.vcpu, size_t(tm.arg));
      const StealProcess& p = cfg_.hypervisor.steal[size_t(tm.arg)];
      if (p.kind == StealProcess::Kind::Periodic) {  // the next period's, whatever this one does
        double& next = c.periodic_next[size_t(tm.arg)];
        eng_.schedule(next, arrival_timer(tm.vcpu, size_t(tm.arg), eng_.now()));
        next += p.period;
        if (c.first_steal_len[size_t(tm.arg)] < 0) {
          bool off_cpu = halted(c) || (!p.preempts && preempted(c));
          if (c.steal_on[size_t(tm.arg)] || off_cpu || c.steal_gap_rngs[size_t(tm.arg)].uniform() >= p.show) break;
        }
      }
      // A halted vCPU is blocked in the host, not preempted: nothing to steal. A vCPU the host has
      // descheduled makes no exits either: a source that does not preempt (exits taken in KVM's
      // run loop) only runs while the vCPU is in guest mode (MACHINE-REVIEW-2 L-E). The next
      // chance comes one running time later.
      bool off_cpu = halted(c) || (!p.preempts && preempted(c));
      bool renewal = p.kind == StealProcess::Kind::Renewal || p.kind == StealProcess::Kind::MarkovModulated;
      if (renewal && off_cpu && c.first_steal_len[size_t(tm.arg)] < 0) {
        eng_.schedule(eng_.now() + draw(running_law(c, size_t(tm.arg)), c.steal_gap_rngs[size_t(tm.arg)]),
                      arrival_timer(tm.vcpu, size_t(tm.arg), eng_.now()));
        break;
      }
      double& first = c.first_steal_len[size_t(tm.arg)];
      double len = p.kind == StealProcess::Kind::Trace ? p.trace[size_t(tm.vcpu)][size_t(c.trace_pos[size_t(tm.arg)])].duration
                   : first >= 0                         ? first
                                                        : draw(p.duration, c.steal_len_rngs[size_t(tm.arg)]);
      first = -1;
      int gen = ++c.steal_gen[size_t(tm.arg)];
      c.steal_on[size_t(tm.arg)] = 1;
      c.steal_until[size_t(tm.arg)] = eng_.now() + len;
      if (p.preempts) c.descheduled = true;
      eng_.schedule(eng_.now() + len, {Timer::StealEnd, tm.vcpu, tm.arg, gen});
      steal_begin(tm.vcpu);
      break;
    }
    case Timer::StealEnd:
      if (tm.gen == c.steal_gen[size_t(tm.arg)] && c.steal_on[size_t(tm.arg)]) steal_end(tm.vcpu, tm.arg);
      break;  // else: a directed yield ended that steal already
    case Timer::YieldEnd:
      if (tm.gen != c.yield_gen || !c.yielded) break;
      c.yielded = false;
      if (--c.steal_depth == 0) unsteal(tm.vcpu);
      break;
    case Timer::IrqArrive: {
      if (!arrival_live(tm)) break;
      size_t j = cfg_.hypervisor.steal.size() + size_t(tm.arg);
      arrived(tm.vcpu, j);
      if (c.arrivals[j].rephased) align_ticks(tm.vcpu, size_t(tm.arg));
      const IrqSource& src = irq_sources_[size_t(tm.arg)];
      Rng& r = c.irq_gap_rngs[size_t(tm.arg)];
      eng_.schedule(eng_.now() + std::max(draw(src.interarrival, r), 1.0), arrival_timer(tm.vcpu, j, eng_.now()));
      if (c.irq_pending[size_t(tm.arg)]) break;  // coalesced with the one already pending
      if (src.aligned && halted(c)) break;        // NO_HZ_IDLE: no tick while the CPU idles
      c.irq_pending[size_t(tm.arg)] = 1;
      c.pending.push_back({HKind::Irq, tm.arg});
      try_deliver(tm.vcpu);
      break;
    }
    case Timer::IpiArrive:
      if (tracing()) emit(TraceEvent::Kind::IpiArrive, tm.vcpu, -1, -1, ipis_[size_t(tm.arg)].from_vcpu, tm.arg);
      c.pending.push_back({HKind::Ipi, tm.arg});
      try_deliver(tm.vcpu);
      break;
    case Timer::AckArrive: {
      Thread& t = threads_[size_t(tm.arg)];
      if (--t.wait_acks > 0) break;
      if (tracing()) emit(TraceEvent::Kind::AllAcks, t.vcpu, t.id);
      wake(t, 0);
      break;
    }
    case Timer::HvFlushArrive: remote_flush_arrive(tm.vcpu, tm.arg); break;
    case Timer::HvFlushEnd: remote_flush_end(tm.vcpu, tm.arg); break;
    case Timer::ForceCap:  // refresh_force ends forcing if the cap is reached
      break;
  }
  if (!force_.empty()) refresh_force();
}

}  // namespace racewin

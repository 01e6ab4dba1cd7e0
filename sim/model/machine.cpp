// Threads and their steps: running a path, blocking and waking, and what each step does.
#include "model/machine.hpp"

#include <algorithm>
#include <sstream>

namespace racewin {

// ---- threads ---------------------------------------------------------------------------------

namespace {
bool marker(Op op) {
  return op == Op::WindowOpen || op == Op::WindowClose || op == Op::Set || op == Op::Goto || op == Op::Nop;
}
}  // namespace

bool Machine::on_top(const Thread& t) const { return vcpus_[size_t(t.vcpu)].handlers.empty(); }

void Machine::begin_work(Thread& t, double amount) {
  t.state = TState::Working;
  t.remaining = amount;
  if (on_top(t)) eng_.start_work(t.vcpu, amount);
}

void Machine::next_step(Thread& t) {
  if (++t.pc >= int(t.spec->path.steps.size())) end_iteration(t);
}

void Machine::end_iteration(Thread& t) {
  t.pc = 0;
  t.in_user = true;
  ++t.iterations;
  if (t.id == cfg_.count_thread)
    for (size_t h = 0; h < hazards_.size(); ++h)
      if (iteration_hits_[h]) ++hazards_[h].iterations_hit, iteration_hits_[h] = 0;
  if (t.id == cfg_.count_thread && cfg_.limits.iterations && t.iterations >= cfg_.limits.iterations)
    finished_ = true;
}

void Machine::run_thread(Thread& t) {
  const auto& steps = t.spec->path.steps;
  for (int guard = 0;; ++guard) {
    if (guard > 100000)
      throw ModelError("livelock: " + where(t) + " loops without spending time (every step in the loop costs 0)");
    const Step& s = steps[size_t(t.pc)];
    Vcpu& c = vcpus_[size_t(t.vcpu)];
    // A preemption point: a reschedule that waited for the preempt count to drop (spin_unlock's or
    // preempt_enable's, after a traced one's own work) or for the return to user space. It is
    // taken before the next step that spends time or acts: markers (window_open, set, goto) after
    // an unlock happen at the instant of the unlock, before its preempt_enable.
    if (c.need_resched && !s.overlay && !marker(s.op) && preemptible(c, t)) {
      t.state = TState::Ready;
      return switch_to_task(t.vcpu);
    }
    t.in_user = false;
    if (!t.freeing.empty() && start_free(t)) return;
    cur_ = &t;
    if (s.cond && !s.cond->truthy(*this)) {
      next_step(t);
      continue;
    }
    if (s.op == Op::Nop) { next_step(t); continue; }
    if (s.op == Op::Goto) { t.pc = s.target; continue; }
    if (s.op == Op::End) { end_iteration(t); continue; }
    int ci = s.cost_index;
    if (s.op == Op::PtepSetAccessFlags && s.cost_name == "ptep_set_access_flags" && !access_flags_change(s))
      ci = pte_read_cost_;  // s390 and x86 return after pte_same(): no store, no IPTE, no flush
    double amount = ci >= 0 ? cost(t, ci) : 0.0;
    if (s.extra_cost_index >= 0) amount += cost(t, s.extra_cost_index);
    if (amount > 0) {
      t.effect_pending = true;
      if (tracing()) emit(TraceEvent::Kind::StepBegin, t.vcpu, t.id, t.pc);
      begin_work(t, amount);
      return;
    }
    if (!apply(t, s)) return;
  }
}

void Machine::block(Thread& t, TState st) {
  t.state = st;
  t.wait_since = eng_.now();
  if ((st == TState::Spinning || st == TState::WaitingAcks) && on_top(t)) eng_.start_work(t.vcpu, kForever);
  check_deadlock(t);
}

void Machine::wake(Thread& t, double latency, bool retry) {
  bool running = on_top(t) && (t.state == TState::Spinning || t.state == TState::WaitingAcks);
  if (t.state == TState::Sleeping) {  // its vCPU idles in halt: the host wakes it, then schedules it in
    latency += draw(cfg_.hypervisor.halt_wakeup, vcpus_[size_t(t.vcpu)].halt_wakeup_rng);
    sched_in(vcpus_[size_t(t.vcpu)]);
  }
  if (running) eng_.stop_work(t.vcpu);
  if (tracing()) emit(TraceEvent::Kind::Woken, t.vcpu, t.id);
  t.waiting_lock = t.waiting_page = -1;
  t.effect_pending = retry;  // the blocked step is tried again when the latency is spent
  t.state = TState::Working;
  t.remaining = latency;
  if (!on_top(t)) return;  // resumes when its vCPU leaves the handler
  if (latency > 0 || vcpus_[size_t(t.vcpu)].stolen) eng_.start_work(t.vcpu, latency);  // not while stolen
  else work_completed(t);
}

void Machine::on_work_done(int v) {
  ++events_;
  work_done(v);
  if (!force_.empty()) refresh_force();
}

void Machine::work_done(int v) {
  Vcpu& c = vcpus_[size_t(v)];
  if (!c.handlers.empty()) return handler_done(v);
  Thread& t = threads_[size_t(c.thread)];
  if (t.state == TState::Spinning) return spin_phase_done(t);
  work_completed(t);
}

void Machine::work_completed(Thread& t) {
  t.remaining = 0;
  if (t.in_free) {
    if (finish_free(t)) return;  // debug_pagealloc's unmapping follows
  } else if (t.effect_pending) {
    t.effect_pending = false;
    if (!apply(t, step_of(t))) return;
  } else {
    next_step(t);
  }
  t.state = TState::Ready;
  run_thread(t);
}

// Performs step `s` of `t` (its time is spent) and moves to the next step, or blocks.
bool Machine::apply(Thread& t, const Step& s) {
  cur_ = &t;
  Vcpu& c = vcpus_[size_t(t.vcpu)];
  if (tracing()) emit(TraceEvent::Kind::StepDone, t.vcpu, t.id, t.pc);
  switch (s.op) {
    case Op::Work: case Op::Nop: case Op::Goto: case Op::End: break;
    case Op::LocalIrqDisable: c.irq_on = false; break;
    case Op::LocalIrqEnable:
      c.irq_on = true;
      if (!c.pending.empty() && !c.stolen) {
        next_step(t);
        t.state = TState::Ready;
        try_deliver(t.vcpu);
        return false;
      }
      break;
    case Op::PreemptDisable: ++c.preempt; break;
    case Op::PreemptEnable: --c.preempt; break;
    case Op::SpinLock:
      if (!spin_lock(t, s.obj)) return false;
      break;
    case Op::SpinUnlock: spin_unlock(t, s.obj); break;
    case Op::PteRead: t.vars[size_t(s.into)] = Value::of(ptes_[size_t(pte_slot(s))]); break;
    case Op::PtepGetAndClear: {  // s390: IPTE of a valid entry (ptep_xchg_lazy), see broadcast_flush
      PteVal& e = ptes_[size_t(pte_slot(s))];
      bool valid = e.present;
      t.vars[size_t(s.into)] = Value::of(e);
      e = PteVal{};
      if (valid && !broadcast_flush(t)) return false;
      break;
    }
    case Op::SetPte: {
      int p = page_arg(t, s);
      ptes_[size_t(pte_slot(s))] = PteVal{true, p, s.writable, s.dirty, s.young};
      break;
    }
    case Op::PtepSetAccessFlags: {  // s390: IPTE only when the entry changes (ptep_xchg_direct)
      PteVal& e = ptes_[size_t(pte_slot(s))];
      if (!e.present) break;
      PteVal was = e;
      e.writable |= s.writable, e.dirty |= s.dirty, e.young |= s.young;
      if ((e.writable != was.writable || e.dirty != was.dirty || e.young != was.young) && !broadcast_flush(t)) return false;
      break;
    }
    case Op::MarkPageAccessed: mark_page_accessed(page_arg(t, s), t); break;
    case Op::SetPageDirty:  // an anonymous page: __set_page_dirty_no_writeback, SetPageDirty
      if (Page* pg = live_page(page_arg(t, s), "set_page_dirty", t)) pg->dirty = true;
      break;
    case Op::LruAddDrain:
      drain_pagevec(c.pagevec, t, false);  // lru_add_drain_cpu(): lru_add first, activate_page last
      drain_pagevec(c.activate_pvec, t, true);
      break;
    case Op::PtepClearFlush:  // x86: a shootdown; s390: IPTE (ptep_xchg_direct), see broadcast_flush
      ptes_[size_t(pte_slot(s))] = PteVal{};
      if (!flush_others(t) || !broadcast_flush(t)) return false;
      break;
    case Op::GetPage: get_page(page_arg(t, s), t); break;
    case Op::PutPage: put_page(page_arg(t, s), t); break;
    case Op::TryGetPage: {
      int p = page_arg(t, s);
      bool ok = p >= 0 && pages_[size_t(p)].refcount > 0;
      if (ok) ++pages_[size_t(p)].refcount;
      t.vars[size_t(s.into)] = Value::num(ok);
      break;
    }
    case Op::PageAddRmap:
      if (Page* pg = live_page(page_arg(t, s), "page_add_rmap", t)) ++pg->mapcount;
      break;
    case Op::PageRemoveRmap:
      if (Page* pg = live_page(page_arg(t, s), "page_remove_rmap", t)) {
        if (--pg->mapcount < 0) hazard(t.vcpu, "mapcount_underflow", where(t));
      }
      break;
    case Op::AllocPage: t.vars[size_t(s.into)] = Value::num(alloc_page(t)); break;
    case Op::LruCacheAdd: {
      int p = page_arg(t, s);
      get_page(p, t);
      c.pagevec.push_back(p);
      if (int(c.pagevec.size()) >= cfg_.arch.lru_pagevec_size) drain_pagevec(c.pagevec, t, false);
      break;
    }
    case Op::LockPage: {
      int p = page_arg(t, s);
      Page* pg = live_page(p, "lock_page", t);
      if (!pg) break;
      if (!pg->locked) {
        pg->locked = true;
        pg->lock_owner = t.id;
        t.page_lock_tries = 0;
        break;
      }
      pg->lock_waiters.push_back(t.id);
      t.waiting_page = p;
      if (tracing()) emit(TraceEvent::Kind::Sleep, t.vcpu, t.id, p);
      block(t, TState::Sleeping);
      return false;
    }
    case Op::TrylockPage: {
      int p = page_arg(t, s);
      Page* pg = live_page(p, "trylock_page", t);
      bool ok = pg && !pg->locked;
      if (ok) pg->locked = true, pg->lock_owner = t.id;
      t.vars[size_t(s.into)] = Value::num(ok);
      break;
    }
    case Op::UnlockPage: {
      int p = page_arg(t, s);
      if (p < 0) throw ModelError(where(t) + ": unlock_page of no page");
      Page& pg = pages_[size_t(p)];
      if (pg.state == Page::State::Free) hazard(t.vcpu, "flags_changed_on_free_page", where(t) + ": PG_locked cleared on a free page");
      if (!pg.locked) hazard(t.vcpu, "unlock_page_not_locked", where(t));
      pg.locked = false;
      pg.lock_owner = -1;
      if (!pg.lock_waiters.empty()) {  // wake the first sleeper (wake_up_page_bit)
        Thread& w = threads_[size_t(pg.lock_waiters.front())];
        pg.lock_waiters.erase(pg.lock_waiters.begin());
        int unfair = cfg_.kernel.page_lock_unfairness;
        if (unfair >= 0 && w.page_lock_tries >= unfair) {  // WQ_FLAG_CUSTOM: hand PG_locked over
          pg.locked = true;
          pg.lock_owner = w.id;
          w.page_lock_tries = 0;
          wake(w, cost(w, wakeup_cost_));
        } else {  // the sleeper must take it itself when it runs, and may find it taken again
          ++w.page_lock_tries;
          wake(w, cost(w, wakeup_cost_), true);
        }
      }
      break;
    }
    case Op::TlbGatherMmu:
      t.tlb.pending = false;
      t.tlb.batch.clear();
      break;
    case Op::TlbRemoveTlbEntry: t.tlb.pending = true; break;
    case Op::TlbRemovePage: {
      int p = page_arg(t, s);
      if (cfg_.arch.page_free == ArchProfile::PageFree::Direct) put_page(p, t);  // free_page_and_swap_cache
      else t.tlb.batch.push_back(p);
      break;
    }
    case Op::TlbFlushMmuTlbonly:
      if (!t.tlb.pending) break;
      t.tlb.pending = false;
      if (!flush_others(t)) return false;
      break;
    case Op::TlbFlushMmuFree:
      drained_.swap(t.tlb.batch);
      t.tlb.batch.clear();
      for (int p : drained_) put_page(p, t);
      break;
    case Op::WindowOpen:
      if (t.window_open_at[size_t(s.obj)] < 0) ++t.open_windows, ++open_windows_;
      t.window_open_at[size_t(s.obj)] = eng_.now();
      t.window_stretch[size_t(s.obj)] = 0;
      t.window_hit[size_t(s.obj)] = 0;
      ++window_stats_[size_t(s.obj)].opened;
      break;
    case Op::WindowClose: {
      Time at = t.window_open_at[size_t(s.obj)];
      if (at < 0) break;
      WindowStats& w = window_stats_[size_t(s.obj)];
      double len = eng_.now() - at;
      ++w.closed;
      w.length_sum += len;
      w.length_max = std::max(w.length_max, len);
      ++w.length_hist[WindowStats::length_bin(len)];
      if (t.window_stretch[size_t(s.obj)] & 1) ++w.stretched_by_steal;
      if (t.window_stretch[size_t(s.obj)] & 2) ++w.stretched_by_irq;
      if (t.window_stretch[size_t(s.obj)] & 4) ++w.stretched_by_task;
      if (t.window_hit[size_t(s.obj)]) ++w.hit;
      t.window_open_at[size_t(s.obj)] = -1;
      --t.open_windows, --open_windows_;
      break;
    }
    case Op::WindowHit:
      for (auto& o : threads_)
        if (o.id != t.id && o.window_open_at[size_t(s.obj)] >= 0)
          o.window_hit[size_t(s.obj)] = 1, hazard(t.vcpu, "window:" + cfg_.names.windows[size_t(s.obj)], where(t) + " inside " + o.spec->name + "'s window");
      break;
    case Op::Set: t.vars[size_t(s.into)] = s.value->eval(*this); break;
  }
  next_step(t);
  return true;
}

int Machine::page_arg(Thread& t, const Step& s) {
  cur_ = &t;
  Value v = s.page->eval(*this);
  int p = int(v.is_pte ? (v.pte.present ? v.pte.page : kNoPage) : v.i);
  if (p < kNoPage || p >= int(pages_.size())) throw ModelError(where(t) + ": '" + s.page->text() + "' is not a page");
  return p;
}

int Machine::hazard_index(const std::string& name) const {
  for (size_t i = 0; i < hazards_.size(); ++i)
    if (hazards_[i].name == name) return int(i);
  throw ModelError("no hazard named '" + name + "'");
}

void Machine::hazard(int vcpu, const std::string& name, const std::string& detail) {
  int i = hazard_index(name);
  HazardStats& h = hazards_[size_t(i)];
  if (h.count++ == 0) {
    h.first_time = eng_.now();
    h.first_iteration = iterations();
    h.first_detail = detail;
  }
  iteration_hits_[size_t(i)] = 1;
  if (tracing()) emit(TraceEvent::Kind::Hazard, vcpu, vcpus_[size_t(vcpu)].thread, i, -1, -1, &detail);
}

}  // namespace racewin

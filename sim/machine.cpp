#include "machine.hpp"

#include <algorithm>
#include <sstream>

namespace racewin {
namespace {

// Costs the model itself charges, besides those the steps name.
int cost_index(const CaseConfig& c, const std::string& name) {
  for (size_t i = 0; i < c.cost_names.size(); ++i)
    if (c.cost_names[i] == name) return int(i);
  throw ModelError("the cost table has no '" + name + "'");
}


// A stream is named by what it is for: a kind, who draws (vCPU, thread) and which (source, cost).
enum : uint64_t {
  kStreamStealGap = 1, kStreamStealLen, kStreamIpiLatency, kStreamIpiExtra, kStreamIpiHandler, kStreamAck,
  kStreamIrqGap, kStreamIrqHandler, kStreamIrqPhase, kStreamCost, kStreamSoftirq, kStreamIrqExit, kStreamIpiExit
};
uint64_t stream(uint64_t kind, uint64_t who, uint64_t sub = 0) {
  uint64_t x = kind * 0x9e3779b97f4a7c15ULL ^ who * 0xc2b2ae3d27d4eb4fULL ^ sub * 0x165667b19e3779f9ULL;
  return splitmix64(x);
}
uint64_t name_hash(const std::string& s) {  // FNV-1a: a cost's stream follows its name, not its place
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}

}  // namespace

Machine::Machine(const CaseConfig& cfg, uint64_t seed, EngineOps& engine)
    : cfg_(cfg),
      eng_(engine),
      handoff_cost_(cost_index(cfg, "spin_lock_handoff")),
      wakeup_cost_(cost_index(cfg, "lock_page_wakeup")),
      free_cost_(cost_index(cfg, "free_pages_prepare")),
      pte_read_cost_(cost_index(cfg, "pte_read")) {
  if (cfg.lock.s390()) {
    sigp_cost_ = cost_index(cfg, "arch_vcpu_is_preempted");
    yield_cost_ = cost_index(cfg, "smp_yield_cpu");
  } else if (cfg.lock.kind != LockModel::Kind::Fifo) {
    yield_cost_ = cost_index(cfg, "ple_exit");
    kick_cost_ = cost_index(cfg, "pv_kick");
  }
  irq_sources_ = cfg.arch.interrupts;
  irq_sources_.insert(irq_sources_.end(), cfg.hypervisor.interrupts.begin(), cfg.hypervisor.interrupts.end());
  for (const auto& src : irq_sources_) {
    auto it = cfg.hypervisor.irq_extra.find(src.name);
    irq_exit_.push_back(it == cfg.hypervisor.irq_extra.end() || src.name.empty() ? nullptr : &it->second);
  }
  vcpus_.resize(size_t(cfg.vcpus));
  for (size_t v = 0; v < vcpus_.size(); ++v) {
    Vcpu& c = vcpus_[v];
    for (size_t k = 0; k < cfg.hypervisor.steal.size(); ++k) {
      c.steal_gap_rngs.emplace_back(seed, stream(kStreamStealGap, v, k));
      c.steal_len_rngs.emplace_back(seed, stream(kStreamStealLen, v, k));
    }
    c.first_steal_len.assign(cfg.hypervisor.steal.size(), -1);
    c.trace_pos.assign(cfg.hypervisor.steal.size(), 0);
    c.steal_on.assign(cfg.hypervisor.steal.size(), 0);
    c.steal_gen.assign(cfg.hypervisor.steal.size(), 0);
    c.ipi_latency_rng = Rng(seed, stream(kStreamIpiLatency, v));
    c.ipi_extra_rng = Rng(seed, stream(kStreamIpiExtra, v));
    c.ipi_handler_rng = Rng(seed, stream(kStreamIpiHandler, v));
    c.ack_rng = Rng(seed, stream(kStreamAck, v));
    c.ipi_exit_rng = Rng(seed, stream(kStreamIpiExit, v));
    for (size_t s = 0; s < irq_sources_.size(); ++s) {
      c.irq_gap_rngs.emplace_back(seed, stream(kStreamIrqGap, v, name_hash(irq_sources_[s].name)));
      c.irq_handler_rngs.emplace_back(seed, stream(kStreamIrqHandler, v, name_hash(irq_sources_[s].name)));
      c.softirq_rngs.emplace_back(seed, stream(kStreamSoftirq, v, name_hash(irq_sources_[s].name)));
      c.irq_exit_rngs.emplace_back(seed, stream(kStreamIrqExit, v, name_hash(irq_sources_[s].name)));
    }
    c.irq_pending.assign(irq_sources_.size(), 0);
  }
  threads_.resize(cfg.threads.size());
  for (size_t i = 0; i < threads_.size(); ++i) {
    Thread& t = threads_[i];
    t.id = int(i);
    t.spec = &cfg.threads[i];
    t.vcpu = t.spec->vcpu;
    t.vars = t.spec->path.var_init;
    for (const auto& name : cfg.cost_names) t.cost_rngs.emplace_back(seed, stream(kStreamCost, i, name_hash(name)));
    t.window_open_at.assign(cfg.names.windows.size(), -1);
    t.window_stretch.assign(cfg.names.windows.size(), 0);
    vcpus_[size_t(t.vcpu)].thread = int(i);
  }
  pages_.resize(size_t(cfg.pages));
  for (int p = cfg.pages - 1; p >= 0; --p) free_pages_.push_back(p);
  ptes_.resize(cfg.names.ptes.size());
  locks_.resize(cfg.names.spinlocks.size());
  for (const auto& w : cfg.names.windows) window_stats_.push_back({w, 0, 0, 0, 0, 0, 0});
  // Linux sets every CPU's tick to the same jiffy edge; skew_tick=1 offsets CPU n by n/ncpus of
  // half a period (tick_setup_sched_timer, kernel/time/tick-sched.c, v5.9).
  for (size_t s = 0; s < irq_sources_.size(); ++s) {
    Rng r(seed, stream(kStreamIrqPhase, 0, name_hash(irq_sources_[s].name)));
    irq_phase_.push_back(irq_sources_[s].first >= 0 ? irq_sources_[s].first : r.uniform() * irq_sources_[s].interarrival.mean());
  }
}

uint64_t Machine::iterations() const { return threads_[size_t(cfg_.count_thread)].iterations; }

double Machine::stolen_time(int v) const {
  const Vcpu& c = vcpus_[size_t(v)];
  return c.stolen_total + (c.stolen ? eng_.now() - c.stolen_since : 0);
}

void Machine::emit(int vcpu, const std::string& what) {
  if (on_event) on_event({eng_.now(), vcpu, what});
}

std::string Machine::where(const Thread& t) const {
  const Step& s = step_of(t);
  return t.spec->name + " (vCPU " + std::to_string(t.vcpu) + ") at " + s.text + " [" + s.loc.str() + "]";
}

void Machine::start() {
  for (size_t v = 0; v < vcpus_.size(); ++v) {
    for (size_t s = 0; s < irq_sources_.size(); ++s) start_irq_source(int(v), s);
    start_steal_process(int(v));
  }
  for (auto& t : threads_) run_thread(t);
}

// ---- threads ---------------------------------------------------------------------------------

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
  ++t.iterations;
  if (t.id == cfg_.count_thread && cfg_.limits.iterations && t.iterations >= cfg_.limits.iterations)
    finished_ = true;
}

void Machine::run_thread(Thread& t) {
  const auto& steps = t.spec->path.steps;
  for (int guard = 0;; ++guard) {
    if (guard > 100000)
      throw ModelError("livelock: " + where(t) + " loops without spending time (every step in the loop costs 0)");
    if (!t.freeing.empty() && start_free(t)) return;
    const Step& s = steps[size_t(t.pc)];
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
    double c = ci >= 0 ? cost(t, ci) : 0.0;
    if (c > 0) {
      t.effect_pending = true;
      begin_work(t, c);
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
  if (running) eng_.stop_work(t.vcpu);
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
  Vcpu& c = vcpus_[size_t(v)];
  if (!c.handlers.empty()) return handler_done(v);
  Thread& t = threads_[size_t(c.thread)];
  if (t.state == TState::Spinning) return spin_phase_done(t);
  work_completed(t);
}

void Machine::work_completed(Thread& t) {
  t.remaining = 0;
  if (t.in_free) {
    finish_free(t);
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
  if (tracing()) emit(t.vcpu, t.spec->name + " " + s.text);
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
    case Op::PteRead: t.vars[size_t(s.into)] = Value::of(ptes_[size_t(s.obj)]); break;
    case Op::PtepGetAndClear:
      t.vars[size_t(s.into)] = Value::of(ptes_[size_t(s.obj)]);
      ptes_[size_t(s.obj)] = PteVal{};
      break;
    case Op::SetPte: {
      int p = page_arg(t, s);
      ptes_[size_t(s.obj)] = PteVal{true, p, s.writable, s.dirty, s.young};
      break;
    }
    case Op::PtepSetAccessFlags: {
      PteVal& e = ptes_[size_t(s.obj)];
      if (e.present) e.writable |= s.writable, e.dirty |= s.dirty, e.young |= s.young;
      break;
    }
    case Op::MarkPageAccessed: mark_page_accessed(page_arg(t, s), t); break;
    case Op::LruAddDrain:
      drain_lru_add(c, t);
      drain_activate(c, t);
      break;
    case Op::PtepClearFlush:
      ptes_[size_t(s.obj)] = PteVal{};
      if (!flush_others(t)) return false;
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
        if (--pg->mapcount < 0) hazard("mapcount_underflow", where(t));
      }
      break;
    case Op::AllocPage: t.vars[size_t(s.into)] = Value::num(alloc_page(t)); break;
    case Op::LruCacheAdd: {
      int p = page_arg(t, s);
      get_page(p, t);
      c.pagevec.push_back(p);
      if (int(c.pagevec.size()) >= cfg_.arch.lru_pagevec_size) drain_lru_add(c, t);
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
      if (pg.state == Page::State::Free) hazard("flags_changed_on_free_page", where(t) + ": PG_locked cleared on a free page");
      if (!pg.locked) hazard("unlock_page_not_locked", where(t));
      pg.locked = false;
      pg.lock_owner = -1;
      if (!pg.lock_waiters.empty()) {  // wake the first sleeper (wake_up_page_bit)
        Thread& w = threads_[size_t(pg.lock_waiters.front())];
        pg.lock_waiters.pop_front();
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
      t.window_open_at[size_t(s.obj)] = eng_.now();
      t.window_stretch[size_t(s.obj)] = 0;
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
      if (t.window_stretch[size_t(s.obj)] & 1) ++w.stretched_by_steal;
      if (t.window_stretch[size_t(s.obj)] & 2) ++w.stretched_by_irq;
      t.window_open_at[size_t(s.obj)] = -1;
      break;
    }
    case Op::WindowHit:
      for (const auto& o : threads_)
        if (o.id != t.id && o.window_open_at[size_t(s.obj)] >= 0)
          hazard("window:" + cfg_.names.windows[size_t(s.obj)], where(t) + " inside " + o.spec->name + "'s window");
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

void Machine::hazard(const std::string& name, const std::string& detail) {
  auto it = std::find_if(hazards_.begin(), hazards_.end(), [&](const HazardStats& h) { return h.name == name; });
  if (it == hazards_.end()) {
    hazards_.push_back({name, 0, -1, 0, {}});
    it = hazards_.end() - 1;
  }
  if (it->count++ == 0) {
    it->first_time = eng_.now();
    it->first_iteration = iterations();
    it->first_detail = detail;
  }
  if (tracing()) emit(-1, "HAZARD " + name + ": " + detail);
}

}  // namespace racewin

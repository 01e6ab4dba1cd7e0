// The machine set up: random streams, per-vCPU and per-thread state, the processes started.
#include <algorithm>

#include "model/machine.hpp"

namespace racewin {

size_t WindowStats::length_bin(double ns) {
  if (!(ns >= 1)) return 0;
  double k = 1 + std::floor(kBinsPerDecade * std::log10(ns));
  return size_t(std::min(k, double(std::tuple_size<decltype(length_hist)>::value - 1)));
}
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
  kStreamIrqGap, kStreamIrqHandler, kStreamIrqPhase, kStreamCost, kStreamSoftirq, kStreamIrqExit, kStreamIpiExit,
  kStreamSpin, kStreamIpiSend, kStreamHaltWakeup, kStreamHvFlushSend, kStreamHvFlushLatency, kStreamHvFlushStall,
  kStreamHvFlushAck, kStreamStealPhase, kStreamMmState
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

const std::vector<std::string>& builtin_hazards() {
  static const std::vector<std::string> h = {"bad_page_state",     "refcount_underflow", "use_after_free",
                                             "flags_changed_on_free_page", "mapcount_underflow",
                                             "unlock_page_not_locked"};
  return h;
}

Machine::Machine(const Machine& o, EngineOps& engine)
    : MachineState(o),
      cfg_(o.cfg_),
      eng_(engine),
      sampling_(o.sampling_),
      handoff_cost_(o.handoff_cost_),
      wakeup_cost_(o.wakeup_cost_),
      free_cost_(o.free_cost_),
      pte_read_cost_(o.pte_read_cost_),
      sigp_cost_(o.sigp_cost_),
      yield_cost_(o.yield_cost_),
      kick_cost_(o.kick_cost_),
      dump_cost_(o.dump_cost_),
      pagealloc_cost_(o.pagealloc_cost_),
      task_src_(o.task_src_),
      switch_cost_(o.switch_cost_),
      task_run_cost_(o.task_run_cost_) {}

Machine::Machine(const CaseConfig& cfg, uint64_t seed, EngineOps& engine, Sampling sampling)
    : cfg_(cfg),
      eng_(engine),
      sampling_(sampling),
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
  // The dump's delay is drawn only when sampling: the exact driver stops at the hazard.
  auto report = std::find(cfg.cost_names.begin(), cfg.cost_names.end(), "bad_page_report");
  if (report != cfg.cost_names.end() && sampling == Sampling::kSample) dump_cost_ = int(report - cfg.cost_names.begin());
  if (cfg.kernel.debug_pagealloc) pagealloc_cost_ = cost_index(cfg, "debug_pagealloc_free");
  irq_sources_ = interrupt_sources(cfg);
  for (const auto& t : cfg.threads)
    opens_window_.push_back(std::any_of(t.path.steps.begin(), t.path.steps.end(), [](const Step& s) { return s.op == Op::WindowOpen; }));
  if (cfg.kernel.task.on) {
    task_src_ = int(irq_sources_.size()) - 1;
    switch_cost_ = cost_index(cfg, "context_switch");
    task_run_cost_ = cost_index(cfg, cfg.kernel.task.run_cost);
  }
  for (const auto& src : irq_sources_) {
    auto it = cfg.hypervisor.irq_extra.find(src.name);
    irq_exit_.push_back(it == cfg.hypervisor.irq_extra.end() ? nullptr : &it->second);
  }
  vcpus_.resize(size_t(cfg.vcpus));
  for (size_t v = 0; v < vcpus_.size(); ++v) {
    Vcpu& c = vcpus_[v];
    c.first_steal_len.assign(cfg.hypervisor.steal.size(), -1);
    c.periodic_next.assign(cfg.hypervisor.steal.size(), 0);
    c.mm_state.assign(cfg.hypervisor.steal.size(), 0);
    c.trace_pos.assign(cfg.hypervisor.steal.size(), 0);
    c.steal_on.assign(cfg.hypervisor.steal.size(), 0);
    c.steal_gen.assign(cfg.hypervisor.steal.size(), 0);
    c.steal_until.assign(cfg.hypervisor.steal.size(), 0);
    c.ple_window = cfg.lock.spin_retry;
    c.irq_pending.assign(irq_sources_.size(), 0);
    c.arrivals.assign(cfg.hypervisor.steal.size() + irq_sources_.size(), {});
  }
  threads_.resize(cfg.threads.size());
  for (size_t i = 0; i < threads_.size(); ++i) {
    Thread& t = threads_[i];
    t.id = int(i);
    t.spec = &cfg.threads[i];
    t.vcpu = t.spec->vcpu;
    t.vars = t.spec->path.var_init;
    t.window_open_at.assign(cfg.names.windows.size(), -1);
    t.window_stretch.assign(cfg.names.windows.size(), 0);
    t.window_hit.assign(cfg.names.windows.size(), 0);
    vcpus_[size_t(t.vcpu)].thread = int(i);
  }
  reseed(seed);
  pages_.resize(size_t(cfg.pages));
  for (int p = cfg.pages - 1; p >= 0; --p) free_pages_.push_back(p);
  ptes_.resize(cfg.names.ptes.size());
  locks_.resize(cfg.names.spinlocks.size());
  for (const auto& w : cfg.names.windows) window_stats_.emplace_back().name = w;
  for (const auto& h : builtin_hazards()) hazards_.emplace_back().name = h;
  for (const auto& w : cfg.names.windows) hazards_.emplace_back().name = "window:" + w;
  iteration_hits_.assign(hazards_.size(), 0);
  // Linux sets every CPU's tick to the same jiffy edge; skew_tick=1 offsets CPU n by n/ncpus of
  // half a period (tick_setup_sched_timer, kernel/time/tick-sched.c, v5.9).
  for (size_t s = 0; s < irq_sources_.size(); ++s) {
    Rng r(seed, stream(kStreamIrqPhase, 0, name_hash(irq_sources_[s].name)));
    irq_phase_.push_back(irq_sources_[s].first >= 0 ? irq_sources_[s].first : r.uniform() * irq_sources_[s].interarrival.mean());
  }
  for (const auto& p : cfg.hypervisor.steal) {
    Rng r(seed, stream(kStreamStealPhase, 0, name_hash(p.name)));
    steal_phase_.push_back(p.phase >= 0 ? p.phase : r.uniform() * p.period);
  }
}

void Machine::reseed(uint64_t seed) {
  const CaseConfig& cfg = cfg_;
  for (size_t v = 0; v < vcpus_.size(); ++v) {
    Vcpu& c = vcpus_[v];
    c.steal_gap_rngs.clear(), c.steal_len_rngs.clear(), c.mm_rngs.clear();
    for (size_t k = 0; k < cfg.hypervisor.steal.size(); ++k) {
      c.steal_gap_rngs.emplace_back(seed, stream(kStreamStealGap, v, k));
      c.steal_len_rngs.emplace_back(seed, stream(kStreamStealLen, v, k));
      c.mm_rngs.emplace_back(seed, stream(kStreamMmState, v, k));
    }
    c.ipi_latency_rng = Rng(seed, stream(kStreamIpiLatency, v));
    c.ipi_extra_rng = Rng(seed, stream(kStreamIpiExtra, v));
    c.ipi_handler_rng = Rng(seed, stream(kStreamIpiHandler, v));
    c.ack_rng = Rng(seed, stream(kStreamAck, v));
    c.ipi_exit_rng = Rng(seed, stream(kStreamIpiExit, v));
    c.ipi_send_rng = Rng(seed, stream(kStreamIpiSend, v));
    c.halt_wakeup_rng = Rng(seed, stream(kStreamHaltWakeup, v));
    c.hv_flush_send_rng = Rng(seed, stream(kStreamHvFlushSend, v));
    c.hv_flush_latency_rng = Rng(seed, stream(kStreamHvFlushLatency, v));
    c.hv_flush_stall_rng = Rng(seed, stream(kStreamHvFlushStall, v));
    c.hv_flush_ack_rng = Rng(seed, stream(kStreamHvFlushAck, v));
    c.irq_gap_rngs.clear(), c.irq_handler_rngs.clear(), c.softirq_rngs.clear(), c.irq_exit_rngs.clear();
    for (size_t s = 0; s < irq_sources_.size(); ++s) {
      uint64_t name = name_hash(irq_sources_[s].name);
      c.irq_gap_rngs.emplace_back(seed, stream(kStreamIrqGap, v, name));
      c.irq_handler_rngs.emplace_back(seed, stream(kStreamIrqHandler, v, name));
      c.softirq_rngs.emplace_back(seed, stream(kStreamSoftirq, v, name));
      c.irq_exit_rngs.emplace_back(seed, stream(kStreamIrqExit, v, name));
    }
  }
  for (size_t i = 0; i < threads_.size(); ++i) {
    Thread& t = threads_[i];
    t.cost_rngs.clear();
    if (sampling_ == Sampling::kSample)
      for (const auto& name : cfg.cost_names) t.cost_rngs.emplace_back(seed, stream(kStreamCost, i, name_hash(name)));
    t.spin_rng = Rng(seed, stream(kStreamSpin, i));
  }
}

uint64_t Machine::iterations() const { return threads_[size_t(cfg_.count_thread)].iterations; }

double Machine::stolen_time(int v) const {
  const Vcpu& c = vcpus_[size_t(v)];
  return c.stolen_total + (c.stolen ? eng_.now() - c.stolen_since : 0);
}

std::string Machine::where(const Thread& t, int pc) const {
  const Step& s = t.spec->path.steps[size_t(pc)];
  return t.spec->name + " (vCPU " + std::to_string(t.vcpu) + ") at " + s.text + " [" + s.loc.str() + "]";
}

void Machine::start() {
  for (size_t v = 0; v < vcpus_.size(); ++v) {
    for (size_t s = 0; s < irq_sources_.size(); ++s) start_irq_source(int(v), s);
    start_steal_process(int(v));
  }
  for (auto& t : threads_) run_thread(t);
}

}  // namespace racewin

#pragma once
// The machine model: vCPUs, steal, interrupts, IPIs, locks and mm state, advanced by an engine.
// It never looks at the names of variants, architectures or scenarios: hazards come from state.
#include <deque>
#include <array>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine.hpp"
#include "mm_state.hpp"
#include "rng.hpp"
#include "scenario.hpp"
#include "trace_event.hpp"

namespace racewin {

struct HazardStats {
  std::string name;
  uint64_t count = 0;            // events
  uint64_t iterations_hit = 0;   // finished iterations of the counted thread with at least one
  Time first_time = -1;
  uint64_t first_iteration = 0;
  std::string first_detail;
};

struct WindowStats {
  std::string name;
  uint64_t opened = 0, closed = 0;
  uint64_t hit = 0;  // closed windows that another thread's window_hit found open at least once
  double length_sum = 0, length_max = 0;
  uint64_t stretched_by_steal = 0, stretched_by_irq = 0;
  // Closed windows by length, kBinsPerDecade bins a decade from 1 ns: bin 0 holds those under
  // 1 ns, bin k >= 1 those in [10^((k-1)/4), 10^(k/4)) ns, the last also everything longer.
  static constexpr int kBinsPerDecade = 4;
  std::array<uint64_t, 1 + 9 * kBinsPerDecade + 1> length_hist{};  // up to 1 s, then "longer"
  static size_t length_bin(double ns);
  static double bin_edge(size_t k) { return k == 0 ? 0.0 : std::pow(10.0, double(k - 1) / kBinsPerDecade); }
};

// A deadlock of the modelled paths: a result to report, not a crash.
class DeadlockError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A path that misuses the model (unlocking a lock it does not hold, exhausting the page pool).
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Hazards every run reports, hit or not; a case adds "window:NAME" for each of its windows.
const std::vector<std::string>& builtin_hazards();

struct ModelEvent {
  Time time;
  int vcpu;
  std::string what;
};

// Everything that changes as the machine runs, as one value: copied to branch a run (the exact
// driver, rare-event splitting), keyed by state_key() to enumerate states. Statistics live here
// too, so that a branch carries its counts along.
struct MachineState {
  enum class TState : uint8_t { Ready, Working, Spinning, WaitingAcks, Sleeping };
  // What a spinner of a queued or classic lock does now (a FIFO waiter only spins).
  enum class SpinPhase : uint8_t { Spin, Attempt, Check, Yield, Halt, Kick };
  struct Thread {
    int id = 0, vcpu = 0;
    const ThreadSpec* spec = nullptr;
    int pc = 0;
    std::vector<Value> vars;
    TState state = TState::Ready;
    bool effect_pending = false;  // the step's effect comes when its work is done
    double remaining = 0;          // work left when preempted
    int wait_acks = 0;
    int waiting_lock = -1;
    int waiting_page = -1;
    SpinPhase phase = SpinPhase::Spin;
    double spun = 0;  // pv-qspinlock: spinning since it became head or was last woken
    int page_lock_tries = 0;  // lock_page: wake-ups that found PG_locked taken again
    Time wait_since = 0;
    std::vector<int> freeing;  // pages whose last reference this step dropped: freed after free_pages_prepare
    bool in_free = false;
    int free_pc = -1;          // the step that dropped them, for messages
    MmuGather tlb;
    uint64_t iterations = 0;
    std::vector<Rng> cost_rngs;  // one stream per cost: common random numbers across cases
    Rng spin_rng;                // spin loops of an exponential lock model
    std::vector<Time> window_open_at;  // < 0: closed
    std::vector<uint8_t> window_stretch;
    std::vector<uint8_t> window_hit;  // per window: found open by another thread since it opened
    int open_windows = 0;
  };
  enum class HKind : uint8_t { Irq, Ipi };
  struct Interrupt {  // pending, or running as a handler
    HKind kind;
    int arg;
    bool soft = false;      // running its softirq tail (IRQs on)
    double remaining = 0;   // of a handler an interrupt nested in
  };
  struct Vcpu {
    bool irq_on = true;
    int preempt = 0;
    bool stolen = false;
    Time stolen_since = 0;
    double stolen_total = 0;
    int steal_depth = 0;          // how many steal sources hold the vCPU now
    std::vector<int> trace_pos;   // per steal source: next interval of a trace
    std::vector<uint8_t> steal_on;  // per steal source: stealing now
    std::vector<int> steal_gen;     // per steal source: steals begun, to drop a StealEnd a yield made moot
    bool flush_deferred = false;    // KVM PV TLB flush: flush at the next entry
    std::vector<Interrupt> handlers;  // running interrupt handlers, innermost last
    std::vector<Interrupt> pending;  // in order of arrival
    std::vector<uint8_t> irq_pending;  // per source: at most one pending
    std::vector<int> pagevec;           // per-CPU LRU pagevec (lru_pvecs.lru_add)
    std::vector<int> activate_pvec;     // per-CPU lru_pvecs.activate_page
    std::vector<int> pcp;               // per-CPU free list, hottest at the back
    int thread = -1;
    // One stream per purpose, so that a change to one distribution leaves the others' draws alone.
    std::vector<Rng> steal_gap_rngs, steal_len_rngs;  // per steal source
    std::vector<double> first_steal_len;              // per steal source: a steal under way at start
    Rng ipi_latency_rng, ipi_extra_rng, ipi_handler_rng, ack_rng;
    std::vector<Rng> irq_gap_rngs, irq_handler_rngs, softirq_rngs, irq_exit_rngs;  // per interrupt source
    Rng ipi_exit_rng;
    // Per arrival process (steal sources, then interrupt sources): the live arrival timer's
    // generation (a redrawn arrival drops the old timer), when the current gap began, and whether
    // it runs at the forced intensity, since cumulative hazard h0, at which factor and in which
    // stage (forced arrivals before it: machine_force.cpp).
    struct Arrival {
      int gen = 0;
      Time gap_from = 0;
      bool forced = false;
      double h0 = 0;
      double factor = 1;
      int stage = 0;
      bool rephased = false;  // a tick whose phase a branch drew afresh (machine_tick_phase.cpp)
    };
    std::vector<Arrival> arrivals;
  };
  struct Ipi {
    int from_vcpu, from_thread;
  };

  std::vector<Vcpu> vcpus_;
  std::vector<Thread> threads_;
  std::vector<Page> pages_;
  std::vector<int> free_pages_;  // the buddy allocator's free pages
  std::vector<PteVal> ptes_;
  std::vector<SpinLock> locks_;
  std::vector<Ipi> ipis_;
  std::vector<int> free_ipis_;
  std::vector<IrqSource> irq_sources_;
  std::vector<double> irq_phase_;  // aligned sources: the first arrival, the same on every vCPU
  std::vector<const Dist*> irq_exit_;  // per source: the hypervisor's exits in its hardirq part, or null
  std::vector<HazardStats> hazards_;  // builtin_hazards(), then one per window
  std::vector<uint8_t> iteration_hits_;  // per hazard: hit in the counted thread's current iteration
  std::vector<WindowStats> window_stats_;
  std::vector<int> drained_;  // pages leaving a pagevec or an mmu_gather batch (kept to reuse its memory)
  bool finished_ = false;
  uint64_t events_ = 0;
  uint64_t ipis_sent_ = 0;  // statistic: shootdown IPIs sent
  int open_windows_ = 0;  // over every thread
  // Rare-event forcing: per stage (forced arrivals so far, the last stage for any more) and arrival
  // process, the factor on its intensity while the thread on its vCPU has a window open (0: not
  // tracked; 1: tracked, not sped up); empty: off. The log of the likelihood ratio (nominal over
  // forced law) of the run so far, and per stage and process the cumulative hazard spent inside
  // windows; the process of each forced arrival.
  std::vector<double> force_;
  double log_weight_ = 0;
  std::vector<double> exposure_;
  uint64_t forced_arrivals_ = 0;
  std::vector<int> forced_by_;
  double force_cap_ = 0;     // forced arrivals expected (sum of factor x cumulative hazard) before forcing ends
  uint64_t force_max_arrivals_ = 0;  // forced arrivals before forcing ends (0: no limit)
  double forced_h_ = 0;      // of closed forced regions
  bool force_spent_ = false;
  // Per interrupt source: the law of a tick's next arrival once its phase is drawn afresh, uniform
  // over one period (empty: ticks keep their phase; machine_tick_phase.cpp).
  std::vector<Dist> phase_law_;
};

// The exact driver's symmetry reduction (machine_canon.cpp). Pages are interchangeable but for
// what refers to them, so a state is keyed with its pages renumbered in order of first reference;
// a variable dead at a thread's step (written before it is read again) is keyed as 0.
struct PageSymmetry {
  std::vector<std::vector<bool>> page_var;           // [thread][var]: holds a page id
  std::vector<std::vector<std::vector<bool>>> live;  // [thread][pc][var]: read before written, from pc on
  // Free pages as a set: the per-CPU lists and the buddy allocator are not keyed, only free pages
  // something still refers to. An over-approximation (any free page may be the one allocated), for
  // reachability only; needs debug_vm (a free page is then reset, Page{}).
  bool pool_as_set = false;
};
// Throws ModelError naming a step whose expressions do more with page ids than compare them.
PageSymmetry page_symmetry(const CaseConfig& cfg, bool pool_as_set);

class Machine : private ExprContext, private MachineState {
 public:
  // kSample draws every duration; kMeans takes each distribution's mean, for the exact driver,
  // whose engine reads an amount as the mean of an exponential (and starts from no steal under way).
  enum class Sampling { kSample, kMeans };
  Machine(const CaseConfig& cfg, uint64_t seed, EngineOps& engine, Sampling sampling = Sampling::kSample);
  // A copy of `other`'s state driven by `engine` (which holds a copy of other's engine state).
  Machine(const Machine& other, EngineOps& engine);
  Machine(const Machine&) = delete;
  // Takes `other`'s state (same case), reusing this one's memory: cheaper than a new copy.
  void assign_state(const Machine& other) {
    static_cast<MachineState&>(*this) = other;
    cur_ = nullptr;
  }
  Machine& operator=(const Machine&) = delete;

  void start();
  void on_work_done(int vcpu);
  void on_timer(const Timer& t);
  bool finished() const { return finished_; }

  // Observers for tests, traces and reports, not copied with the machine; with none, no event is
  // built. Structured events (timelines):
  std::function<void(const TraceEvent&)> on_trace;
  // Events as text, derived from the structured ones; it wraps whatever on_trace holds, so set
  // on_trace first if both are wanted.
  void observe_text(std::function<void(const ModelEvent&)> f);
  uint64_t iterations() const;  // of the counted thread
  uint64_t thread_iterations(int thread) const { return threads_[size_t(thread)].iterations; }
  const std::vector<HazardStats>& hazards() const { return hazards_; }
  const std::vector<WindowStats>& windows() const { return window_stats_; }
  const std::vector<SpinLock>& spinlocks() const { return locks_; }
  const Page& page(int i) const { return pages_[size_t(i)]; }
  const PteVal& pte_state(int i) const { return ptes_[size_t(i)]; }
  uint64_t events() const { return events_; }
  uint64_t ipis_sent() const { return ipis_sent_; }  // TLB-shootdown IPIs, every sender
  double stolen_time(int vcpu) const;

  // The discrete state, statistics and the values of random streams left out: two machines with
  // equal keys (and equal engine states) have the same future in law. `with_iterations` keeps the
  // counted thread's iteration count in it. Defined in machine_state.cpp, beside the list of what
  // it leaves out.
  void state_key(std::string& out, bool with_iterations) const;
  // state_key() up to a renaming of pages and with dead variables cleared. `referenced_free` gets
  // the free pages something still refers to (with pool_as_set, the allocator may hand out one).
  void canonical_key(std::string& out, bool with_iterations, const PageSymmetry& sym,
                     std::vector<int>* referenced_free = nullptr) const;
  // Moves free page `p` to the back of vCPU v's per-CPU list: the next page it allocates.
  void put_free_page_next(int p, int v);
  // Pages allocated or leaked (not free).
  int pages_in_use() const;
  // False for a timer that will do nothing when it fires (the StealEnd of a steal a yield ended).
  bool timer_live(const Timer& t) const;

  // Rare-event forcing (machine_force.cpp): while the thread on a vCPU has a race window open and
  // the vCPU runs it, each steal and interrupt process with a density on that vCPU arrives at
  // `factor[s * P + j]` times its hazard rate (0: left alone), j over the P = arrival_processes()
  // steal sources then interrupt sources, s the stage: forced arrivals so far, the last stage
  // given for any more (a factor of 0 in stage 0 leaves that process alone in every stage).
  // The law of the run changes; log_weight() is the log likelihood ratio that corrects for it,
  // exact for renewal processes (the hazard is conditioned on the gap's age).
  // Forcing ends for good once `cap` forced arrivals were expected (factor x cumulative hazard,
  // summed; 0: never; a timer ends it at the crossing), or after `max_arrivals` of them (0: no
  // limit): a window held open for long would otherwise see many forced arrivals, each dividing
  // the weight by its factor. Stages and ends depend on the past only, so the ratio stays exact.
  void set_force(const std::vector<double>& factor, double cap = 0, uint64_t max_arrivals = 0);
  void clear_force();
  double log_weight() const;
  // Per stage and process (as the factors): cumulative hazard in windows, open regions included.
  std::vector<double> exposure() const;
  const std::vector<int>& forced_by() const { return forced_by_; }  // per forced arrival: its process
  int open_windows() const { return open_windows_; }
  uint64_t forced_arrivals() const { return forced_arrivals_; }
  size_t arrival_processes() const { return cfg_.hypervisor.steal.size() + irq_sources_.size(); }
  bool forcible(size_t j) const;  // a renewal process with a density, or a tick drawn afresh
  // Periodic ticks on the same edge on every CPU (machine_tick_phase.cpp). enable_tick_phase()
  // lets forcing treat such a tick whose phase was drawn afresh as a process with a density:
  // rephase_ticks(v) forgets the pending ticks of every CPU and draws the next one of vCPU v
  // uniformly over one period from now, the others following on their edges.
  bool tick_source(size_t s) const;
  void enable_tick_phase();
  void rephase_ticks(int v);
  int window_vcpu() const;  // the vCPU of the first thread with a window open, or -1
  const Dist& interarrival(size_t j) const;
  bool iteration_hit(size_t hazard) const { return iteration_hits_[hazard] != 0; }
  // Every random stream started afresh from `seed` (the streams a new machine would have): a
  // branch of a run gets randomness of its own, not the main run's future (machine_init.cpp).
  void reseed(uint64_t seed);

 private:
  // ExprContext
  const Value& var(int index) const override { return cur_->vars[size_t(index)]; }
  int64_t page_count(int p) const override;
  int64_t page_mapcount(int p) const override;
  bool page_locked(int p) const override;
  PteVal pte(int idx) const override { return ptes_[size_t(idx)]; }
  bool tlb_pending() const override { return cur_->tlb.pending; }
  int64_t tlb_batch() const override { return int64_t(cur_->tlb.batch.size()); }
  bool tlb_full() const override { return tlb_batch() >= cfg_.kernel.mmu_gather_batch; }
  int pte_slot(const Step& s) const;  // of the running thread (cur_)

  // Events for the observers (machine_trace.cpp); callers test tracing() first. Cold: a run with no
  // observer keeps its hot paths as they were.
  [[gnu::cold]] void emit(TraceEvent::Kind kind, int vcpu, int thread = -1, int obj = -1, int peer = -1, int id = -1,
                          const std::string* detail = nullptr);
  std::string describe(const TraceEvent& e) const;  // the ModelEvent text, empty for timeline-only kinds
  bool tracing() const { return __builtin_expect(static_cast<bool>(on_trace), 0); }
  const Step& step_of(const Thread& t) const { return t.spec->path.steps[size_t(t.pc)]; }
  std::string where(const Thread& t) const { return where(t, t.pc); }
  std::string where(const Thread& t, int pc) const;

  void work_done(int v);
  void run_thread(Thread& t);
  bool apply(Thread& t, const Step& s);  // false: the thread blocked
  void next_step(Thread& t);
  void work_completed(Thread& t);
  void end_iteration(Thread& t);
  void begin_work(Thread& t, double amount);
  void block(Thread& t, TState st);
  void wake(Thread& t, double latency, bool retry = false);  // the blocking condition is over (or may be)
  bool on_top(const Thread& t) const;
  void resume_vcpu(int v);
  void try_deliver(int v, bool after_handler = false);
  void handler_done(int v);
  int priority(const Interrupt& i) const;
  bool halted(const Vcpu& c) const;

  bool flush_others(Thread& t);  // false: waiting for acks

  // Spinlocks (machine_lock.cpp).
  bool try_take_free(SpinLock& l, Thread& t);
  bool spin_lock(Thread& t, int lock);  // false: the thread waits
  void spin_unlock(Thread& t, int lock);
  bool eligible(const SpinLock& l, const Thread& t) const;
  void spin_start(Thread& t, SpinPhase ph);
  void spin_phase_done(Thread& t);
  void spin_on(Thread& t);                // spin, or try the lock if it is free
  bool spin_poll(Thread& t);              // a running spinner notices a free lock
  void acquire_after_wait(Thread& t);
  void take_lock(SpinLock& l, const Thread& t, bool waited);  // owner, hold start, wait statistics
  void directed_yield(Thread& t);
  bool fifo() const { return cfg_.lock.kind == LockModel::Kind::Fifo; }

  // Steal (machine_irq.cpp).
  void steal_end(int v, int source);
  void unsteal(int v);

  int page_arg(Thread& t, const Step& s);
  Page* live_page(int p, const char* op, Thread& t);
  void get_page(int p, Thread& t);
  void put_page(int p, Thread& t);
  bool start_free(Thread& t);  // true: free_pages_prepare is under way
  void finish_free(Thread& t);
  void check_free_page(int p, Thread& t);
  void pcp_free(int v, int p);
  int alloc_page(Thread& t);
  void mark_page_accessed(int p, Thread& t);
  void drain_pagevec(std::vector<int>& pvec, Thread& t, bool activate);
  bool access_flags_change(const Step& s) const;
  void check_deadlock(const Thread& t);
  void hazard(int vcpu, const std::string& name, const std::string& detail);
  int hazard_index(const std::string& name) const;

  void start_steal_process(int v);

  const CaseConfig& cfg_;
  EngineOps& eng_;
  Sampling sampling_;
  Thread* cur_ = nullptr;
  // Costs the model charges itself (indexes into the cost table).
  int handoff_cost_;  // spin_lock_handoff: the lock's cache line reaching the next owner
  int wakeup_cost_;   // lock_page_wakeup: a sleeper woken and scheduled again
  int free_cost_;     // free_pages_prepare: __page_cache_release .. check_free_page
  int pte_read_cost_; // an unchanged ptep_set_access_flags costs its pte_same compare
  int sigp_cost_ = -1;   // arch_vcpu_is_preempted: SIGP SENSE RUNNING
  int yield_cost_ = -1;  // smp_yield_cpu: DIAG 9C; ple_exit: a pause-loop exit and its yield
  int kick_cost_ = -1;   // pv_kick: a halted pv-qspinlock waiter woken by the host
  double draw(const Dist& d, Rng& r) const { return sampling_ == Sampling::kMeans ? d.mean() : d.sample(r); }
  double cost(Thread& t, int index) {  // with means no stream is kept: a copy of the state stays small
    return sampling_ == Sampling::kMeans ? cfg_.costs[size_t(index)].mean() : cfg_.costs[size_t(index)].sample(t.cost_rngs[size_t(index)]);
  }
  void start_irq_source(int v, size_t s);
  // Forcing: arrival timers stamped with their generation; the forced regions kept up to date.
  Timer arrival_timer(int v, size_t j, Time gap_from) {
    Vcpu::Arrival& a = vcpus_[size_t(v)].arrivals[j];
    a.gap_from = gap_from;
    size_t k = cfg_.hypervisor.steal.size();
    return j < k ? Timer{Timer::StealStart, v, int(j), a.gen} : Timer{Timer::IrqArrive, v, int(j - k), a.gen};
  }
  bool arrival_live(const Timer& t) const;
  // The cumulative hazard of process j's current gap, at its age now.
  double hazard_now(const Vcpu::Arrival& a, size_t j) const { return gap_law(a, j).cum_hazard(eng_.now() - a.gap_from); }
  const Dist& gap_law(const Vcpu::Arrival& a, size_t j) const {
    return a.rephased ? phase_law_[j - cfg_.hypervisor.steal.size()] : interarrival(j);
  }
  void align_ticks(int v, size_t s);
  void arrived(int v, size_t j);
  void refresh_force();
  void close_region(Vcpu::Arrival& a, size_t j, double h);
  void schedule_cap();
  bool want_force(int v, size_t j) const;
  void rearm(int v, size_t j, double factor, double h);
};

}  // namespace racewin

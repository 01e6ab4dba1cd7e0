#pragma once
// The machine model: vCPUs, steal, interrupts, IPIs, locks and mm state, advanced by an engine.
// It never looks at the names of variants, architectures or scenarios: hazards come from state.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "model/engine.hpp"
#include "model/machine_state.hpp"
#include "model/trace_event.hpp"

namespace racewin {

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
  // Livelock: the engines call this at their checkpoints (every kCheckpointEvents events). It throws
  // LivelockError once kLivelockEvents model events have gone by with the clock advancing less than
  // kLivelockNs: durations too small for the clock, a run that would never reach its --time.
  static constexpr uint64_t kLivelockEvents = uint64_t(1) << 24;
  static constexpr double kLivelockNs = 1.0;
  void check_progress();
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
  // `sample_nominal`: the arrivals keep the nominal law, and only the bookkeeping is the forced
  // law's (log_weight() is then log nominal/forced density of a nominally drawn path).
  void set_force(const std::vector<double>& factor, double cap = 0, uint64_t max_arrivals = 0, bool sample_nominal = false);
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
  // The guest task's wakeup under CONFIG_PREEMPT is taken at the next preemption point, so one
  // that arrives while a window's thread has preemption off (holding the PTL before it opens the
  // window) can switch it out inside the window: forcing treats that process as reaching windows
  // from the start of such a section (want_force), and a branch begins there (armed()).
  // The process's index among arrival_processes(), or -1 (no task, or no CONFIG_PREEMPT).
  int deferred_process() const;
  // A window is open, or a thread that opens windows has preemption off while deferred_process()
  // exists: where a forced branch can begin.
  bool armed() const;
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
  // Stolen by a source that deschedules it (StealProcess::preempts): what KVM's
  // steal_time.preempted and s390's "not running" report to the guest.
  bool preempted(const Vcpu& c) const;

  bool flush_others(Thread& t);  // false: waiting for acks
  bool in_flush_mask(const Thread& t, const Thread& o) const;
  bool remote_flush_others(Thread& t);  // the same by hypercall (hypervisor.remote_flush)
  void remote_flush_arrive(int v, int sender);
  void remote_flush_end(int v, int sender);
  bool broadcast_flush(Thread& t);       // s390's IPTE where an emulator synchronises it
  void sync_flush_resume(int v);         // the synchronised flushes a stolen vCPU held up
  // The guest scheduler (kernel.task): whether the thread on vCPU v can be switched out now for a
  // pending reschedule, and the switch itself (the task runs as a handler that IRQs may nest in).
  bool preemptible(const Vcpu& c, const Thread& t) const;
  void switch_to_task(int v);

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
  void steal_begin(int v);
  const Dist& running_law(const Vcpu& c, size_t k) const;
  void mm_step(Vcpu& c, size_t k);
  // The host schedules the vCPU in again (vmx_sched_in): its pause-loop window is reset.
  void sched_in(Vcpu& c) {
    c.descheduled = false;
    c.ple_window = cfg_.lock.spin_retry;
  }
  void steal_end(int v, int source);
  void unsteal(int v);

  int page_arg(Thread& t, const Step& s);
  Page* live_page(int p, const char* op, Thread& t);
  void get_page(int p, Thread& t);
  void put_page(int p, Thread& t);
  bool start_free(Thread& t);  // true: free_pages_prepare is under way
  bool finish_free(Thread& t);  // true: more work of the free is under way
  void free_work(Thread& t, double amount);
  void check_free_page(int p, Thread& t);
  void dump_page(int p);
  static std::string page_flags(const Page& pg);
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
  int dump_cost_ = -1;       // bad_page_report: bad_page()'s pr_alert before __dump_page reads the flags
  int pagealloc_cost_ = -1;  // debug_pagealloc_free: kernel_map_pages(page, 1, 0) of a freed page
  int task_src_ = -1;       // kernel.task: the interrupt source of its wakeups
  int switch_cost_ = -1;    // context_switch: out to the task, and back
  int task_run_cost_ = -1;  // the task's work per wakeup
  double draw(const Dist& d, Rng& r) const { return sampling_ == Sampling::kMeans ? d.mean() : d.sample(r); }
  double cost(Thread& t, int index) {  // with means no stream is kept: a copy of the state stays small
    return sampling_ == Sampling::kMeans ? cfg_.costs[size_t(index)].mean() : cfg_.costs[size_t(index)].sample(t.cost_rngs[size_t(index)]);
  }
  void start_irq_source(int v, size_t s);
  // A steal or interrupt source's vCPU list: empty means every vCPU.
  static bool applies_to(const std::vector<int>& vcpus, int v) {
    return vcpus.empty() || std::find(vcpus.begin(), vcpus.end(), v) != vcpus.end();
  }
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
  // check_progress's window: the events, time and each thread's iterations at its start.
  uint64_t progress_events_ = 0;
  Time progress_time_ = 0;
  std::vector<uint64_t> progress_iterations_;
};

}  // namespace racewin

#pragma once
// The machine's state as one value (MachineState), and the statistics and errors it reports. The
// model that acts on it is Machine (machine.hpp); what goes in the state key: machine_state.cpp.
#include <array>
#include <cmath>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/rng.hpp"
#include "config/scenario.hpp"
#include "model/engine.hpp"
#include "model/mm_state.hpp"

namespace racewin {

// Processes start in their stationary state, so that short replications are unbiased: a renewal
// process is run from 50 mean cycles before time 0 (plus a uniform part of one cycle, which makes
// a fixed-length process exactly stationary), and whatever is under way at 0 goes on from there.
constexpr double kBurnInCycles = 50;

// What the reports of a bad page would show (bad_page_state; KERNEL-REVIEW-2 N6): per hit, the
// route to it, read from PG_dirty at the check (set_page_dirty_lock of a write() went through the
// page, or it is a fresh COW page reused at its second fault), and whether PG_locked was still
// set when __dump_page read the flags, after bad_page()'s pr_alert (cost bad_page_report).
struct BadPageReports {
  uint64_t written = 0, fresh = 0;
  uint64_t dumped = 0, locked_at_dump = 0;  // a run may end between a check and its dump
  std::string first_check, first_dump;      // the first hit's flags at each
};

struct HazardStats {
  std::string name;
  uint64_t count = 0;            // events
  uint64_t iterations_hit = 0;   // finished iterations of the counted thread with at least one
  Time first_time = -1;
  uint64_t first_iteration = 0;
  std::string first_detail;
  BadPageReports reports;  // bad_page_state only
};

struct WindowStats {
  std::string name;
  uint64_t opened = 0, closed = 0;
  uint64_t hit = 0;  // closed windows that another thread's window_hit found open at least once
  double length_sum = 0, length_max = 0;
  uint64_t stretched_by_steal = 0, stretched_by_irq = 0;
  uint64_t stretched_by_task = 0;  // the thread switched out for the guest task (kernel.task) inside it
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
// A run whose clock no longer moves (events without simulated time): reported as a deadlock is.
class LivelockError : public DeadlockError {
 public:
  using DeadlockError::DeadlockError;
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
    std::vector<int> dumping;  // pages bad_page() reports: __dump_page reads their flags after the pr_alert
    // In a free: 1 free_pages_prepare up to check_free_page; 2 after it, debug_pagealloc's
    // kernel_map_pages (kernel.debug_pagealloc); 0 not.
    uint8_t in_free = 0;
    int free_pc = -1;          // the step that dropped them, for messages
    MmuGather tlb;
    uint64_t iterations = 0;
    std::vector<Rng> cost_rngs;  // one stream per cost: common random numbers across cases
    Rng spin_rng;                // spin loops of an exponential lock model
    std::vector<Time> window_open_at;  // < 0: closed
    std::vector<uint8_t> window_stretch;
    std::vector<uint8_t> window_hit;  // per window: found open by another thread since it opened
    int open_windows = 0;
    bool in_user = true;  // between iterations: back in user space (a preemption point in any kernel)
  };
  // Irq and Ipi are interrupts; Task is a second guest task the thread was switched out for
  // (kernel.task): it runs with IRQs on, so interrupts nest in it as in a softirq tail.
  enum class HKind : uint8_t { Irq, Ipi, Task };
  struct Interrupt {  // pending, or running as a handler
    HKind kind;
    int arg;
    bool soft = false;      // running its softirq tail (IRQs on)
    double remaining = 0;   // of a handler an interrupt nested in
  };
  struct Vcpu {
    bool irq_on = true;
    int preempt = 0;
    bool need_resched = false;  // TIF_NEED_RESCHED: a woken guest task waits for a preemption point
    bool stolen = false;
    Time stolen_since = 0;
    double stolen_total = 0;
    int steal_depth = 0;          // how many steal sources hold the vCPU now
    std::vector<int> trace_pos;   // per steal source: next interval of a trace
    std::vector<uint8_t> steal_on;  // per steal source: stealing now
    std::vector<int> steal_gen;     // per steal source: steals begun, to drop a StealEnd a yield made moot
    std::vector<double> steal_until;  // per steal source: when its steal under way ends
    bool yielded = false;  // waiting in the host after a directed yield ended its slice
    // KVM's pause-loop window for this vCPU (lock.spin_retry, grown at each pause-loop exit) and
    // whether the host has descheduled the vCPU since it was last scheduled in (the window is
    // reset then: machine_lock.cpp).
    double ple_window = 0;
    bool descheduled = false;
    int yield_gen = 0;     // such waits begun (a YieldEnd of another is dropped)
    bool flush_deferred = false;    // KVM PV TLB flush: flush at the next entry
    // Senders of a synchronised flush (remote_flush.waits_for_stolen) that reached this vCPU while
    // the host had it off its CPU: the flush holds it as soon as it runs again.
    std::vector<int> sync_flush_waiters;
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
    std::vector<double> periodic_next;                // per periodic steal source: its next start after the one due
    std::vector<int> mm_state;                        // per Markov-modulated steal source: its state
    std::vector<Rng> mm_rngs;                         // per steal source: the state's moves
    Rng ipi_latency_rng, ipi_extra_rng, ipi_handler_rng, ack_rng;
    std::vector<Rng> irq_gap_rngs, irq_handler_rngs, softirq_rngs, irq_exit_rngs;  // per interrupt source
    Rng ipi_exit_rng;
    Rng ipi_send_rng;
    Rng halt_wakeup_rng;
    Rng hv_flush_send_rng, hv_flush_latency_rng, hv_flush_stall_rng, hv_flush_ack_rng;  // remote flush by hypercall
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
  std::vector<uint8_t> opens_window_;  // per thread: its path has a window_open step
  std::vector<double> irq_phase_;  // aligned sources: the first arrival, the same on every vCPU
  std::vector<double> steal_phase_;  // periodic steal sources: the first start, the same on every vCPU
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
  // The path is drawn from the nominal law while log_weight_ keeps the forced law's bookkeeping, so
  // that exp(-log_weight()) is the forced law's density over the nominal one at this path: the
  // nominal part of a defensive mixture (rare/rare_event.hpp).
  bool force_nominal_ = false;
  // Per interrupt source: the law of a tick's next arrival once its phase is drawn afresh, uniform
  // over one period (empty: ticks keep their phase; machine_tick_phase.cpp).
  std::vector<Dist> phase_law_;
};

}  // namespace racewin

#pragma once
// Architecture and hypervisor profiles (models/arch, models/hypervisor).
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/dist.hpp"

namespace racewin {

struct IrqSource {
  std::string name;
  Dist interarrival;  // renewal process per vCPU; held pending while IRQs are off
  Dist handler;       // the hardirq part: IRQs off
  Dist softirq = Dist::fixed(0);  // the softirq tail at irq_exit: IRQs on, so interrupts nest in it
  int priority = 0;   // pending interrupts are taken highest first (x86: the vector)
  double first = -1;  // first arrival; < 0: a random phase (stationary)
  bool aligned = false;  // the same phase on every vCPU (the periodic tick; see kernel.skew_tick)
  std::vector<int> vcpus;  // the vCPUs it interrupts; empty: all
};

struct StealInterval {
  double start, duration;
};

// How a contended spinlock behaves; the architecture declares one for dedicated and one for shared
// (hypervisor-dispatched) CPUs, and the hypervisor profile says which kind its vCPUs are.
struct LockModel {
  enum class Kind {
    Fifo,     // queued, strict hand-over to the head waiter (x86 qspinlock on bare metal)
    Queued,   // s390 arch_spin_lock_queued: hand-over to the head, new lockers may steal a free lock
    Classic,  // s390 arch_spin_lock_classic: unqueued compare-and-swap; any spinner may win
    Tas,      // x86 virt_spin_lock (a KVM guest without PV_UNHALT): test-and-set, any spinner may win
    PvQspinlock,  // x86 pv-qspinlock: the head spins, then halts until the unlocker kicks it
  };
  Kind kind = Kind::Fifo;
  int lock_steals = 0;    // Queued: free-lock steals past queued waiters before the head must win
  // Queued, Classic: ns of spinning between two directed-yield decisions (spin_retry loops).
  // Tas, PvQspinlock: the host's pause-loop-exiting window, after which it yields to a preempted
  // vCPU of the guest (kvm_vcpu_on_spin). 0: never.
  double spin_retry = 0;
  double spin_threshold = 0;  // PvQspinlock: ns of spinning (SPIN_THRESHOLD loops) before halting
  // Tas, PvQspinlock: KVM grows a vCPU's pause-loop window by this factor at each pause-loop exit
  // (grow_ple_window before kvm_vcpu_on_spin, ple_window_grow = 2), up to spin_retry_max, and
  // resets it when the vCPU is scheduled in again (shrink_ple_window from vmx_sched_in,
  // ple_window_shrink = 0: back to ple_window) (arch/x86/kvm/vmx/vmx.c, x86.h, v5.9). 0: fixed.
  double spin_retry_grow = 0;
  double spin_retry_max = 0;  // 0: no cap
  // Set by make_exponential (racewin exact/run --exponential): each spin_retry loop lasts an
  // exponential time of that mean, and a pv-qspinlock head spins an exponential time of mean
  // spin_threshold, then halts (its pause-loop exits are left out); the pause-loop window does not
  // grow.
  bool exponential = false;
  bool unqueued() const { return kind == Kind::Classic || kind == Kind::Tas; }
  bool s390() const { return kind == Kind::Queued || kind == Kind::Classic; }
};

struct ArchProfile {
  enum class TlbFlush { IpiShootdown, Broadcast };
  enum class PageFree { Batched, Direct };
  std::string name;
  TlbFlush tlb_flush = TlbFlush::IpiShootdown;
  PageFree page_free = PageFree::Batched;
  Dist ipi_latency, ipi_handler, ipi_ack_latency;
  int ipi_priority = 0;
  int lru_pagevec_size = 15;
  LockModel lock_dedicated, lock_shared;
  std::vector<IrqSource> interrupts;
  std::map<std::string, Dist> costs;
  // Under kernel.config: debug, these replace costs of the same name: framing whose locks
  // (mmap_lock, the pagevecs' local_lock, the allocator's) lockdep also tracks.
  std::map<std::string, Dist> debug_costs;
};

// One source of steal on every vCPU (or on those listed); a vCPU is stolen while any of its
// sources steals it.
struct StealProcess {
  enum class Kind { Renewal, Trace, Periodic, MarkovModulated };
  std::string name;
  Kind kind = Kind::Renewal;
  std::vector<int> vcpus;  // renewal, periodic: the vCPUs it applies to; empty: all
  Dist interarrival;  // renewal: running time between two steals
  Dist duration;
  // Periodic: a stall starts at phase + k * period on every vCPU it applies to at once (a host
  // timer's exits), with probability `show` each period; none while the last is still on. The
  // phase, if not given, is drawn once per run, the same for every vCPU.
  double period = 0, show = 1, phase = -1;
  // Markov-modulated: a renewal process whose running-time law is its state's; after each steal
  // the state moves by `transitions` (row: from, column: to), a Markov chain over the steals, so
  // that short running times come in runs (bursty stalls). `duration` is every state's.
  std::vector<Dist> state_interarrival;
  std::vector<std::vector<double>> transitions;
  std::vector<double> stationary;  // of the chain: the state at time 0 is drawn from it
  std::vector<std::vector<StealInterval>> trace;  // trace: per vCPU, sorted, disjoint
  // Whether the host deschedules the vCPU (KVM: vcpu_put or the kvm_sched_out notifier sets
  // steal_time.preempted, x86.c:3761-3805, kvm_main.c v5.9), so that a PV TLB flush skips it and a
  // directed or PLE yield targets it; false for short exits handled inside the run loop, which
  // the guest sees as a running vCPU (KERNEL-REVIEW-2 N1).
  bool preempts = true;
};

struct HypervisorProfile {
  enum class Yield { IfPreempted, Always };
  std::string name;
  std::vector<StealProcess> steal;
  bool shared_cpus = false;   // vCPUs are dispatched by a hypervisor (not CIF_DEDICATED_CPU)
  bool pv_tlb_flush = false;  // KVM kvm_flush_tlb_others: preempted vCPUs flush at their next entry
  // s390 spinlocks after spin_retry: yield to the holder always (!MACHINE_IS_LPAR, i.e. z/VM), or
  // only if arch_vcpu_is_preempted() says it is not running (LPAR).
  Yield spin_yield = Yield::IfPreempted;
  // A directed yield that finds its target preempted ends the yielder's slice: KVM's yield_to()
  // boosts the target and calls schedule() on the yielder (kernel/sched/core.c, v5.9), and s390
  // DIAG 9C is "relinquish timeslice" (KVM: __diag_time_slice_end_directed, arch/s390/kvm/diag.c).
  // The yielder then waits as long as the target had still to wait: the two swap places (MACHINE-
  // REVIEW-2 N-5). False: the yielder keeps its CPU, as if the host had a free one for the target.
  bool yield_ends_slice = true;
  // A halted vCPU (a sleeper on PG_locked, an IPI's target halted in pv_wait) is blocked in the
  // host: waking it is a trip through the host scheduler and a VM entry (kvm_vcpu_kick, then
  // kvm_vcpu_block returns), added to the guest's own wakeup (MACHINE-REVIEW-2 N-8). The kick of
  // a halted pv-qspinlock head is priced whole by the arch's pv_kick. Bare metal: 0.
  Dist halt_wakeup = Dist::fixed(0);
  Dist ipi_extra_latency = Dist::fixed(0);  // virtual IPI delivery on top of the arch figure
  // The sender's exit to send a shootdown's IPIs (the x2APIC ICR write, or KVM's PV send-IPI
  // hypercall for the whole mask): once per flush that sends at least one, never when PV flush
  // skipped every target (native_flush_tlb_others then gets an empty mask; KERNEL-REVIEW-2 N3).
  Dist ipi_send_exit = Dist::fixed(0);
  Dist ipi_target_exit = Dist::fixed(0);    // target vCPU time to have it injected (no posted interrupts)
  // A remote TLB flush the hypervisor does for the guest, asked by a hypercall in place of IPIs
  // (pv_ops.mmu.flush_tlb_others: hyperv_flush_tlb_others, xen_flush_tlb_others, v5.9): the
  // target takes no guest interrupt (its IRQs off do not hold the flush back); the host holds it
  // while it flushes its TLB, and the sender waits until every running target is done. A target
  // the host has preempted or halted flushes at its next entry, unwaited.
  struct RemoteFlush {
    bool on = false;
    Dist send = Dist::fixed(0);          // the sender's hypercall, until the host's kicks leave
    Dist latency = Dist::fixed(0);       // a kick in flight to the target's CPU
    Dist target_stall = Dist::fixed(0);  // the target held in the host while it flushes
    Dist ack_latency = Dist::fixed(0);   // the target's completion back to the waiting sender
    // An emulator's synchronised broadcast (profile key broadcast_sync; QEMU TCG's IPTE:
    // tlb_flush_*_all_cpus_synced, an exclusive section): only on an arch that flushes by broadcast
    // (an IPI arch's flushes stay the guest's IPIs); a target the host has taken off its CPU is
    // still inside cpu_exec, and the section waits until it runs again; halted targets are not
    // waited for. Off (remote_flush, a hypercall's): such a target flushes at its next entry, unwaited.
    bool waits_for_stolen = false;
  } remote_flush;
  std::map<std::string, Dist> irq_extra;    // per arch interrupt source: exits added to its hardirq part
  std::vector<IrqSource> interrupts;        // e.g. host-side kicks, added to the arch's
  std::map<std::string, Dist> costs;        // override arch costs (e.g. VM exits)
};

ArchProfile parse_arch(const CNode& root);
HypervisorProfile parse_hypervisor(const CNode& root);

}  // namespace racewin

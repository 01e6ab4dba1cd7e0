#pragma once
// A scenario file combines models into cases; each case is one machine to simulate.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/overrides.hpp"
#include "config/path.hpp"
#include "config/profiles.hpp"

namespace racewin {

struct ThreadSpec {
  std::string name;
  int vcpu = 0;
  Path path;
};

struct RunLimits {
  double time_ns = 0;       // simulated time; 0 = unlimited
  uint64_t iterations = 0;  // loop iterations of the counted thread; 0 = unlimited
};

// The guest kernel's configuration where it changes what the paths do (`kernel:` of a scenario).
struct KernelConfig {
  // CONFIG_DEBUG_VM (or debug_pagealloc=on): free_pages_prepare() runs check_free_page() when the
  // page is freed. Without it the flags are cleared unchecked at free time and the check runs
  // when the pcp list returns the page to the buddy allocator (mm/page_alloc.c, v5.9).
  bool debug_vm = false;
  // Per-CPU free lists: zone_batchsize() caps batch at 1 MiB of pages (256), divides by 4 and
  // rounds (64 + 32) down to a power of two less one: 63, for any zone of about 700 MiB or more;
  // pageset_set_batch() sets high = 6 * batch = 378 (mm/page_alloc.c, v5.9) [I]. 31 and 186 are
  // the figures of kernels before the cap was 1 MiB, or of a zone of 344-688 MiB (KERNEL-REVIEW-2 N7).
  int pcp_high = 378;
  int pcp_batch = 63;
  // skew_tick=1 on the kernel command line: CPU n's tick is offset by n/ncpus of half a period.
  // The default, 0, puts every CPU's tick on the same edge (kernel/time/tick-sched.c, v5.9).
  bool skew_tick = false;
  // lock_page(): how many times a woken waiter must try to take PG_locked itself before
  // unlock_page() hands it over: sysctl_page_lock_unfairness, 5 in v5.9 (mm/filemap.c:1170-1201);
  // -1: never handed over, woken waiters always retry, as before v5.9.
  int page_lock_unfairness = 5;
  // Pages an mmu_gather holds before __tlb_remove_page() reports it full (tlb.full): the
  // MMU_GATHER_BUNDLE of 8 on the stack, then MAX_GATHER_BATCH_COUNT = 19 batch pages of
  // MAX_GATHER_BATCH = 510 entries taken with GFP_NOWAIT: 8 + 19 x 510 = 9698 with 4 KiB pages
  // (include/asm-generic/tlb.h, mm/mmu_gather.c, v5.9) [C]; 8 when no batch page can be had.
  int mmu_gather_batch = 9698;
  // The configuration as a whole (KERNEL-REVIEW-2 N4): `debug` is s390's debug_defconfig of v5.9
  // (CONFIG_PREEMPT, PROVE_LOCKING with LOCK_STAT, PREEMPT_TRACER and IRQSOFF_TRACER, DEBUG_VM):
  // every spin_lock pays lockdep's lock_acquire and every spin_unlock its lock_release before the
  // store and a traced preempt_enable after it; local_irq_* pay trace_hardirqs_*; preempt_enable
  // is traced. `production` is defconfig: none of these.
  bool debug = false;
  // CONFIG_PREEMPT: a pending reschedule switches the thread out wherever its preempt count drops
  // to 0 (spin_unlock's preempt_enable, preempt_enable, the return from an interrupt). Without
  // it (PREEMPT_NONE, and PREEMPT_VOLUNTARY, whose cond_resched points are not in these paths),
  // only at the return to user space or when the thread sleeps. Default: on with `debug`.
  bool preempt = false;
  // debug_pagealloc=on (CONFIG_DEBUG_PAGEALLOC is built by debug_defconfig, but off at boot
  // unless DEBUG_PAGEALLOC_ENABLE_DEFAULT or the command line turns it on): each freed page is
  // unmapped from the kernel's direct map (s390: ipte_range, arch/s390/mm/pageattr.c), charged
  // as the cost debug_pagealloc_free per page.
  bool debug_pagealloc = false;
  // A second runnable task in the guest (`kernel.task`): its wakeups arrive as an interrupt
  // (a high-resolution timer ending a sleep) and set need_resched on the vCPU they interrupt; at
  // the next preemption point the thread is switched out for a context switch, the task's run
  // and a switch back (costs context_switch, twice, and `run`). Off: no second task.
  struct Task {
    bool on = false;
    IrqSource wakeup;      // name "task_wakeup"; interarrival per vCPU, handler the timer interrupt
    std::string run_cost;  // a cost of the table: the task's work per wakeup
  } task;
};

struct CaseConfig {
  std::string scenario;
  std::string name;
  std::string doc;
  int vcpus = 2;
  int pages = 64;
  MachineNames names;
  ArchProfile arch;
  HypervisorProfile hypervisor;
  std::string arch_file, hypervisor_file;  // the profiles' files (empty if inline)
  KernelConfig kernel;
  LockModel lock;  // the arch's lock model for the hypervisor's kind of CPU
  std::vector<ThreadSpec> threads;
  std::vector<std::string> cost_names;  // Step::cost_index points here
  std::vector<Dist> costs;
  int count_thread = 0;  // whose loop iterations are "iterations"
  uint64_t seed = 1;
  RunLimits limits;
  int replications = 1;  // independent runs, each with 1/replications of the limits
  nlohmann::json resolved;  // the full configuration as read, for the outputs
  std::vector<AppliedOverride> overrides;  // the case's own lines, then the command line's
  // The name with the deviations from the file, as tables show it (config/overrides.hpp).
  std::string label() const { return case_label(name, overrides); }
};

struct Scenario {
  std::string file;
  std::string name;
  std::string doc;
  std::vector<CaseConfig> cases;
};

// Interrupt sources in the machine's order: the arch's, the hypervisor's, then a guest task's
// wakeup (kernel.task) if there is one.
std::vector<IrqSource> interrupt_sources(const CaseConfig& c);

// The value at a dotted key (map keys, list indexes) of a case's resolved configuration: arch.*
// and hypervisor.* in their profiles, anything else in the scenario file's own keys; null if none.
const nlohmann::json* resolved_value(const nlohmann::json& resolved, const std::string& key);

// Loads and validates every case; throws ConfigError naming file, line and key, and OverrideError
// for a scope that matches no case, or (unless `force_override`) an unscoped command-line override
// that replaces what a case sets itself or means nothing for a case.
Scenario load_scenario(const std::string& file, const std::vector<Override>& overrides,
                       const std::vector<std::string>& only_cases = {}, bool force_override = false);

// A loaded YAML document as JSON (for the resolved configuration); a key that is not a plain name
// is a ConfigError at its line.
nlohmann::json yaml_to_json(const CNode& doc);

}  // namespace racewin

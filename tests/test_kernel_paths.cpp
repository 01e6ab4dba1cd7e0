// The kernel-review fixes (KERNEL-REVIEW.md H1, H3, H4, M1, M3, M4, M5), each on a deterministic
// input with times or counts worked out by hand.
#include <filesystem>

#include "support.hpp"

using namespace racewin;
using namespace racewin::test;

namespace {

// The writer's framing costs on top of the fixed arch, so the shipped writer path can run.
std::string writer_arch() {
  return fixed_arch("broadcast", "direct") +
         "  proc_mem_write_syscall: 300ns\n  proc_mem_write_return: 100ns\n  handle_mm_fault: 100ns\n"
         "  cow_user_page: 200ns\n  copy_to_user_page: 50ns\n  count_vm_event: 2ns\n";
}

// The shipped v5.9-rc4 writer alone on vCPU 1; vCPU 0 idles.
CaseConfig writer_alone(const TempDir& d, uint64_t iterations) {
  d.write("arch.yaml", writer_arch());
  d.write("hyp.yaml", kBareMetal);
  d.write("idle.yaml", "path: idle\nsteps:\n  - work: idle\n");
  std::string writer = std::filesystem::absolute("models/mm/proc_mem_write_v5.9-rc4.yaml").string();
  std::string sc = "scenario: t\nrun: {iterations: " + std::to_string(iterations) + ", seed: 1, count: writer}\n"
                   "machine: {vcpus: 2, pages: 64, spinlocks: [ptl], ptes: [map]}\nkernel: {debug_vm: true}\n"
                   "arch: arch.yaml\nhypervisor: hyp.yaml\n"
                   "threads:\n  idle: {vcpu: 0, path: idle.yaml}\n  writer: {vcpu: 1, path: " + writer + "}\n";
  return load_scenario(d.write("scenario.yaml", sc), {}).cases.at(0);
}

int count(const Log& log, int vcpu, const std::string& what, double from = 0, double to = 1e300) {
  int n = 0;
  for (const auto& e : log.events)
    if (e.vcpu == vcpu && e.time >= from && e.time < to && e.what.find(what) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("H1: after do_cow_fault the retried follow write-faults again, into do_wp_page") {
  TempDir d;
  Log log = run_logged(writer_alone(d, 1), 1e6);
  double written = log.at(1, "writer copy_to_user_page");
  REQUIRE(written > 0);
  // No VM_FAULT_WRITE from do_cow_fault, so no FOLL_COW: two faults before the first write, the
  // second one copying (the fresh page's lru_add pagevec reference makes page_count 2).
  CHECK(count(log, 1, "writer handle_mm_fault", 0, written) == 2);
  CHECK(count(log, 1, "writer set_pte(map, new)", 0, written) == 2);
  CHECK(count(log, 1, "writer ptep_clear_flush(map)", 0, written) == 1);
  CHECK(count(log, 1, "window_open", 0, written) == 0);
}

TEST_CASE("H4: a page grabbed twice through GUP holds an activate_page reference, so the next write fault copies") {
  TempDir d;
  Log log = run_logged(writer_alone(d, 20), 1e6);
  // Every write fault copies (the new page sits in the lru_add pagevec) until the 15th add, in the
  // 14th write, drains it: the 15th write reuses that page (the window), and its grab is the page's
  // second mark_page_accessed, which takes an activate_page reference: the 16th write copies again.
  double w15 = log.at(1, "writer proc_mem_write_syscall", 14), w16 = log.at(1, "writer proc_mem_write_syscall", 15);
  double w17 = log.at(1, "writer proc_mem_write_syscall", 16);
  REQUIRE(w17 > 0);
  CHECK(count(log, 1, "window_open") == 1);
  CHECK(count(log, 1, "window_open", w15, w16) == 1);
  CHECK(count(log, 1, "writer ptep_clear_flush(map)", w15, w16) == 0);
  CHECK(count(log, 1, "writer ptep_clear_flush(map)", w16, w17) == 1);
  // The drain in the 14th write freed the 14 pages replaced so far (the COW page and 13 copies,
  // whose mappings were gone).
  CHECK(count(log, 1, "free page", 0, w15) == 14);
}

TEST_CASE("H3: ptep_set_access_flags on an unchanged entry costs a compare, not an IPTE") {
  TempDir d;
  auto c = make_case(d, fixed_arch("broadcast", "direct"), kBareMetal,
                     {{"w", "  - alloc_page: {into: p}\n  - set_pte: {pte: map, page: p, dirty: true, young: true}\n"
                            "  - ptep_set_access_flags: {pte: map, dirty: true, young: true}\n"
                            "  - ptep_set_access_flags: {pte: map, writable: true}\n  - work: idle\n"},
                      {"other", "  - work: idle\n"}});
  Log log = run_logged(c, 2000);
  // alloc 50, set_pte 2 -> 52; unchanged: pte_read's 2 ns -> 54; a change: the full 20 ns -> 74.
  CHECK(log.at(0, "w ptep_set_access_flags", 0) == doctest::Approx(54));
  CHECK(log.at(0, "w ptep_set_access_flags", 1) == doctest::Approx(74));
}

namespace {
const char* const kFlusher =
    "  - tlb_gather_mmu\n  - tlb_remove_tlb_entry: map\n  - work: short\n  - tlb_flush_mmu_tlbonly\n  - work: idle\n";
std::string stolen_target(bool pv, bool preempts = true) {
  return std::string("hypervisor: kvm_test\ncpus: shared\npv_tlb_flush: ") + (pv ? "true" : "false") +
         "\nsteal: {model: trace, preempts: " + (preempts ? "true" : "false") +
         ", vcpus: {0: [[50ns, 2000ns]]}}\n";
}
}  // namespace

TEST_CASE("M3: a PV shootdown does not wait for a preempted vCPU, which flushes when it runs again") {
  TempDir d;
  auto pv = make_case(d, fixed_arch("ipi_shootdown", "batched"), stolen_target(true),
                      {{"victim", "  - work: long\n  - work: idle\n"}, {"flusher", kFlusher}});
  Log log = run_logged(pv, 5000);
  // The flush at 127 finds vCPU 0 preempted (50..2050): no IPI, no wait; its flush comes at entry.
  CHECK(log.at(0, "TLB flush deferred") == doctest::Approx(127));
  CHECK(log.at(1, "flusher idle") == doctest::Approx(127 + 1000));
  CHECK(log.at(0, "deferred TLB flush") == doctest::Approx(2050));
  // Its next flush, at 1254, is deferred too; IPIs and waits come only once vCPU 0 runs.
  CHECK(log.at(0, "TLB flush deferred", 1) == doctest::Approx(1254));
  CHECK(log.at(1, "waits for") > 2050);
  CHECK(log.at(0, "ipi") > 2050);
  // Without PV flush the IPI waits for the vCPU: handled at 2050, acked at 2050 + 200 + 30.
  TempDir d2;
  auto native = make_case(d2, fixed_arch("ipi_shootdown", "batched"), stolen_target(false),
                          {{"victim", "  - work: long\n  - work: idle\n"}, {"flusher", kFlusher}});
  Log log2 = run_logged(native, 5000);
  CHECK(log2.at(1, "has all acks") == doctest::Approx(2280));
}

// KERNEL-REVIEW-2 N1: kvm_flush_tlb_others skips only vCPUs with steal_time.preempted, which the
// host sets when it puts the vCPU, not for an exit handled inside the run loop.
TEST_CASE("N1: a PV shootdown waits for a vCPU in an exit that does not preempt it, as without PV flush") {
  TempDir d;
  auto exit = make_case(d, fixed_arch("ipi_shootdown", "batched"), stolen_target(true, false),
                        {{"victim", "  - work: long\n  - work: idle\n"}, {"flusher", kFlusher}});
  Log log = run_logged(exit, 5000);
  CHECK(log.at(0, "TLB flush deferred") < 0);
  // The IPI sent at 127 is taken when vCPU 0 runs again at 2050, acked 200 + 30 later.
  CHECK(log.at(1, "has all acks") == doctest::Approx(2280));
}

// KERNEL-REVIEW-2 N3: the sender's exit is paid once per shootdown that sends an IPI, and not at
// all when PV flush skipped every target.
TEST_CASE("N3: the IPI send exit delays a sent shootdown by its length and costs nothing when none is sent") {
  const std::string victim = "  - work: long\n  - work: idle\n";
  auto acks = [&](const std::string& hyp) {
    TempDir d;
    return run_logged(make_case(d, fixed_arch("ipi_shootdown", "batched"), hyp, {{"victim", victim}, {"flusher", kFlusher}}), 5000);
  };
  const std::string running = "hypervisor: kvm_test\ncpus: shared\npv_tlb_flush: true\n";
  Log plain = acks(running), exiting = acks(running + "ipi: {send_exit: 300ns}\n");
  REQUIRE(plain.at(1, "has all acks") > 0);
  CHECK(exiting.at(1, "has all acks") == doctest::Approx(plain.at(1, "has all acks") + 300));
  // vCPU 0 preempted from 50 to 2050: PV flush skips it, no IPI, no exit; the flusher goes on at once.
  Log skipped = acks(stolen_target(true) + "ipi: {send_exit: 300ns}\n");
  CHECK(skipped.at(0, "TLB flush deferred") == doctest::Approx(127));
  CHECK(skipped.at(1, "flusher idle") == doctest::Approx(127 + 1000));
}

// A remote flush by hypercall (Hyper-V, Xen PV, PVM guests; docs/calibrate.md): no IPI; the host
// holds the running target while it flushes, and the sender waits for it.
TEST_CASE("a remote flush by hypercall holds the running target in the host and the sender waits for it") {
  const std::string victim = "  - work: long\n  - work: idle\n";
  const std::string rf = "remote_flush: {send: 300ns, latency: 100ns, target_stall: 2000ns, ack_latency: 50ns}\n";
  auto run = [&](const std::string& hyp) {
    TempDir d;
    return run_logged(make_case(d, fixed_arch("ipi_shootdown", "batched"), hyp, {{"victim", victim}, {"flusher", kFlusher}}), 6000);
  };
  Log log = run("hypervisor: kvm_test\ncpus: shared\n" + rf);
  // The flush at 127: the kick reaches vCPU 0 after 300 + 100, the host holds it 2000 ns, the
  // sender hears 50 ns later. No guest interrupt anywhere.
  CHECK(log.at(1, "flusher asks the host to flush vCPU 0") == doctest::Approx(127));
  CHECK(log.at(0, "steal begins") == doctest::Approx(527));
  CHECK(log.at(0, "steal ends") == doctest::Approx(2527));
  CHECK(log.at(1, "has all acks") == doctest::Approx(2577));
  CHECK(log.at(0, "ipi") < 0);
  // vCPU 0 preempted from 50 to 2050: skipped (flushed at its entry); the hypercall is made all
  // the same, and the sender waits for it alone.
  Log skipped = run(stolen_target(false) + rf);
  CHECK(skipped.at(0, "TLB flush deferred") == doctest::Approx(127));
  CHECK(skipped.at(1, "has all acks") == doctest::Approx(427));
  // On an arch that broadcasts its flushes, a remote flush by hypercall means nothing: refused.
  TempDir d;
  CHECK_THROWS_WITH_AS(make_case(d, fixed_arch("broadcast", "direct"), "hypervisor: kvm_test\ncpus: shared\n" + rf, {{"victim", victim}}),
                       doctest::Contains("remote_flush"), ConfigError);
}

TEST_CASE("M1: try_get_page fails between the last put_page and check_free_page") {
  TempDir d;
  std::string arch = fixed_arch("broadcast", "direct");
  arch.replace(arch.find("free_pages_prepare: 0ns"), 23, "free_pages_prepare: 500ns");
  auto c = make_case(d, arch, kBareMetal,
                     {{"zap", "  - alloc_page: {into: p}\n  - set_pte: {pte: map, page: p, dirty: true}\n"
                              "  - page_add_rmap: p\n  - ptep_get_and_clear: {pte: map, into: old}\n"
                              "  - page_remove_rmap: old.page\n  - tlb_remove_page: old.page\n  - work: idle\n  - work: idle\n"},
                      {"gup", "  - {work: before_read, cost: 60ns}\n  - pte_read: {pte: map, into: pte}\n"
                              "  - {work: before_get, cost: 200ns}\n  - try_get_page: {page: pte.page, into: got}\n"
                              "  - {goto: refused, if: '!got'}\n  - {work: took, cost: 1000ns}\n"
                              "  - label: refused\n    work: refused\n    cost: 1000ns\n  - work: idle\n"}});
  Log log = run_logged(c, 3000);
  // zap: alloc 50, set_pte 2, rmap 4, clear 20, rmap 4, tlb_remove_page 30: the count drops at
  // 110, free_pages_prepare runs 500 ns, check_free_page at 610. gup reads the PTE at 62 and
  // tries at 265, in between: page_ref_add_unless(page, 1, 0) refuses.
  CHECK(log.at(1, "gup try_get_page") == doctest::Approx(265));
  CHECK(log.at(1, "gup refused") == doctest::Approx(265 + 1000));
  CHECK(log.at(0, "free page") == doctest::Approx(610));
}

TEST_CASE("M5: a page freed on one CPU goes to that CPU's list; another CPU allocates elsewhere") {
  TempDir d;
  auto c = make_case(d, fixed_arch("broadcast", "direct"), kBareMetal,
                     {{"a", "  - alloc_page: {into: p}\n  - put_page: p\n  - work: long\n  - alloc_page: {into: q}\n"
                            "  - set_pte: {pte: map, page: q}\n  - work: idle\n  - work: idle\n"},
                      {"b", "  - work: short\n  - alloc_page: {into: r}\n  - page_add_rmap: r\n  - work: idle\n"}});
  NativeEngine eng(c.vcpus);
  Machine m(c, 1, eng);
  RunControl ctl;
  eng.run(m, 1500, ctl);
  // cpu0 refills its empty list with pages 0 and 1 and takes 0; frees it at 53 onto its own
  // list. cpu1 refills with 2 and 3 at 150 and takes 2, not the page cpu0 just freed. cpu0's
  // next allocation gets page 0 back, the hottest of its own list.
  CHECK(m.page(2).mapcount == 1);
  CHECK(m.page(0).state == Page::State::Allocated);
  CHECK(m.pte_state(0).page == 0);
}

namespace {
// An s390 holder on vCPU 0 stolen from 50 ns to 100.05 us, and a waiter on the classic lock that
// yields after 1 us of spinning; `yield` is the hypervisor's yield_ends_slice.
Log s390_yield_run(const std::string& yield, double until) {
  TempDir d;
  std::string arch = fixed_arch("broadcast", "direct") +
                     "spinlock:\n  dedicated: {model: queued, lock_steals: 3, spin_retry: 1us}\n"
                     "  shared: {model: classic, spin_retry: 1us}\n";
  arch.replace(arch.find("costs:\n"), 7, "costs:\n  arch_vcpu_is_preempted: 50ns\n  smp_yield_cpu: 100ns\n");
  std::string hyp = "hypervisor: lpar_shared\ncpus: shared\nyield_ends_slice: " + yield +
                    "\nsteal: {model: trace, vcpus: {0: [[50ns, 100us]]}}\n";
  auto c = make_case(d, arch, hyp,
                     {{"holder", "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: long\n  - work: long\n"},
                      {"waiter", "  - work: short\n  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: long\n"}});
  return run_logged(c, until);
}
}  // namespace

TEST_CASE("M4: an s390 spinner yields its vCPU to a preempted holder, which then runs") {
  Log log = s390_yield_run("false", 5000);
  // holder: lock at 10, stolen at 50 with 60 ns of its work left. waiter: tries at 110, asks
  // whether the holder runs (SIGP, 50 ns), it does not: DIAG 9C (100 ns) at 160..260 gives it the
  // CPU. The holder finishes at 320 and unlocks at 325; the spinner's compare-and-swap wins 7 ns
  // later, and its 100 ns of work end at 432.
  CHECK(log.at(1, "waiter yields to vCPU 0") == doctest::Approx(260));
  CHECK(log.at(0, "steal ends") == doctest::Approx(260));
  CHECK(log.at(0, "holder spin_unlock(L)") == doctest::Approx(325));
  CHECK(log.at(1, "waiter short", 1) == doctest::Approx(432));
}

// MACHINE-REVIEW-2 N-5: DIAG 9C relinquishes the issuer's time slice (KVM: yield_to, then
// schedule()): the waiter does not spin on while the holder runs, it takes the holder's place.
TEST_CASE("N-5: a directed yield ends the yielder's slice: it waits the rest of the holder's steal") {
  Log log = s390_yield_run("true", 200000);
  // As in M4 the holder runs from 260 and unlocks at 325, but the waiter's vCPU is stolen from
  // 260 for what the holder still had to wait, 100050 - 260 ns: it runs again at 100050, its
  // compare-and-swap wins 7 ns later, and its 100 ns of work end at 100157.
  CHECK(log.at(0, "steal ends") == doctest::Approx(260));
  CHECK(log.at(0, "holder spin_unlock(L)") == doctest::Approx(325));
  CHECK(log.at(1, "steal begins") == doctest::Approx(260));
  CHECK(log.at(1, "steal ends") == doctest::Approx(100050));
  CHECK(log.at(1, "waiter short", 1) == doctest::Approx(100157));
}

TEST_CASE("a steal source may apply to some vCPUs only") {
  TempDir d;
  std::string hyp = "hypervisor: one\nsteal:\n  - {name: only1, model: renewal, vcpus: [1], interarrival: 10us, duration: 5us}\n";
  auto c = make_case(d, fixed_arch("broadcast", "direct"), hyp, {{"a", "  - work: idle\n"}, {"b", "  - work: idle\n"}});
  NativeEngine eng(c.vcpus);
  Machine m(c, 1, eng);
  RunControl ctl;
  eng.run(m, 1e6, ctl);
  CHECK(m.stolen_time(0) == 0);
  // Renewal of 10 us running, 5 us stolen: a third of the time, within one cycle's phase.
  CHECK(m.stolen_time(1) == doctest::Approx(1e6 / 3).epsilon(0.02));
}

namespace {
// The fixed arch with an x86 guest-lock model on shared CPUs.
std::string guest_lock_arch(const std::string& shared) {
  std::string arch = fixed_arch("ipi_shootdown", "batched") + "spinlock:\n  dedicated: {model: fifo}\n  shared: " + shared + "\n";
  arch.replace(arch.find("costs:\n"), 7, "costs:\n  ple_exit: 100ns\n  pv_kick: 300ns\n");
  return arch;
}
const char* const kHolderTwice =
    "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: short\n  - spin_lock: L\n  - work: short\n"
    "  - spin_unlock: L\n  - work: idle\n  - work: idle\n";
const char* const kWaiter = "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: idle\n  - work: idle\n";
}  // namespace

TEST_CASE("M-C: only a FIFO lock hands itself to a stolen waiter") {
  // The waiter spins from 10 ns and is stolen 50..2050; the holder unlocks at 115 and wants the
  // lock again at 225.
  std::string hyp = "hypervisor: h\ncpus: shared\nsteal: {model: trace, vcpus: {1: [[50ns, 2000ns]]}}\n";
  TempDir d1;
  auto fifo = make_case(d1, guest_lock_arch("{model: fifo}"), hyp, {{"holder", kHolderTwice}, {"waiter", kWaiter}});
  Log f = run_logged(fifo, 5000);
  // FIFO: the stolen waiter owns the lock from 115; it runs at 2050, takes it 7 ns later, unlocks
  // at 2162; the holder's hand-over comes 7 ns after that, its work ends at 2269.
  CHECK(f.at(0, "holder short", 2) == doctest::Approx(2269));
  TempDir d2;
  auto tas = make_case(d2, guest_lock_arch("{model: tas}"), hyp, {{"holder", kHolderTwice}, {"waiter", kWaiter}});
  Log t = run_logged(tas, 5000);
  // Test-and-set: the lock is free at 115 and the stolen waiter cannot take it: the holder does.
  CHECK(t.at(0, "holder short", 2) == doctest::Approx(325));
}

TEST_CASE("M-C: a halted pv-qspinlock head is kicked, and the lock may be stolen meanwhile") {
  TempDir d;
  auto c = make_case(d, guest_lock_arch("{model: pv_qspinlock, spin_threshold: 500ns}"), "hypervisor: h\ncpus: shared\nsteal: {model: none}\n",
                     {{"holder", "  - spin_lock: L\n  - work: long\n  - spin_unlock: L\n  - work: short\n  - spin_lock: L\n"
                                 "  - work: short\n  - spin_unlock: L\n  - work: idle\n  - work: idle\n"},
                      {"waiter", "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: idle\n  - work: idle\n"}});
  Log log = run_logged(c, 5000);
  // The waiter queues at 10, spins 500 ns and halts; the unlock at 1015 kicks it (300 ns). The
  // holder wants the lock again at 1125, while the head is still being woken: no pending bit, so
  // it steals the lock, and works until 1225. The head finds it free at 1315.
  CHECK(log.at(1, "waiter halts (pv_wait)") == doctest::Approx(510));
  CHECK(log.at(1, "waiter is kicked") == doctest::Approx(1015));
  CHECK(log.at(0, "holder short", 1) == doctest::Approx(1225));
  CHECK(log.at(1, "waiter short") == doctest::Approx(1415));
}

namespace {
// A holder on vCPU 0 stolen from 50 ns (`steal` is the rest of the source's entry) and a waiter
// spinning on a test-and-set lock whose pause-loop window is 1 us.
Log pause_loop_run(const std::string& steal, double until) {
  TempDir d;
  std::string hyp = "hypervisor: h\ncpus: shared\nsteal: {model: trace, " + steal + "}\n";
  auto c = make_case(d, guest_lock_arch("{model: tas, spin_retry: 1us}"), hyp,
                     {{"holder", "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: long\n  - work: long\n"},
                      {"waiter", "  - work: short\n  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: long\n"}});
  return run_logged(c, until);
}
}  // namespace

// MACHINE-REVIEW-2 N-7: KVM doubles a vCPU's pause-loop window at each exit (ple_window_grow 2)
// and resets it when the vCPU is scheduled in again (ple_window_shrink 0).
TEST_CASE("N-7: the pause-loop window grows at each exit, up to its cap, and is reset by a deschedule") {
  auto run = [](const std::string& steal) {
    TempDir d;
    std::string hyp = "hypervisor: h\ncpus: shared\nsteal: " + steal + "\n";
    std::string hold = "  - spin_lock: L\n";
    for (int i = 0; i < 16; ++i) hold += "  - work: long\n";
    hold += "  - spin_unlock: L\n  - work: idle\n  - work: idle\n";
    auto c = make_case(d, guest_lock_arch("{model: tas, spin_retry: 1us, spin_retry_grow: 2, spin_retry_max: 4us}"), hyp,
                       {{"holder", hold}, {"waiter", "  - work: short\n  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: idle\n"}});
    return run_logged(c, 30000);
  };
  // The waiter spins from 110 ns; windows of 1, 2, 4 and then 4 us (the cap), each exit 100 ns:
  // pause-loop exits end at 1210, 3310, 7410, 11510 and 15610; the holder unlocks at 16015.
  Log grow = run("{model: none}");
  const char* y = "waiter yields to vCPU 0";
  CHECK(grow.at(1, y, 0) == doctest::Approx(1210));
  CHECK(grow.at(1, y, 1) == doctest::Approx(3310));
  CHECK(grow.at(1, y, 2) == doctest::Approx(7410));
  CHECK(grow.at(1, y, 3) == doctest::Approx(11510));
  CHECK(grow.at(1, y, 4) == doctest::Approx(15610));
  CHECK(grow.at(1, "waiter short", 1) == doctest::Approx(16015 + 7 + 100));  // the free lock seen, taken, then its work
  // The waiter's vCPU preempted 5000..6000 inside its 4 us window: scheduled in at 6000, its
  // window is 1 us again; the window under way runs out at 8310 and that exit grows the new one
  // to 2 us (exit at 8410, then 10510), then 4 us (14610). Without the reset: 12510.
  Log reset = run("{model: trace, vcpus: {1: [[5000ns, 1000ns]]}}");
  CHECK(reset.at(1, y, 2) == doctest::Approx(8410));
  CHECK(reset.at(1, y, 3) == doctest::Approx(10510));
  CHECK(reset.at(1, y, 4) == doctest::Approx(14610));
}

TEST_CASE("M-C: a pause-loop exit yields to a preempted lock holder") {
  Log log = pause_loop_run("vcpus: {0: [[50ns, 100us]]}", 5000);
  // The waiter spins from 110 ns; after the 1 us window it exits (100 ns) and the host runs the
  // preempted holder at 1210, which finishes its 60 ns of work and unlocks at 1275.
  CHECK(log.at(1, "waiter yields to vCPU 0") == doctest::Approx(1210));
  CHECK(log.at(0, "steal ends") == doctest::Approx(1210));
  CHECK(log.at(0, "holder spin_unlock(L)") == doctest::Approx(1275));
}

// KERNEL-REVIEW-2 N1 / MACHINE-REVIEW-2 N-4: kvm_vcpu_on_spin yields only to a preempted vCPU; a
// holder in a short exit handled in the run loop is running as far as the host can tell.
TEST_CASE("N1: a pause-loop exit does not end a holder's exit that does not preempt it") {
  Log log = pause_loop_run("preempts: false, vcpus: {0: [[50ns, 3000ns]]}", 10000);
  // As in M-C the waiter exits at 1210, but the holder's exit runs to its end at 3050; its 60 ns
  // of work and the unlock follow.
  CHECK(log.at(0, "steal ends") == doctest::Approx(3050));
  CHECK(log.at(0, "holder spin_unlock(L)") == doctest::Approx(3115));
}

TEST_CASE("M4: the s390 queued lock lets a new locker steal a free lock past the head, lock_steals times") {
  auto run = [](int steals) {
    TempDir d;
    std::string arch = fixed_arch("broadcast", "direct") + "spinlock:\n  dedicated: {model: queued, lock_steals: " +
                       std::to_string(steals) + ", spin_retry: 1us}\n  shared: {model: classic}\n";
    arch.replace(arch.find("costs:\n"), 7, "costs:\n  arch_vcpu_is_preempted: 50ns\n  smp_yield_cpu: 100ns\n");
    arch.replace(arch.find("spin_lock_handoff: 7ns"), 22, "spin_lock_handoff: 50ns");
    auto c = make_case(d, arch, kBareMetal,
                       {{"holder", "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - spin_lock: L\n  - work: short\n"
                                   "  - spin_unlock: L\n  - work: idle\n  - work: idle\n"},
                        {"waiter", "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: idle\n  - work: idle\n"}});
    return run_logged(c, 3000);
  };
  // The holder unlocks at 115 and wants the lock again at 125; the queued head, spinning since its
  // SIGP check (10..60), sees the lock free and its compare-and-swap lands 50 ns later, at 165.
  Log stealing = run(3);
  CHECK(stealing.at(0, "holder short", 1) == doctest::Approx(225));  // stolen at 125
  CHECK(stealing.at(1, "waiter short") == doctest::Approx(380));     // free again at 230, taken at 280
  Log fair = run(0);
  CHECK(fair.at(1, "waiter short") == doctest::Approx(265));          // taken at 165
  CHECK(fair.at(0, "holder short", 1) == doctest::Approx(420));       // queued: 270 + 50, then 100
}

// A periodic steal source (a host timer's exits, as calibrate finds them): stalls at phase + k *
// period on every vCPU at once, none while the last is on, a share `show` of the periods.
TEST_CASE("a periodic steal source stalls every vCPU at the same instants, period after period") {
  const std::string work = "  - work: long\n  - work: idle\n";
  auto run = [&](const std::string& steal, double until) {
    TempDir d;
    return run_logged(make_case(d, fixed_arch("ipi_shootdown", "batched"), "hypervisor: h\ncpus: shared\nsteal:\n" + steal,
                                {{"a", work}, {"b", work}}),
                      until);
  };
  Log log = run("  - {name: host, model: periodic, period: 1000ns, phase: 100ns, duration: 50ns, preempts: false}\n", 3500);
  for (int v : {0, 1}) {
    CHECK(log.at(v, "steal begins", 0) == doctest::Approx(100));
    CHECK(log.at(v, "steal ends", 0) == doctest::Approx(150));
    CHECK(log.at(v, "steal begins", 2) == doctest::Approx(2100));
    CHECK(log.count(v, "steal begins") == 4);  // 100, 1100, 2100, 3100
  }
  // Longer than its period: a period whose start finds the last stall on has none. The run starts
  // stationary: the stall that began at -90 is on until 160; then 210 to 460, then 510.
  Log over = run("  - {name: host, model: periodic, period: 100ns, phase: 10ns, duration: 250ns}\n", 1000);
  CHECK(over.at(0, "steal begins", 0) == doctest::Approx(0));
  CHECK(over.at(0, "steal ends", 0) == doctest::Approx(160));
  CHECK(over.at(0, "steal begins", 1) == doctest::Approx(210));
  CHECK(over.at(0, "steal begins", 2) == doctest::Approx(510));
  // Half the periods show a stall: 2,000 periods, about 1,000 (binomial sd 22; within 5 sd).
  Log half = run("  - {name: host, model: periodic, period: 1000ns, phase: 0ns, duration: 10ns, show: 0.5}\n", 2e6);
  CHECK(std::abs(half.count(0, "steal begins") - 1000) < 110);
  // Stated wrong: a period is a duration, and a periodic source has no interarrival.
  TempDir d;
  CHECK_THROWS_WITH_AS(make_case(d, fixed_arch("ipi_shootdown", "batched"),
                                 "hypervisor: h\nsteal:\n  - {name: x, model: periodic, interarrival: 1ms, period: 1ms, duration: 1us}\n",
                                 {{"a", work}}),
                       doctest::Contains("has a period, not an interarrival"), ConfigError);
}

// A Markov-modulated steal source: its state picks the running time's law and moves after every
// steal by its transitions. With states that always swap, the gaps between steals alternate.
TEST_CASE("a Markov-modulated steal source draws each running time from its state's law") {
  TempDir d;
  const std::string hyp =
      "hypervisor: h\ncpus: shared\nsteal:\n  - name: bursty\n    model: markov_modulated\n"
      "    states: [{interarrival: 100ns}, {interarrival: 1000ns}]\n    transitions: [[0, 1], [1, 0]]\n    duration: 10ns\n";
  Log log = run_logged(make_case(d, fixed_arch("ipi_shootdown", "batched"), hyp, {{"a", "  - work: long\n  - work: idle\n"}}), 20000);
  std::vector<double> starts;
  for (const auto& e : log.events)
    if (e.vcpu == 0 && e.what.find("steal begins") != std::string::npos) starts.push_back(e.time);
  REQUIRE(starts.size() > 10);
  for (size_t i = 2; i < starts.size(); ++i) {
    double a = starts[i - 1] - starts[i - 2], b = starts[i] - starts[i - 1];
    CHECK(std::min(a, b) == doctest::Approx(110));  // 10 ns of steal, then the other state's running time
    CHECK(std::max(a, b) == doctest::Approx(1010));
  }
  // Rows that are not probabilities summing to 1 are refused, naming the row.
  TempDir d2;
  CHECK_THROWS_WITH_AS(
      make_case(d2, fixed_arch("ipi_shootdown", "batched"),
                "hypervisor: h\nsteal:\n  - {name: b, model: markov_modulated, states: [{interarrival: 1us}, {interarrival: 2us}], "
                "transitions: [[0.5, 0.4], [0, 1]], duration: 1us}\n",
                {{"a", "  - work: long\n"}}),
      doctest::Contains("sum to 0.9, not 1"), ConfigError);
}

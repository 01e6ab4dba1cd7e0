// The kernel-review fixes (KERNEL-REVIEW.md H1, H3, H4, M1, M4, M5; M3 in test_tlb_flush.cpp), each on a deterministic
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

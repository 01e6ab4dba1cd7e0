// Each mechanism of the machine model on a deterministic input, with times worked out by hand.
#include "support.hpp"

using namespace racewin;
using namespace racewin::test;

namespace {
// Records a flush range, works 100 ns, then flushes: the IPI leaves at 127 ns.
const char* const kFlusher =
    "  - tlb_gather_mmu\n  - tlb_remove_tlb_entry: map\n  - work: short\n  - tlb_flush_mmu_tlbonly\n  - work: idle\n";
}  // namespace

TEST_CASE("an IPI to a vCPU with IRQs off is handled when they come back on") {
  TempDir d;
  // cpu0 turns IRQs off for 1000 ns; cpu1 sends a TLB-flush IPI meanwhile.
  auto c = make_case(d, fixed_arch("ipi_shootdown", "batched"), kBareMetal,
                     {{"irqoff", "  - local_irq_disable\n  - work: long\n  - local_irq_enable\n  - work: idle\n"},
                      {"flusher", kFlusher}});
  Log log = run_logged(c, 3000);
  // flusher: gather 1, entry 1, short 100, tlbonly 25 -> IPI sent at 127, arrives at 177.
  CHECK(log.at(1, "waits for 1 TLB-flush ack") == doctest::Approx(127));
  CHECK(log.at(0, "ipi arrives") == doctest::Approx(177));
  // irqoff: disable at 1, work to 1001, enable takes effect at 1002: the handler starts then.
  CHECK(log.at(0, "local_irq_enable") == doctest::Approx(1002));
  CHECK(log.at(0, "ipi handler") == doctest::Approx(1002));
  // handler 200 ns, ack 30 ns later: the flusher goes on at 1232.
  CHECK(log.at(0, "handler done") == doctest::Approx(1202));
  CHECK(log.at(1, "has all acks") == doctest::Approx(1232));
}

TEST_CASE("an IPI preempts the running step, which keeps its remaining work") {
  TempDir d;
  auto c = make_case(d, fixed_arch("ipi_shootdown", "batched"), kBareMetal,
                     {{"worker", "  - work: long\n  - spin_lock: L\n  - spin_unlock: L\n  - work: idle\n"},
                      {"flusher", kFlusher}});
  Log log = run_logged(c, 3000);
  CHECK(log.at(0, "ipi handler") == doctest::Approx(177));
  // 1000 ns of work, interrupted by a 200 ns handler: done at 1200, spin_lock (10) at 1210.
  CHECK(log.at(0, "worker spin_lock(L)") == doctest::Approx(1210));
}

TEST_CASE("a stolen vCPU makes no progress and keeps its spinlock") {
  TempDir d;
  std::string hyp = "hypervisor: trace\nsteal: {model: trace, vcpus: {0: [[50ns, 2000ns]]}}\n";
  auto c = make_case(d, fixed_arch("ipi_shootdown", "batched"), hyp,
                     {{"holder", "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: idle\n"},
                      {"waiter", "  - work: short\n  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: idle\n"}});
  Log log = run_logged(c, 5000);
  CHECK(log.at(0, "steal begins") == doctest::Approx(50));
  CHECK(log.at(0, "steal ends") == doctest::Approx(2050));
  // holder: lock at 10, 100 ns of work of which 40 done before the steal -> unlock at 2050+60+5.
  CHECK(log.at(0, "holder spin_unlock(L)") == doctest::Approx(2115));
  // waiter: tries at 110, spins through the steal, gets the lock at 2115 + 7 handoff.
  CHECK(log.at(1, "waiter spin_lock(L)") == doctest::Approx(110));
  CHECK(log.at(1, "waiter spin_unlock(L)") == doctest::Approx(2115 + 7 + 100 + 5));
}

TEST_CASE("a waiter spins until the holder releases, and takes interrupts meanwhile") {
  TempDir d;
  std::string arch = fixed_arch("ipi_shootdown", "batched") +
                     "interrupts:\n  - {name: timer, interarrival: 1ms, first: 400ns, handler: 300ns}\n";
  auto c = make_case(d, arch, kBareMetal,
                     {{"holder", "  - spin_lock: L\n  - work: long\n  - spin_unlock: L\n  - work: idle\n"},
                      {"waiter", "  - spin_lock: L\n  - work: short\n  - spin_unlock: L\n  - work: idle\n"}});
  Log log = run_logged(c, 3000);
  // Both try at 10; the holder wins (vCPU 0 first at equal times). Each vCPU takes its timer at
  // 400 for 300 ns: the holder's work is stretched to 1310 and it unlocks at 1315.
  CHECK(log.at(0, "holder spin_unlock(L)") == doctest::Approx(1315));
  // The spinning waiter takes its timer too and still spins afterwards, until the hand-over.
  CHECK(log.at(1, "irq timer") == doctest::Approx(400));
  CHECK(log.at(1, "waiter spin_unlock(L)") == doctest::Approx(1315 + 7 + 100 + 5));
}

TEST_CASE("the sender of a shootdown resumes after the last ack") {
  TempDir d;
  // Three vCPUs; cpu2 has IRQs off until 600 ns, so its ack is the last.
  auto c = make_case(d, fixed_arch("ipi_shootdown", "batched"), kBareMetal,
                     {{"flusher", "  - tlb_gather_mmu\n  - tlb_remove_tlb_entry: map\n  - tlb_flush_mmu_tlbonly\n"
                                  "  - work: short\n  - work: idle\n"},
                      {"other", "  - work: idle\n"},
                      {"irqoff", "  - local_irq_disable\n  - work: short\n  - work: short\n  - work: short\n"
                                 "  - work: short\n  - work: short\n  - work: short\n  - local_irq_enable\n  - work: idle\n"}},
                     3);
  Log log = run_logged(c, 3000);
  // IPIs sent at 27, arrive at 77; cpu1 acks at 77+200+30 = 307; cpu2 handles at 602.
  CHECK(log.at(1, "ipi handler") == doctest::Approx(77));
  CHECK(log.at(2, "ipi handler") == doctest::Approx(602));
  CHECK(log.at(0, "has all acks") == doctest::Approx(602 + 200 + 30));
  CHECK(log.at(0, "flusher short") == doctest::Approx(832 + 100));
}

namespace {

// One thread maps a page, then zaps it as zap_pte_range does; `other` runs on cpu1.
const char* kMapThenZap =
    "  - alloc_page: {into: p}\n  - set_pte: {pte: map, page: p, dirty: true}\n  - page_add_rmap: p\n"
    "  - tlb_gather_mmu\n  - spin_lock: ptl\n  - ptep_get_and_clear: {pte: map, into: old}\n"
    "  - tlb_remove_tlb_entry: map\n  - page_remove_rmap: old.page\n  - tlb_remove_page: old.page\n"
    "  - spin_unlock: ptl\n  - tlb_flush_mmu_tlbonly\n  - tlb_flush_mmu_free\n  - work: idle\n  - work: idle\n";

}  // namespace

TEST_CASE("s390x frees inside zap_pte_range, under the PTL") {
  TempDir d;
  auto c = make_case(d, fixed_arch("broadcast", "direct"), kBareMetal, {{"zap", kMapThenZap}, {"other", "  - work: idle\n"}});
  Log log = run_logged(c, 1500);
  double freed = log.at(0, "free page");
  double unlocked = log.at(0, "zap spin_unlock(ptl)");
  REQUIRE(freed > 0);
  // alloc 50, set 2, rmap 4, gather 1, lock 10, clear 20, entry 1, rmap 4, remove_page 30 = 122.
  CHECK(freed == doctest::Approx(122));
  CHECK(freed < unlocked);
  CHECK(log.at(1, "ipi") < 0);  // a broadcast flush sends no IPI
}

TEST_CASE("x86_64 frees after the shootdown, outside the PTL") {
  TempDir d;
  auto c = make_case(d, fixed_arch("ipi_shootdown", "batched"), kBareMetal, {{"zap", kMapThenZap}, {"other", "  - work: idle\n"}});
  Log log = run_logged(c, 1500);
  double unlocked = log.at(0, "zap spin_unlock(ptl)");
  double acked = log.at(0, "has all acks");
  double freed = log.at(0, "free page");
  CHECK(unlocked == doctest::Approx(127));
  // tlbonly 25 -> IPI at 152, handled at 202..402, ack at 432; the free 60 ns later.
  CHECK(acked == doctest::Approx(432));
  CHECK(freed == doctest::Approx(492));
}

TEST_CASE("a page freed while PG_locked is a bad page state, seen when it happens") {
  TempDir d;
  auto c = make_case(d, fixed_arch("broadcast", "direct"), kBareMetal,
                     {{"locker", "  - alloc_page: {into: p}\n  - trylock_page: {page: p, into: ok}\n  - put_page: p\n"
                                 "  - work: idle\n  - work: idle\n"}});
  NativeEngine eng(c.vcpus);
  Machine m(c, 1, eng);
  RunControl ctl;
  eng.run(m, 100, ctl);
  uint64_t events = 0;
  for (const auto& h : m.hazards()) events += h.count;
  CHECK(events == 1);
  REQUIRE(m.hazards()[0].name == "bad_page_state");
  CHECK(m.hazards()[0].count == 1);
  CHECK(m.hazards()[0].first_time == doctest::Approx(56));
  CHECK(m.hazards()[0].first_detail.find("PG_locked") != std::string::npos);
}

namespace {
// The owner holds PG_locked from 55 to 1058; the sleeper wants it from 105.
const char* const kOwner =
    "  - alloc_page: {into: p}\n  - set_pte: {pte: map, page: p}\n  - lock_page: p\n"
    "  - work: long\n  - unlock_page: p\n  - work: idle\n  - work: idle\n";
const char* const kLockSleeper =
    "  - work: short\n  - pte_read: {pte: map, into: e}\n  - lock_page: e.page\n"
    "  - unlock_page: e.page\n  - work: idle\n  - work: idle\n";
}  // namespace

TEST_CASE("lock_page sleeps until unlock_page hands the lock over") {
  TempDir d;
  auto c = make_case(d, fixed_arch("broadcast", "direct"), kBareMetal, {{"owner", kOwner}, {"sleeper", kLockSleeper}});
  Log log = run_logged(c, 2500);
  // owner: alloc 50, set 2, lock 3 (held from 55), work to 1055, unlock at 1058.
  CHECK(log.at(0, "owner unlock_page") == doctest::Approx(1058));
  CHECK(log.at(1, "sleeper lock_page") == doctest::Approx(105));
  // The sleeper wakes 100 ns after the hand-over and unlocks 3 ns later.
  CHECK(log.at(1, "sleeper unlock_page") == doctest::Approx(1058 + 100 + 3));
}

// MACHINE-REVIEW-2 N-8: a sleeper's vCPU idles in halt, blocked in the host; waking it pays the
// host's part (hypervisor.halt_wakeup) on top of the guest's lock_page_wakeup.
TEST_CASE("N-8: waking a halted vCPU pays the host's wakeup on top of the guest's") {
  TempDir d;
  auto c = make_case(d, fixed_arch("broadcast", "direct"), "hypervisor: h\nsteal: {model: none}\nhalt_wakeup: 2us\n",
                     {{"owner", kOwner}, {"sleeper", kLockSleeper}});
  Log log = run_logged(c, 5000);
  // As in the bare-metal hand-over, plus 2 us: the sleeper unlocks at 1058 + 100 + 2000 + 3.
  CHECK(log.at(0, "owner unlock_page") == doctest::Approx(1058));
  CHECK(log.at(1, "sleeper unlock_page") == doctest::Approx(1058 + 100 + 2000 + 3));
}

TEST_CASE("back-to-back handlers keep the preempted step's remaining work, on both engines") {
  TempDir d;
  Log log = run_logged(back_to_back_case(d), 3000);
  // 150 ns done, 300 + 100 ns of handlers, 850 ns left: the step ends at 1400, the lock at 1410.
  CHECK(log.at(0, "irq second") == doctest::Approx(450));
  CHECK(log.at(0, "w spin_lock(L)") == doctest::Approx(1410));
}

TEST_CASE("a zero-cost step never runs while its vCPU is stolen") {
  TempDir d;
  // The flusher's IPI is acked at 407 ns while its own vCPU is stolen (150..2150): the zero-cost
  // window_open after the flush waits for the vCPU to run again.
  std::string hyp = "hypervisor: trace\nsteal: {model: trace, vcpus: {1: [[150ns, 2000ns]]}}\n";
  auto c = make_case(d, fixed_arch("ipi_shootdown", "batched"), hyp,
                     {{"target", "  - work: idle\n"},
                      {"flusher", "  - tlb_gather_mmu\n  - tlb_remove_tlb_entry: map\n  - work: short\n"
                                  "  - tlb_flush_mmu_tlbonly\n  - window_open: w\n  - window_close: w\n  - work: idle\n"}});
  Log log = run_logged(c, 5000);
  CHECK(log.at(1, "has all acks") == doctest::Approx(407));
  CHECK(log.at(1, "flusher window_open") == doctest::Approx(2150));
}

TEST_CASE("an IPI is taken inside a softirq tail and acked while the interrupted thread is still in its window") {
  TempDir d;
  // vCPU 0 only: a tick at 100 ns, hardirq 100 ns, softirq tail 1000 ns with IRQs on.
  std::string arch = fixed_arch("ipi_shootdown", "batched") +
                     "interrupts:\n  - {name: timer, vcpus: [0], interarrival: 1s, first: 100ns, handler: 100ns, softirq: 1000ns}\n";
  auto c = make_case(d, arch, kBareMetal,
                     {{"w", "  - window_open: win\n  - work: long\n  - window_close: win\n  - work: idle\n"},
                      {"flusher", kFlusher}});
  Log log = run_logged(c, 5000);
  // The IPI arrives at 177, in the hardirq part: pending until the softirq tail starts at 200,
  // where it nests: handled 200..400, acked at 430.
  CHECK(log.at(0, "softirq timer") == doctest::Approx(200));
  CHECK(log.at(0, "ipi handler") == doctest::Approx(200));
  CHECK(log.at(1, "has all acks") == doctest::Approx(430));
  // The softirq goes on at 400 with its 1000 ns, then the thread with its 900, plus the 200 ns of
  // the flusher's next IPI (arriving at 1607): the window closes at 2500, long after the ack.
  CHECK(log.at(0, "w window_close") == doctest::Approx(2500));
}

TEST_CASE("pending interrupts are taken by priority: on x86 the IPI before the timer") {
  TempDir d;
  std::string arch = fixed_arch("ipi_shootdown", "batched") +
                     "interrupts:\n  - {name: timer, interarrival: 1s, first: 100ns, handler: 200ns, priority: 236}\n";
  arch.replace(arch.find("ack_latency: 30ns}"), 18, "ack_latency: 30ns, priority: 252}");
  std::string hyp = "hypervisor: trace\nsteal: {model: trace, vcpus: {0: [[10ns, 1000ns]]}}\n";
  auto c = make_case(d, arch, hyp, {{"w", "  - work: long\n  - work: idle\n"}, {"flusher", kFlusher}});
  Log log = run_logged(c, 5000);
  // The tick (100 ns) and the IPI (177 ns) wait for the steal to end at 1010: the IPI goes first.
  CHECK(log.at(0, "ipi handler") == doctest::Approx(1010));
  CHECK(log.at(0, "irq timer") == doctest::Approx(1210));
  CHECK(log.at(1, "has all acks") == doctest::Approx(1240));
}

namespace {
// The owner holds PG_locked, releases it at 1058 and wants it again 3 ns later.
const char* const kRelocker =
    "  - alloc_page: {into: p}\n  - set_pte: {pte: map, page: p}\n  - lock_page: p\n  - work: long\n  - unlock_page: p\n"
    "  - lock_page: p\n  - work: long\n  - unlock_page: p\n  - work: idle\n  - work: idle\n";
const char* const kSleeper =
    "  - work: short\n  - pte_read: {pte: map, into: e}\n  - lock_page: e.page\n  - unlock_page: e.page\n  - work: idle\n  - work: idle\n";
}  // namespace

TEST_CASE("page-lock unfairness: woken waiters retry until the kernel hands PG_locked over") {
  auto run = [](int unfairness) {
    TempDir d;
    auto c = make_case(d, fixed_arch("broadcast", "direct"), kBareMetal, {{"owner", kRelocker}, {"sleeper", kSleeper}});
    c.kernel.page_lock_unfairness = unfairness;
    return run_logged(c, 5000);
  };
  // Hand-over at once (unfairness 0): the sleeper owns PG_locked from 1058, runs 100 ns later and
  // unlocks at 1161; the owner's lock_page at 1061 sleeps until then.
  Log handoff = run(0);
  CHECK(handoff.at(1, "sleeper unlock_page") == doctest::Approx(1161));
  CHECK(handoff.at(0, "owner unlock_page", 1) == doctest::Approx(1161 + 100 + 1000 + 3));
  // v5.9's default (5) and v5.8 (no hand-over): the sleeper wakes at 1158 to find the owner took
  // PG_locked again at 1061; it sleeps again, and gets the page after the owner's second unlock.
  for (int unfairness : {5, -1}) {
    CAPTURE(unfairness);
    Log retry = run(unfairness);
    CHECK(retry.at(0, "owner unlock_page", 1) == doctest::Approx(2064));
    CHECK(retry.at(1, "sleeper unlock_page") == doctest::Approx(2064 + 100 + 3));
  }
}

TEST_CASE("a vCPU halted on the page lock gets no ticks and is not stolen") {
  TempDir d;
  // Ticks every 100 ns on both vCPUs, a steal of 30 ns every 50 ns of running time on vCPU 1.
  std::string arch = fixed_arch("broadcast", "direct") +
                     "interrupts:\n  - {name: timer, interarrival: 100ns, aligned: true, first: 20ns, handler: 10ns}\n";
  std::string hyp = "hypervisor: h\nsteal: {model: renewal, vcpus: [1], interarrival: 50ns, duration: 30ns}\n";
  auto c = make_case(d, arch, hyp, {{"owner", kRelocker}, {"sleeper", kSleeper}});
  Log log = run_logged(c, 5000);
  // Woken by the owner's first unlock_page, it finds PG_locked taken again and sleeps from its
  // second try until the owner's second unlock_page.
  double slept = log.at(1, "sleeper lock_page", 1), woke = log.at(0, "owner unlock_page", 1);
  REQUIRE(slept > 0);
  REQUIRE(woke > slept);
  int ticks = 0, steals = 0;
  for (const auto& e : log.events)
    if (e.vcpu == 1 && e.time > slept && e.time < woke) {
      ticks += e.what == "irq timer";
      steals += e.what == "steal begins";
    }
  CHECK(woke - slept > 500);
  CHECK(ticks == 0);
  CHECK(steals == 0);
}

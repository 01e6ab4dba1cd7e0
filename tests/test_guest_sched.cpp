// The guest kernel's configuration (KERNEL-REVIEW-2 N4, KERNEL-REVIEW M2): a second runnable task
// woken by a timer, the preemption points where a pending reschedule switches the thread out,
// and a debug kernel's costs where the kernel pays them. Times worked out by hand.
#include "exact/exact.hpp"
#include "support.hpp"

using namespace racewin;
using namespace racewin::test;

namespace {
// The task: woken at 500 ns by a 200 ns timer interrupt, then 300 ns of switch, 2000 ns of its
// own work and 300 ns of switch back: 2600 ns off the thread's CPU.
std::string task_arch() {
  return fixed_arch("broadcast", "direct") + "  hrtimer_wakeup: 200ns\n  context_switch: 300ns\n  task_run: 2000ns\n" +
         "  lockdep_acquire: 50ns\n  lockdep_release: 40ns\n  preempt_enable_traced: 20ns\n  trace_hardirqs: 8ns\n" +
         "  debug_pagealloc_free: 70ns\n";
}
const char* const kTask = ", task: {wakeup: 1s, first: 500ns, run: task_run, vcpus: [0]}";
// The writer's shape: the PTL held across the wakeup, the window opening with the unlock.
const char* const kWriter =
    "  - spin_lock: ptl\n  - work: long\n  - spin_unlock: ptl\n  - window_open: win\n  - work: short\n"
    "  - window_close: win\n  - work: idle\n";
}  // namespace

TEST_CASE("CONFIG_PREEMPT: the preemption point switches the writer out inside the window when a reschedule is pending") {
  TempDir d;
  auto c = make_case(d, task_arch(), kBareMetal, {{"w", kWriter}}, 1, "", std::string(", preempt: true") + kTask);
  Log log = run_logged(c, 6000);
  // spin_lock 10; the wakeup interrupts the held section at 500 for 200 ns: need_resched is set,
  // but the preempt count is 1, so the work goes on to 1210; spin_unlock ends at 1215.
  CHECK(log.at(0, "irq task_wakeup") == doctest::Approx(500));
  CHECK(log.at(0, "w spin_unlock(ptl)") == doctest::Approx(1215));
  // The window opens with the unlock, and preempt_enable switches the thread out at once.
  CHECK(log.at(0, "w window_open") == doctest::Approx(1215));
  CHECK(log.at(0, "is switched out") == doctest::Approx(1215));
  CHECK(log.at(0, "switched back in") == doctest::Approx(1215 + 2600));
  // The window holds the whole switch: it closes after the 100 ns step, at 3915.
  CHECK(log.at(0, "w window_close") == doctest::Approx(3915));
}

TEST_CASE("without CONFIG_PREEMPT the reschedule waits for the return to user space") {
  TempDir d;
  auto c = make_case(d, task_arch(), kBareMetal, {{"w", kWriter}}, 1, "", std::string(", preempt: false") + kTask);
  Log log = run_logged(c, 6000);
  CHECK(log.at(0, "w window_close") == doctest::Approx(1315));  // no switch in the window
  // The loop's end (idle 1000 ns, to 2315) is the return to user: the switch comes there.
  CHECK(log.at(0, "is switched out") == doctest::Approx(2315));
  CHECK(log.at(0, "w spin_lock(ptl)", 1) == doctest::Approx(2315 + 2600 + 10));
}

TEST_CASE("CONFIG_PREEMPT: an interrupt's return switches out a thread whose preempt count is 0") {
  TempDir d;
  auto c = make_case(d, task_arch(), kBareMetal, {{"w", "  - work: long\n  - work: idle\n"}}, 1, "",
                     std::string(", preempt: true") + kTask);
  Log log = run_logged(c, 6000);
  // The wakeup at 500 (200 ns); preempt_schedule_irq at 700; 500 ns of the step left after it.
  CHECK(log.at(0, "is switched out") == doctest::Approx(700));
  CHECK(log.at(0, "w long") == doctest::Approx(700 + 2600 + 500));
}

TEST_CASE("a wakeup while the task runs finds it awake: no second switch") {
  TempDir d;
  std::string k = ", preempt: true, task: {wakeup: 1000ns, first: 500ns, run: task_run, vcpus: [0]}";
  auto c = make_case(d, task_arch(), kBareMetal, {{"w", "  - work: long\n  - work: idle\n"}}, 1, "", k);
  Log log = run_logged(c, 4000);
  // Wakeups at 500, 1500, 2500, ...: the task, switched in at 700, has the wakeups at 1500, 2500
  // and 3500 nested in it (200 ns each): it ends at 700 + 2600 + 600, and none of them switches.
  CHECK(log.at(0, "is switched out") == doctest::Approx(700));
  CHECK(log.at(0, "switched back in") == doctest::Approx(700 + 2600 + 3 * 200));
  CHECK(log.count(0, "is switched out") == 1);
}

TEST_CASE("kernel.config: debug charges lockdep around the lock and a traced preempt_enable after the unlock") {
  TempDir d;
  auto c = make_case(d, task_arch(), kBareMetal, {{"w", kWriter}}, 1, "", ", config: debug");
  Log log = run_logged(c, 3000);
  // spin_lock 10 + lock_acquire 50; long 1000; spin_unlock 5 + lock_release 40: the store at 1105.
  CHECK(log.at(0, "w spin_unlock(ptl)") == doctest::Approx(1105));
  // The window opens at the store; the traced preempt_enable (20 ns) runs inside it.
  CHECK(log.at(0, "w window_open") == doctest::Approx(1105));
  CHECK(log.at(0, "w preempt_enable() (traced") == doctest::Approx(1125));
  CHECK(log.at(0, "w window_close") == doctest::Approx(1225));
}

TEST_CASE("kernel.debug_pagealloc unmaps a page after its check at free, and only a good page") {
  TempDir d;
  const char* path = "  - alloc_page: {into: p}\n  - put_page: p\n  - work: short\n  - work: idle\n";
  auto c = make_case(d, task_arch(), kBareMetal, {{"w", path}}, 1, "", ", debug_pagealloc: true");
  Log log = run_logged(c, 3000);
  // alloc 50, put 3: the free's check at 53 (free_pages_prepare costs 0 here), then 70 ns of
  // kernel_map_pages before the next step: short ends at 53 + 70 + 100.
  CHECK(log.at(0, "free page") == doctest::Approx(53));
  CHECK(log.at(0, "w short") == doctest::Approx(223));
}

TEST_CASE("the exact driver refuses a guest task and a debug kernel, naming them") {
  TempDir d;
  auto c = make_case(d, task_arch(), kBareMetal, {{"w", kWriter}}, 1, "", std::string(", preempt: true") + kTask);
  CHECK_THROWS_WITH_AS(check_exponential(c), doctest::Contains("kernel.task"), NotExponential);
  auto dbg = make_case(d, task_arch(), kBareMetal, {{"w", kWriter}}, 1, "", ", config: debug");
  CHECK_THROWS_WITH_AS(check_exponential(dbg), doctest::Contains("kernel.config: debug"), NotExponential);
}

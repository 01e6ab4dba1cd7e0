// A path variant that deadlocks is a result of the run naming the threads, locks and steps.
#include <algorithm>

#include "config_error_support.hpp"

using namespace racewin::test;

TEST_SUITE("deadlocks") {

TEST_CASE("two threads taking two spinlocks in opposite order (ABBA) are reported as a deadlock") {
  TempDir d;
  const std::string forward_text =
      "path: forward\n"
      "steps:\n"
      "  - spin_lock: lock_a\n"
      "  - {work: hold, cost: 100ns}\n"
      "  - spin_lock: lock_b\n"
      "  - spin_unlock: lock_b\n"
      "  - spin_unlock: lock_a\n";
  const std::string reverse_text =
      "path: reverse\n"
      "steps:\n"
      "  - spin_lock: lock_b\n"
      "  - {work: hold, cost: 100ns}\n"
      "  - spin_lock: lock_a\n"
      "  - spin_unlock: lock_a\n"
      "  - spin_unlock: lock_b\n";
  std::string forward = d.write("forward.yaml", forward_text);
  std::string reverse = d.write("reverse.yaml", reverse_text);
  std::string file = d.write("scenario.yaml", scenario_yaml("  forward: {vcpu: 0, path: forward.yaml}\n"
                                                            "  reverse: {vcpu: 1, path: reverse.yaml}\n"));
  racewin::CaseResult r = run_native(file);
  INFO("failure: " << r.failure);
  CHECK(contains(r.failure, "deadlock"));
  CHECK(contains(r.failure, "forward (vCPU 0)"));
  CHECK(contains(r.failure, "reverse (vCPU 1)"));
  CHECK(contains(r.failure, "'lock_a'"));
  CHECK(contains(r.failure, "'lock_b'"));
  // Each thread is stuck at its second spin_lock.
  CHECK(contains(r.failure, at(forward, line_of(forward_text, "spin_lock: lock_b"))));
  CHECK(contains(r.failure, at(reverse, line_of(reverse_text, "spin_lock: lock_a"))));
  // Found when it happens, not by running out the clock.
  CHECK(r.iterations == 0);
  CHECK(r.sim_time_ns < 1000);
  CHECK_FALSE(r.interrupted);
}

TEST_CASE("a thread taking a spinlock it holds is reported as a deadlock") {
  TempDir d;
  const std::string text =
      "path: twice\n"
      "steps:\n"
      "  - spin_lock: lock_a\n"
      "  - {work: hold, cost: 100ns}\n"
      "  - spin_lock: lock_a   # again\n"
      "  - spin_unlock: lock_a\n"
      "  - spin_unlock: lock_a\n";
  std::string path = d.write("twice.yaml", text);
  std::string file = d.write("scenario.yaml", scenario_yaml("  twice: {vcpu: 0, path: twice.yaml}\n"));
  racewin::CaseResult r = run_native(file);
  INFO("failure: " << r.failure);
  CHECK(contains(r.failure, "deadlock"));
  CHECK(contains(r.failure, "twice (vCPU 0)"));
  CHECK(contains(r.failure, "'lock_a'"));
  CHECK(contains(r.failure, at(path, line_of(text, "# again"))));
  CHECK(r.iterations == 0);
}

// A step of 1e-10 ns in a loop: every event advances the clock by almost nothing, and a 1 ms run
// would take years. The costs are set after loading, past any check of the loader, so that what is
// tested is the run-time detector alone (Machine::check_progress).
TEST_CASE("a loop whose steps take almost no time is stopped as a livelock, naming the threads") {
  using namespace racewin;
  TempDir d;
  CaseConfig c = make_case(d, fixed_arch("ipi_shootdown", "batched"), kBareMetal, {{"spinner", "  - work: short\n"}}, 1);
  const auto idx = size_t(std::find(c.cost_names.begin(), c.cost_names.end(), "short") - c.cost_names.begin());
  REQUIRE(idx < c.costs.size());
  c.costs[idx] = Dist::fixed(1e-10);
  racewin::RunControl control;
  racewin::CaseResult r = racewin::run_case(c, racewin::EngineKind::Native, control);
  INFO("failure: " << r.failure);
  CHECK(contains(r.failure, "livelock at t="));
  CHECK(contains(r.failure, "spinner (vCPU 0) at"));
  CHECK(contains(r.failure, "iterations in that time"));
  CHECK(r.events >= Machine::kLivelockEvents);
  CHECK(r.events < 2 * Machine::kLivelockEvents);  // found in the first window of events
  CHECK(r.sim_time_ns < Machine::kLivelockNs);

  // 1e-7 ns a step is slow but moves: past a whole window (1.7 ns in 2^24 events) it goes on.
  c.costs[idx] = Dist::fixed(1e-7);
  c.limits.time_ns = 2;
  racewin::CaseResult ok = racewin::run_case(c, racewin::EngineKind::Native, control);
  CHECK(ok.failure.empty());
  CHECK(ok.events > Machine::kLivelockEvents);
}

}  // TEST_SUITE

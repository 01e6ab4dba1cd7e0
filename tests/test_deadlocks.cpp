// A path variant that deadlocks is a result of the run naming the threads, locks and steps.
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

}  // TEST_SUITE

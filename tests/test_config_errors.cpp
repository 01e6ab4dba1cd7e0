// Bad input gets one clear message: a racewin::ConfigError whose text begins with file:line and
// names the cause. A path variant that deadlocks is a result of the run (CaseResult::failure)
// naming the threads, locks and steps, not a hang or a crash.
//
// Every test writes its input as small YAML files in a fresh temporary directory and refers to
// the real models under models/ (ctest runs from the source root).
#include "config_error_support.hpp"

using namespace racewin::test;

TEST_SUITE("config errors") {

// The control for every test below: the scenario and path they start from are valid.
TEST_CASE("the scenario and path these tests edit load without error") {
  TempDir d;
  d.write("p.yaml", path_with("work: madvise_syscall"));
  CHECK_NOTHROW(racewin::load_scenario(d.write("scenario.yaml", scenario_yaml(one_thread(d))), {}));
  CHECK_NOTHROW(racewin::load_scenario(d.write("scenario.yaml", scenario_yaml(kRunsP)), {}));
}

TEST_CASE("a typo'd scenario key names the file, its line and the nearest key") {
  TempDir d;
  std::string text = replace_once(scenario_yaml(one_thread(d)), "machine:", "machne:");
  std::string file = d.write("scenario.yaml", text);
  check_message(rejection(file), at(file, line_of(text, "machne:")),
                {"unknown key 'machne'", "did you mean 'machine'"});
}

TEST_CASE("a typo'd key in an arch cost distribution names the arch file and its line") {
  TempDir d;
  std::string arch_text = replace_once(read_text(model("arch/x86_64.yaml")),
                                       "madvise_syscall: {lognormal: {median:",
                                       "madvise_syscall: {lognormal: {medain:");
  std::string arch = d.write("x86_64.yaml", arch_text);
  std::string file = d.write("scenario.yaml", scenario_yaml(one_thread(d), arch));
  check_message(rejection(file), at(arch, line_of(arch_text, "medain:")),
                {"unknown key 'medain'", "did you mean 'median'"});
}

TEST_CASE("negative durations are rejected where they are written") {
  TempDir d;
  std::string threads = one_thread(d);

  SUBCASE("run.time") {
    std::string text = replace_once(scenario_yaml(threads), "time: 1ms", "time: -5s");
    std::string file = d.write("scenario.yaml", text);
    check_message(rejection(file), at(file, line_of(text, "time: -5s")), {"cannot be negative", "-5s"});
  }
  SUBCASE("an arch cost") {
    std::string arch_text = replace_once(read_text(model("arch/x86_64.yaml")), "spin_unlock: 5ns", "spin_unlock: -5ns");
    std::string arch = d.write("x86_64.yaml", arch_text);
    std::string file = d.write("scenario.yaml", scenario_yaml(threads, arch));
    check_message(rejection(file), at(arch, line_of(arch_text, "spin_unlock: -5ns")), {"cannot be negative", "-5ns"});
  }
  SUBCASE("a step's own cost") {
    std::string path_text = path_with("{work: hold, cost: -5ns}");
    std::string path = d.write("p.yaml", path_text);
    std::string file = d.write("scenario.yaml", scenario_yaml(kRunsP));
    check_message(rejection(file), at(path, line_of(path_text, "cost: -5ns")), {"cannot be negative", "-5ns"});
  }
}

TEST_CASE("an error in a path file names the path file, the step's line and the cause") {
  TempDir d;
  std::string step;
  std::vector<std::string> cause;
  SUBCASE("unknown step") {
    step = "spin_lokc: lock_a";
    cause = {"unknown step 'spin_lokc'", "did you mean 'spin_lock'"};
  }
  SUBCASE("unknown variable in a condition") {
    step = "{goto: again, if: \"ptent.none\"}";
    cause = {"unknown variable 'ptent'", "ptent.none"};
  }
  SUBCASE("unknown spinlock") {
    step = "spin_lock: lock_c";
    cause = {"unknown spinlock 'lock_c'", "machine.spinlocks"};
  }
  SUBCASE("unknown goto label") {
    step = "goto: nowhere";
    cause = {"no label 'nowhere'"};
  }
  SUBCASE("a cost the arch does not define") {
    step = "work: no_such_cost";
    cause = {"needs cost 'no_such_cost'", "x86_64"};
  }
  CAPTURE(step);
  std::string path_text = path_with(step);
  std::string path = d.write("p.yaml", path_text);
  std::string file = d.write("scenario.yaml", scenario_yaml(kRunsP));
  std::string msg = rejection(file);
  check_message(msg, at(path, line_of(path_text, step)), {});
  for (const auto& c : cause) CHECK_MESSAGE(contains(msg, c), msg << " does not name " << c);
}

TEST_CASE("a YAML syntax error gives the file and line") {
  TempDir d;
  SUBCASE("in the scenario") {
    // A key indented one space more than its sibling.
    std::string text = replace_once(scenario_yaml(one_thread(d)), "  time: 1ms\n", "  time: 1ms\n   seed: 2\n");
    std::string file = d.write("scenario.yaml", text);
    check_message(rejection(file), at(file, line_of(text, "   seed: 2")), {"YAML syntax"});
  }
  SUBCASE("in a path file") {
    // A list item indented one space more than its siblings.
    std::string path_text = path_with("spin_unlock: lock_a\n   - work: madvise_syscall");
    std::string path = d.write("p.yaml", path_text);
    std::string file = d.write("scenario.yaml", scenario_yaml(kRunsP));
    check_message(rejection(file), at(path, line_of(path_text, "   - work")), {"YAML syntax"});
  }
}

TEST_CASE("a bad --set value names the --set and the cause") {
  TempDir d;
  std::string file = d.write("scenario.yaml", scenario_yaml(one_thread(d)));
  SUBCASE("not a duration") {
    check_message(rejection(file, {{"run.time", "fast"}}), "--set run.time", {"expected a duration", "'fast'"});
  }
  SUBCASE("a negative duration") {
    check_message(rejection(file, {{"run.time", "-5s"}}), "--set run.time", {"cannot be negative"});
  }
  SUBCASE("not YAML") {
    check_message(rejection(file, {{"run.time", "[1,"}}), "--set run.time", {"not valid YAML"});
  }
  SUBCASE("inside a model") {
    check_message(rejection(file, {{"arch.costs.spin_lock", "-1ns"}}), "--set arch.costs.spin_lock",
                  {"cannot be negative"});
  }
}

TEST_CASE("the profile and kernel keys of the review fixes reject what they cannot mean") {
  TempDir d;
  std::string file = d.write("scenario.yaml", scenario_yaml(one_thread(d)));
  SUBCASE("an unknown spinlock model") {
    check_message(rejection(file, {{"arch.spinlock.shared.model", "mcs"}}), "--set arch.spinlock.shared.model",
                  {"expected fifo, queued, classic, tas or pv_qspinlock", "'mcs'"});
  }
  SUBCASE("a pv-qspinlock without its spin threshold") {
    check_message(rejection(file, {{"arch.spinlock.shared", "{model: pv_qspinlock}"}}), "--set arch.spinlock.shared",
                  {"needs spin_threshold"});
  }
  SUBCASE("a CPU kind that is neither dedicated nor shared") {
    check_message(rejection(file, {{"hypervisor.cpus", "some"}}), "--set hypervisor.cpus",
                  {"expected dedicated or shared", "'some'"});
  }
  SUBCASE("exits for an interrupt source the arch does not have") {
    check_message(rejection(file, {{"hypervisor.interrupt_exits", "{tick: 2us}"}}), "--set hypervisor.interrupt_exits",
                  {"no interrupt source 'tick'"});
  }
  SUBCASE("a steal source's vcpus given as a number") {
    check_message(rejection(file, {{"hypervisor.steal", "{model: renewal, vcpus: 1, interarrival: 1ms, duration: 1us}"}}),
                  "--set hypervisor.steal", {"list of vCPU numbers"});
  }
  SUBCASE("a per-CPU batch larger than the high mark") {
    check_message(rejection(file, {{"kernel", "{pcp_high: 10, pcp_batch: 20}"}}), "--set kernel",
                  {"pcp_batch must not exceed pcp_high"});
  }
  SUBCASE("a typo'd kernel key") {
    check_message(rejection(file, {{"kernel", "{debug_mv: true}"}}), "--set kernel", {"unknown key 'debug_mv'", "debug_vm"});
  }
}

}  // TEST_SUITE

// Bad input gets one clear message: a racewin::ConfigError whose text begins with file:line and
// names the cause. A path variant that deadlocks is a result of the run (CaseResult::failure)
// naming the threads, locks and steps, not a hang or a crash.
//
// Every test writes its input as small YAML files in a fresh temporary directory and refers to
// the real models under models/ (ctest runs from the source root).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "run.hpp"
#include "scenario.hpp"

namespace fs = std::filesystem;
using racewin::ConfigError;
using racewin::Override;

namespace {

// A file of the real models, e.g. model("arch/x86_64.yaml").
std::string model(const std::string& rel) {
  fs::path p = fs::current_path() / "models" / rel;
  REQUIRE_MESSAGE(fs::exists(p), "run the tests from the source root; missing " << p.string());
  return p.string();
}

std::string read_text(const std::string& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "cannot read " << file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory for one test's files, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("racewin-config-errors-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
    return file(name);
  }

 private:
  fs::path dir_;
};

// The 1-based line on which `needle` first occurs in `text`.
int line_of(const std::string& text, const std::string& needle) {
  size_t pos = text.find(needle);
  REQUIRE_MESSAGE(pos != std::string::npos, "'" << needle << "' is not in the text");
  return 1 + int(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, "'" << from << "' is not in the text");
  return text.replace(pos, from.size(), to);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Loads a scenario that must be rejected and returns the ConfigError's message.
std::string rejection(const std::string& scenario, const std::vector<Override>& overrides = {}) {
  try {
    racewin::load_scenario(scenario, overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("load_scenario accepted " << scenario);
  return {};
}

// One line that begins with `where` (e.g. "/tmp/x/p.yaml:5:") and names every one of `parts`.
void check_message(const std::string& msg, const std::string& where, std::initializer_list<std::string> parts) {
  INFO("message: " << msg);
  CHECK_MESSAGE(msg.rfind(where, 0) == 0, "does not begin with " << where);
  for (const auto& p : parts) CHECK_MESSAGE(contains(msg, p), "does not name " << p);
  CHECK_MESSAGE(!contains(msg, "\n"), "is more than one line");
}

std::string at(const std::string& file, int line) { return file + ":" + std::to_string(line) + ":"; }

// A scenario on the real bare-metal model; `threads` is the body of its threads: map.
std::string scenario_yaml(const std::string& threads, const std::string& arch = model("arch/x86_64.yaml")) {
  return "scenario: test\n"
         "run:\n"
         "  time: 1ms\n"
         "machine:\n"
         "  vcpus: 2\n"
         "  spinlocks: [lock_a, lock_b]\n"
         "  ptes: [map]\n"
         "arch: " + arch + "\n"
         "hypervisor: " + model("hypervisor/bare_metal.yaml") + "\n"
         "threads:\n" + threads;
}

// Writes w.yaml, a valid path, and returns a threads: body that runs it, for the tests in which the
// thread is beside the point.
std::string one_thread(const TempDir& d) {
  d.write("w.yaml", "path: w\nsteps:\n  - spin_lock: lock_a\n  - work: madvise_syscall\n  - spin_unlock: lock_a\n");
  return "  w: {vcpu: 0, path: w.yaml}\n";
}

// The threads: body of a scenario whose thread runs p.yaml, the path under test.
const char* const kRunsP = "  w: {vcpu: 0, path: p.yaml}\n";

// A path in which `step` (one list item, without "- ") is the one under test.
std::string path_with(const std::string& step) {
  return "path: p\n"
         "steps:\n"
         "  - spin_lock: lock_a\n"
         "  - label: again\n"
         "    work: madvise_syscall\n"
         "  - " + step + "\n"
         "  - spin_unlock: lock_a\n";
}

}  // namespace

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

}  // TEST_SUITE

// Regression tests for bugs these checks found (each comment names the code that was at fault).
TEST_SUITE("config errors: overrides and odd input") {

// models/mm/gup_fast.yaml:22: "local_irq_enable" under "- label: out" lacks its colon.
TEST_CASE("every path model under models/mm loads on every arch") {
  TempDir d;
  for (const auto& arch : {model("arch/x86_64.yaml"), model("arch/s390x.yaml")})
    for (const auto& entry : fs::directory_iterator(fs::path(model("mm")))) {
      std::string text = replace_once(scenario_yaml("  w: {vcpu: 0, path: " + entry.path().string() + "}\n", arch),
                                      "spinlocks: [lock_a, lock_b]", "spinlocks: [ptl]");
      try {
        racewin::load_scenario(d.write("scenario.yaml", text), {});
      } catch (const ConfigError& e) {
        FAIL_CHECK(std::string(e.what()));
      }
    }
}

// CNode::set_dotted (sim/config.cpp) records where an override's value came from, not its key.
TEST_CASE("a typo'd --set key names the --set") {
  TempDir d;
  std::string file = d.write("scenario.yaml", scenario_yaml(one_thread(d)));
  check_message(rejection(file, {{"run.tme", "5s"}}), "--set run.tme", {"unknown key 'tme'", "did you mean 'time'"});
}

// CNode::set_dotted labels a case override (origin == nullptr) "--set KEY" with the scenario's line.
TEST_CASE("a bad value in a case's overrides names the scenario file and its line") {
  TempDir d;
  std::string text = scenario_yaml(one_thread(d)) +
                     "cases:\n"
                     "  ok: {}\n"
                     "  negative:\n"
                     "    run.time: -1s\n";
  std::string file = d.write("scenario.yaml", text);
  check_message(rejection(file), at(file, line_of(text, "run.time: -1s")), {"cannot be negative"});
}

// As above, for the key: the message blames the hypervisor model file, with no line.
TEST_CASE("a typo'd key in a case's overrides names the scenario file and its line") {
  TempDir d;
  std::string text = scenario_yaml(one_thread(d)) +
                     "cases:\n"
                     "  stolen:\n"
                     "    hypervisor.steal.modle: renewal\n";
  std::string file = d.write("scenario.yaml", text);
  check_message(rejection(file), at(file, line_of(text, "modle:")), {"unknown key 'modle'", "did you mean 'model'"});
}

// load_profile (sim/scenario.cpp) opens the file without saying which line of the scenario names it.
TEST_CASE("a missing arch file names the scenario line that refers to it") {
  TempDir d;
  std::string text = replace_once(scenario_yaml(one_thread(d)), "x86_64.yaml", "x86_65.yaml");
  std::string file = d.write("scenario.yaml", text);
  check_message(rejection(file), at(file, line_of(text, "arch: ")), {"x86_65.yaml"});
}

// CNode::allow_keys/entries (sim/config.cpp) call as<std::string>() on keys: a YAML exception escapes.
TEST_CASE("a key that is not a scalar is a ConfigError with its line") {
  TempDir d;
  std::string text = scenario_yaml(one_thread(d)) + "? [x, y]\n: 1\n";
  std::string file = d.write("scenario.yaml", text);
  check_message(rejection(file), at(file, line_of(text, "? [x, y]")), {});
}

// The condition parser (sim/expr.cpp) converts numbers with std::stoll: std::out_of_range escapes.
TEST_CASE("a number too large in a condition is a ConfigError with its line") {
  TempDir d;
  std::string step = "{goto: again, if: \"n == 99999999999999999999\"}";
  std::string path_text = replace_once(path_with(step), "steps:", "vars: {n: 0}\nsteps:");
  std::string path = d.write("p.yaml", path_text);
  std::string file = d.write("scenario.yaml", scenario_yaml(kRunsP));
  check_message(rejection(file), at(path, line_of(path_text, step)), {"99999999999999999999"});
}

// yaml-cpp keeps both entries of a repeated key and lookups take the first; CNode::allow_keys could
// see the repeat but does not: the second value is silently ignored.
TEST_CASE("a repeated key is rejected at its second occurrence") {
  TempDir d;
  std::string text = replace_once(scenario_yaml(one_thread(d)), "  time: 1ms\n", "  time: 1ms\n  time: -1s\n");
  std::string file = d.write("scenario.yaml", text);
  check_message(rejection(file), at(file, line_of(text, "time: -1s")), {"time"});
}

}  // TEST_SUITE

namespace {

racewin::CaseResult run_native(const std::string& scenario) {
  racewin::Scenario sc = racewin::load_scenario(scenario, {});
  REQUIRE(sc.cases.size() == 1);
  racewin::RunControl control;
  return racewin::run_case(sc.cases[0], racewin::EngineKind::Native, control);
}

}  // namespace

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

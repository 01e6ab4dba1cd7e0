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
  SUBCASE("a pause-loop window growth on an s390 lock, below 1, or a cap without growth") {
    check_message(rejection(file, {{"arch.spinlock.shared", "{model: classic, spin_retry: 1us, spin_retry_grow: 2}"}}),
                  "--set arch.spinlock.shared", {"model tas or pv_qspinlock only"});
    check_message(rejection(file, {{"arch.spinlock.shared", "{model: tas, spin_retry: 1us, spin_retry_grow: 0.5}"}}),
                  "--set arch.spinlock.shared", {"a factor of at least 1"});
    check_message(rejection(file, {{"arch.spinlock.shared", "{model: tas, spin_retry: 1us, spin_retry_max: 4us}"}}),
                  "--set arch.spinlock.shared", {"give spin_retry_grow above 1"});
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

namespace {

// The message of the ConfigError that parsing `text` as a YAML file throws ("" if none).
std::string parse_rejection(const std::string& text) {
  try {
    racewin::CNode::parse(text, "h.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// Nested aliases: 9^depth leaves from a few hundred bytes.
std::string alias_bomb(int depth) {
  std::string s = "&l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]";
  for (int k = 1; k < depth; ++k) {
    std::string a = "*l" + std::to_string(k - 1);
    s += ", &l" + std::to_string(k) + " [" + a;
    for (int i = 1; i < 9; ++i) s += "," + a;
    s += "]";
  }
  return "[" + s + "]";
}

}  // namespace

TEST_CASE("hostile YAML: bytes that are not UTF-8 are refused at their line and column") {
  // The outputs are JSON, whose writer refuses them: before, validate passed and run failed at the end.
  for (const std::string bad : {"\x80", "\xC0\x80", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                "\xF5\x80\x80\x80", "\xFF", "\xE2\x82"}) {
    CAPTURE(bad.size());
    std::string msg = parse_rejection("a: 1\nb: x" + bad + "\n");
    CHECK_MESSAGE(contains(msg, "h.yaml:2:5: byte 0x"), msg);
    CHECK_MESSAGE(contains(msg, "not valid UTF-8"), msg);
  }
  for (const std::string good : {"\xC3\xA9", "\xE2\x82\xAC", "\xED\x9F\xBF", "\xF0\x9D\x84\x9E", "\xF4\x8F\xBF\xBF"})
    CHECK(parse_rejection("a: 1\nb: x" + good + "\n") == "");
  CHECK(contains(parse_rejection("# \xFF in a comment\na: 1\n"), "h.yaml:1:3: byte 0xFF"));
}

TEST_CASE("hostile YAML: a raw control character is refused at its line and column, an escaped one is not") {
  // fuzz_scenario: a raw NUL in a scenario's doc gave yaml-cpp a string that results.json's writer
  // refused after the run ("invalid UTF-8 byte at index 7: 0xA0").
  for (const std::string& bad : {std::string("\0", 1), std::string("\x01"), std::string("\x08"), std::string("\x0B"),
                                std::string("\x1B"), std::string("\x7F")}) {
    CAPTURE(int(bad[0]));
    std::string msg = parse_rejection("a: 1\nb: x" + bad + "y\n");
    CHECK_MESSAGE(contains(msg, "h.yaml:2:5: byte 0x"), msg);
    CHECK_MESSAGE(contains(msg, "is a control character"), msg);
  }
  CHECK(contains(parse_rejection("# a \x01 in a comment\na: 1\n"), "h.yaml:1:5: byte 0x01"));
  CHECK(parse_rejection("a: 1\nb: \"x\\x00y\"\nc: p\tq\r\n") == "");  // escaped; a tab; CR LF
}

TEST_CASE("hostile YAML: the escapes \\N and \\_ are refused at their string, the characters themselves are not") {
  // fuzz_scenario: yaml-cpp decodes them as the bytes 0x85 and 0xA0, and results.json's writer
  // refused the value after the run ("invalid UTF-8 byte at index 914: 0xA0").
  for (const std::string esc : {"\\N", "\\_"}) {
    std::string msg = parse_rejection("a: 1\nb: \"x" + esc + "y\"\n");
    CHECK_MESSAGE(contains(msg, "h.yaml:2:4: "), msg);
    CHECK_MESSAGE(contains(msg, "is not supported"), msg);
  }
  CHECK(parse_rejection("a: 1\nb: \"x\xC2\xA0y \\u00e9 \\L\"\n") == "");  // U+00A0 itself; other escapes
  CHECK(parse_rejection("a: 1\nb: x\\_y\n") == "");  // a plain scalar has no escapes
}

TEST_CASE("hostile YAML: an escape of a lone surrogate is refused (by yaml-cpp)") {
  std::string msg = parse_rejection("a: 1\nb: \"x \\ud800\"\n");
  CHECK_MESSAGE(contains(msg, "h.yaml:2:"), msg);
  CHECK_MESSAGE(contains(msg, "invalid unicode"), msg);
}

TEST_CASE("hostile YAML: aliases that expand beyond the limit are refused, at the alias") {
  std::string msg = parse_rejection("a: 1\nsource: " + alias_bomb(9) + "\n");  // 387 M leaves
  CHECK_MESSAGE(contains(msg, "h.yaml:2:"), msg);
  CHECK_MESSAGE(contains(msg, "aliases expand to more than 1000000 nodes"), msg);
  CHECK(parse_rejection("a: 1\nsource: " + alias_bomb(6) + "\n") == "");  // 531 441 leaves: allowed
  // Aliases of scalars and of small maps count as what they stand for.
  CHECK(parse_rejection("a: &x {b: 1, c: [2, 3]}\nd: *x\ne: [*x, *x]\n") == "");
}

TEST_CASE("hostile YAML: a key holding a line break is quoted on one line") {
  TempDir d;
  std::string file = d.write("scenario.yaml", scenario_yaml(one_thread(d)) + "\"mach\\nine\": 1\n");
  std::string msg = rejection(file);
  CHECK_MESSAGE(msg.find('\n') == std::string::npos, msg);
  CHECK_MESSAGE(contains(msg, "unknown key 'mach\\nine'"), msg);
}

namespace {

struct NoNames : racewin::ExprScope {
  int var_index(const std::string&) const override { return -1; }
  int pte_index(const std::string&) const override { return -1; }
};

std::string expr_rejection(const std::string& text) {
  try {
    racewin::Expr::compile(text, NoNames(), {"p.yaml", 3, 7});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("hostile conditions: nesting and size are bounded, not the stack") {
  // Each of these recursed once per level when parsed, evaluated or freed: a stack overflow.
  CHECK(contains(expr_rejection(std::string(1000000, '!') + "1"), "nested more than 100 deep"));
  CHECK(contains(expr_rejection(std::string(100000, '(') + "1" + std::string(100000, ')')), "nested more than 100 deep"));
  std::string sum = "1";
  for (int i = 0; i < 200000; ++i) sum += "+1";
  CHECK(contains(expr_rejection(sum), "more than 10000 terms"));
  CHECK(contains(expr_rejection(std::string(100, '(') + "1" + std::string(100, ')')), "p.yaml:3:7"));
  CHECK(expr_rejection(std::string(99, '(') + "1" + std::string(99, ')')) == "");
}

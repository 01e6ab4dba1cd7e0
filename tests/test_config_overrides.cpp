// Overrides (--set, case entries) and odd input: errors still name the file and line they come from.
#include "config_error_support.hpp"

using namespace racewin::test;

// Regression tests for bugs these checks found (each comment names the code that was at fault).
TEST_SUITE("config errors: overrides and odd input") {

// models/mm/gup_fast.yaml:22: "local_irq_enable" under "- label: out" lacks its colon.
TEST_CASE("every path model under models/mm loads on every arch") {
  TempDir d;
  for (const auto& arch : {model("arch/x86_64.yaml"), model("arch/s390x.yaml")})
    for (const auto& entry : fs::directory_iterator(fs::path(model("mm")))) {
      std::string text = replace_once(scenario_yaml("  w: {vcpu: 0, path: " + entry.path().string() + "}\n", arch),
                                      "spinlocks: [lock_a, lock_b]", "spinlocks: [ptl]");
      text = replace_once(text, "ptes: [map]", "ptes: [map, {name: range, count: 4}]");  // the *_range paths
      try {
        racewin::load_scenario(d.write("scenario.yaml", text), {});
      } catch (const ConfigError& e) {
        FAIL_CHECK(std::string(e.what()));
      }
    }
}

// load_scenario kept every override's location (and its YAML document) for the thread's life: a
// sweep checking a million points, or a fuzz target, slowed to a crawl searching them (OriginScope).
TEST_CASE("loading a scenario keeps nothing of its overrides once it returns or throws") {
  TempDir d;
  std::string file = d.write("scenario.yaml", scenario_yaml(one_thread(d)) + "cases:\n  a: {run.time: 2s}\n");
  size_t before = racewin::OriginScope::remembered();
  for (int i = 0; i < 3; ++i) racewin::load_scenario(file, {{"run.seed", "7"}});
  CHECK(racewin::OriginScope::remembered() == before);
  (void)rejection(file, {{"run.tme", "5s"}});
  CHECK(racewin::OriginScope::remembered() == before);
  {
    racewin::OriginScope outer;  // what a caller remembers itself is kept until its scope ends
    racewin::CNode n = racewin::CNode::parse("a: 1\n", "x.yaml");
    n.set_dotted("b", YAML::Load("2"), {"--set b", 0, 0});
    size_t mine = racewin::OriginScope::remembered();
    CHECK(mine > before);
    racewin::load_scenario(file, {{"run.seed", "7"}});
    CHECK(racewin::OriginScope::remembered() == mine);
  }
  CHECK(racewin::OriginScope::remembered() == before);
}

// CNode::set_dotted (sim/config/config.cpp) records where an override's value came from, not its key.
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
  // The profile (bare metal) has no steal process: that is said first, at the case's line, since no
  // key under hypervisor.steal could apply there (issue 25's refusal of meaningless overrides).
  check_message(rejection(file), at(file, line_of(text, "modle:")), {"no steal process for 'hypervisor.steal.modle'"});
}

// load_profile (sim/config/scenario.cpp) opens the file without saying which line of the scenario names it.
TEST_CASE("a missing arch file names the scenario line that refers to it") {
  TempDir d;
  std::string text = replace_once(scenario_yaml(one_thread(d)), "x86_64.yaml", "x86_65.yaml");
  std::string file = d.write("scenario.yaml", text);
  check_message(rejection(file), at(file, line_of(text, "arch: ")), {"x86_65.yaml"});
}

// CNode::allow_keys/entries (sim/config/config.cpp) call as<std::string>() on keys: a YAML exception escapes.
TEST_CASE("a key that is not a scalar is a ConfigError with its line") {
  TempDir d;
  std::string text = scenario_yaml(one_thread(d)) + "? [x, y]\n: 1\n";
  std::string file = d.write("scenario.yaml", text);
  check_message(rejection(file), at(file, line_of(text, "? [x, y]")), {});
}

// The condition parser (sim/config/expr.cpp) converts numbers with std::stoll: std::out_of_range escapes.
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

#pragma once
// Helpers for the configuration-error and deadlock tests: small YAML inputs next to the real models
// (ctest runs from the source root), and checks that a message starts with file:line.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "run/run.hpp"
#include "support.hpp"

namespace racewin::test {

namespace fs = std::filesystem;
using racewin::ConfigError;
using racewin::Override;

// A file of the real models, e.g. model("arch/x86_64.yaml").
inline std::string model(const std::string& rel) {
  fs::path p = fs::current_path() / "models" / rel;
  REQUIRE_MESSAGE(fs::exists(p), "run the tests from the source root; missing " << p.string());
  return p.string();
}

inline std::string read_text(const std::string& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "cannot read " << file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}


// The 1-based line on which `needle` first occurs in `text`.
inline int line_of(const std::string& text, const std::string& needle) {
  size_t pos = text.find(needle);
  REQUIRE_MESSAGE(pos != std::string::npos, "'" << needle << "' is not in the text");
  return 1 + int(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

inline std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, "'" << from << "' is not in the text");
  return text.replace(pos, from.size(), to);
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Loads a scenario that must be rejected and returns the ConfigError's message.
inline std::string rejection(const std::string& scenario, const std::vector<Override>& overrides = {}) {
  try {
    racewin::load_scenario(scenario, overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("load_scenario accepted " << scenario);
  return {};
}

// One line that begins with `where` (e.g. "/tmp/x/p.yaml:5:") and names every one of `parts`.
inline void check_message(const std::string& msg, const std::string& where, std::initializer_list<std::string> parts) {
  INFO("message: " << msg);
  CHECK_MESSAGE(msg.rfind(where, 0) == 0, "does not begin with " << where);
  for (const auto& p : parts) CHECK_MESSAGE(contains(msg, p), "does not name " << p);
  CHECK_MESSAGE(!contains(msg, "\n"), "is more than one line");
}

inline std::string at(const std::string& file, int line) { return file + ":" + std::to_string(line) + ":"; }

// A scenario on the real bare-metal model; `threads` is the body of its threads: map.
inline std::string scenario_yaml(const std::string& threads, const std::string& arch = model("arch/x86_64.yaml")) {
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
inline std::string one_thread(const TempDir& d) {
  d.write("w.yaml", "path: w\nsteps:\n  - spin_lock: lock_a\n  - work: madvise_syscall\n  - spin_unlock: lock_a\n");
  return "  w: {vcpu: 0, path: w.yaml}\n";
}

// The threads: body of a scenario whose thread runs p.yaml, the path under test.
inline const char* const kRunsP = "  w: {vcpu: 0, path: p.yaml}\n";

// A path in which `step` (one list item, without "- ") is the one under test.
inline std::string path_with(const std::string& step) {
  return "path: p\n"
         "steps:\n"
         "  - spin_lock: lock_a\n"
         "  - label: again\n"
         "    work: madvise_syscall\n"
         "  - " + step + "\n"
         "  - spin_unlock: lock_a\n";
}


inline racewin::CaseResult run_native(const std::string& scenario) {
  racewin::Scenario sc = racewin::load_scenario(scenario, {});
  REQUIRE(sc.cases.size() == 1);
  racewin::RunControl control;
  return racewin::run_case(sc.cases[0], racewin::EngineKind::Native, control);
}

}  // namespace racewin::test

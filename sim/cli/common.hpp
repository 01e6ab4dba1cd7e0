#pragma once
// What the subcommands share: the scenario options, loading with overrides, Ctrl-C.
#include <CLI/CLI.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "config/scenario.hpp"

namespace racewin::cli {

extern std::atomic<bool> g_stop;  // set by SIGINT and SIGTERM once install_stop_handler() ran
void install_stop_handler();

// The options every subcommand that reads a scenario takes: the file, --set, --case.
struct ScenarioOptions {
  std::string config;
  std::vector<std::string> sets, cases;
  bool force_override = false;
  void add(CLI::App* app, bool with_cases = true);
  // Loads the scenario with the --set overrides and any `extra` ones (from other options).
  // Throws ConfigError.
  Scenario load(std::vector<Override> extra = {}) const;
  // The same, printing a ConfigError as "racewin: FILE:LINE:COL: ..." and returning nothing;
  // `rc` gets its exit code (exit_code()).
  std::optional<Scenario> load_or_report(int& rc, std::vector<Override> extra = {}) const;
};

// --iterations N or --time T as overrides of run.iterations and run.time (the other one cleared).
std::vector<Override> limit_overrides(uint64_t iterations, const std::string& time);

// An --out directory (empty: none) created and writable before the work whose results go there;
// false after one message if not.
bool writable_out_dir(const std::string& dir);

// --set (or --set-after, as `option`) texts, [CASE:]KEY=VALUE; throws OverrideError.
std::vector<Override> parse_sets(const std::vector<std::string>& sets, const std::string& option = "--set");
// The exit code of a ConfigError: 2 for a refused command-line override, else 1.
int exit_code(const ConfigError& e);
// "--time: '3' has no unit; write 3s, ..." for a duration typed on the command line, "" if fine.
std::string duration_option_problem(const std::string& option, const std::string& text);
std::string command_line(int argc, char** argv);

}  // namespace racewin::cli

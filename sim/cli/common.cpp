#include "cli/common.hpp"

#include <csignal>
#include <iostream>

#include "base/units.hpp"
#include "cli/data_dir.hpp"
#include "output/write_file.hpp"

namespace racewin::cli {

std::atomic<bool> g_stop{false};
namespace {
void on_signal(int) { g_stop = true; }
}  // namespace

void install_stop_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

void ScenarioOptions::add(CLI::App* app, bool with_cases) {
  app->add_option("config", config, "scenario YAML file (a shipped one by name: dirtyc0w_child.yaml)")->required()->transform(shipped_file());
  app->add_option("--set", sets,
                  "override a configuration key, [CASE:]KEY=VALUE, e.g. --set arch.costs.unlock_page=40ns or "
                  "--set 's390x_*:hypervisor.spin_yield=if_preempted' (CASE: a case name or glob)");
  app->add_flag("--force-override", force_override,
                "apply an unscoped --set even where it replaces a case's own line or means nothing for a case");
  if (with_cases) app->add_option("--case", cases, "only this case (repeatable)");
}

Scenario ScenarioOptions::load(std::vector<Override> extra) const {
  std::vector<Override> o = parse_sets(sets);
  o.insert(o.end(), extra.begin(), extra.end());
  return load_scenario(config, o, cases, force_override);
}

std::optional<Scenario> ScenarioOptions::load_or_report(int& rc, std::vector<Override> extra) const {
  try {
    return load(std::move(extra));
  } catch (const ConfigError& e) {
    std::cerr << "racewin: " << e.what() << "\n";
    rc = exit_code(e);
    return std::nullopt;
  }
}

int exit_code(const ConfigError& e) { return dynamic_cast<const OverrideError*>(&e) ? 2 : 1; }

std::string duration_option_problem(const std::string& option, const std::string& text) {
  if (text.empty()) return "";
  std::string why = duration_problem(text);
  if (why.empty() && parse_duration_ns(text).value_or(0) < 0) why = "'" + text + "' is negative";
  return why.empty() ? "" : option + ": " + why;
}

std::vector<Override> limit_overrides(uint64_t iterations, const std::string& time) {
  if (iterations) return {{"run.iterations", std::to_string(iterations), "--iterations"}, {"run.time", "0", "--iterations"}};
  if (!time.empty()) return {{"run.time", time, "--time"}, {"run.iterations", "0", "--time"}};
  return {};
}

bool writable_out_dir(const std::string& dir) {
  if (dir.empty()) return true;
  try {
    ensure_writable_dir(dir);
    return true;
  } catch (const OutputError& e) {
    std::cerr << "racewin: --out: " << e.what() << "\n";
    return false;
  }
}

std::vector<Override> parse_sets(const std::vector<std::string>& sets, const std::string& option) {
  std::vector<Override> out;
  for (const auto& s : sets) out.push_back(parse_override(s, option));
  return out;
}

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

}  // namespace racewin::cli

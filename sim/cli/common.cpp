#include "cli/common.hpp"

#include <csignal>
#include <iostream>

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
  app->add_option("--set", sets, "override a configuration key, e.g. --set arch.costs.unlock_page=40ns");
  if (with_cases) app->add_option("--case", cases, "only this case (repeatable)");
}

Scenario ScenarioOptions::load(std::vector<Override> extra) const {
  std::vector<Override> o = parse_sets(sets);
  o.insert(o.end(), extra.begin(), extra.end());
  return load_scenario(config, o, cases);
}

std::optional<Scenario> ScenarioOptions::load_or_report(std::vector<Override> extra) const {
  try {
    return load(std::move(extra));
  } catch (const ConfigError& e) {
    std::cerr << "racewin: " << e.what() << "\n";
    return std::nullopt;
  }
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

std::vector<Override> parse_sets(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError({"--set " + s, 0, 0}, "expected key=value, e.g. --set arch.costs.unlock_page=40ns");
    out.push_back({s.substr(0, eq), s.substr(eq + 1), ""});
  }
  return out;
}

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

}  // namespace racewin::cli

// racewin run --uncertainty N: the answer over the box of the estimates' ranges. It is an
// uncertainty sweep (sim/sweep/sweep_uncertainty.cpp) of the scenario with the run's own
// settings, written into --out as sweep.yaml and run there as `racewin sweep` runs it: the same
// progress, the same resume after an interruption (the same command again), the same tables
// (uncertainty.csv: per case and for each pair's ratio, the band and its drivers).
#include "cli/run_uncertainty.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "output/write_file.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace racewin::cli {

namespace fs = std::filesystem;

int run_uncertainty(const UncertaintyRequest& r) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "sweep" << YAML::Value << "uncertainty";
  y << YAML::Key << "doc" << YAML::Value << fmt::format("racewin run --uncertainty {} of {}", r.samples, r.scenario);
  y << YAML::Key << "scenario" << YAML::Value << fs::absolute(r.scenario).lexically_normal().string();
  if (!r.cases.empty()) y << YAML::Key << "cases" << YAML::Value << YAML::Flow << r.cases;
  y << YAML::Key << "seed" << YAML::Value << r.seed;
  y << YAML::Key << "run" << YAML::Value << YAML::BeginMap;
  if (!r.time.empty()) y << YAML::Key << "time" << YAML::Value << r.time;
  if (r.iterations) y << YAML::Key << "iterations" << YAML::Value << r.iterations;
  if (r.rel_error > 0) y << YAML::Key << "rel_error" << YAML::Value << fmt::format("{}", r.rel_error);
  if (r.p_below > 0) y << YAML::Key << "p_below" << YAML::Value << fmt::format("{}", r.p_below);
  if (!r.rare_event.empty()) y << YAML::Key << "rare_event" << YAML::Value << r.rare_event;
  y << YAML::Key << "hazards" << YAML::Value << YAML::Flow << std::vector<std::string>{r.hazard};
  y << YAML::EndMap;
  y << YAML::Key << "uncertainty" << YAML::Value << YAML::Flow << YAML::BeginMap;
  y << YAML::Key << "hazard" << YAML::Value << r.hazard << YAML::Key << "samples" << YAML::Value << r.samples;
  y << YAML::EndMap << YAML::EndMap;
  const fs::path dir(r.out), file = dir / "sweep.yaml";
  try {
    ensure_writable_dir(dir);
    write_atomic(file, std::string(y.c_str()) + "\n");
  } catch (const OutputError& e) {
    std::cerr << "racewin: " << e.what() << "\n";
    return 1;
  }
  // `racewin sweep FILE --out DIR`, parsed and run in this process.
  CLI::App app;
  auto sweep = make_sweep_command();
  sweep->add(app);
  std::vector<std::string> args = {"sweep", file.string(), "--out", dir.string()};
  if (r.jobs) args.insert(args.end(), {"--jobs", std::to_string(r.jobs)});
  if (r.quiet) args.push_back("-q");
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  app.parse(args);
  return sweep->exec("");
}

}  // namespace racewin::cli

#pragma once
// A scenario file combines models into cases; each case is one machine to simulate.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "path.hpp"
#include "profiles.hpp"

namespace racewin {

struct ThreadSpec {
  std::string name;
  int vcpu = 0;
  Path path;
};

struct RunLimits {
  double time_ns = 0;       // simulated time; 0 = unlimited
  uint64_t iterations = 0;  // loop iterations of the counted thread; 0 = unlimited
};

struct CaseConfig {
  std::string scenario;
  std::string name;
  std::string doc;
  int vcpus = 2;
  int pages = 64;
  MachineNames names;
  ArchProfile arch;
  HypervisorProfile hypervisor;
  std::vector<ThreadSpec> threads;
  std::vector<std::string> cost_names;  // Step::cost_index points here
  std::vector<Dist> costs;
  int count_thread = 0;  // whose loop iterations are "iterations"
  uint64_t seed = 1;
  RunLimits limits;
  int replications = 1;  // independent runs, each with 1/replications of the limits
  nlohmann::json resolved;  // the full configuration as read, for the outputs
};

struct Override {
  std::string key;    // dotted, e.g. hypervisor.steal.duration
  std::string value;  // YAML text
  std::string label = {};  // how errors name it; default "--set KEY"
};

struct Scenario {
  std::string file;
  std::string name;
  std::string doc;
  std::vector<CaseConfig> cases;
};

// Loads and validates every case; throws ConfigError naming file, line and key.
Scenario load_scenario(const std::string& file, const std::vector<Override>& overrides,
                       const std::vector<std::string>& only_cases = {});

nlohmann::json yaml_to_json(const YAML::Node& n);

}  // namespace racewin

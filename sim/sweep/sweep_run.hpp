#pragma once
// Running the points of a sweep (sweep.hpp) and gathering them into one tidy table. A point's
// result is a JSON document that depends on the sweep file, the scenario and the seed only (no
// wall times), so that a resumed, sharded or merged sweep ends with exactly the same files.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "base/run_control.hpp"
#include "sweep/sweep.hpp"

namespace racewin {

// A fingerprint of what decides a sweep's results: the sweep file's and the scenario file's text.
std::string sweep_fingerprint(const Sweep& sw);

// Runs every case of point `p` with the sweep's run settings (one replication each; a stopping
// rule or --rare-event method as `run:` says) and returns its document: point, parameters,
// overrides, seed, version, and per case its resolved configuration and per hazard the estimate.
// Throws ModelError or ConfigError as run_case and load_scenario do; sets control.interrupted.
// Its "checksum" is point_checksum's: a point file edited afterwards is found out and run again.
nlohmann::json run_sweep_point(const Sweep& sw, const SweepPoint& p, RunControl& control);

// A digest of a point document's text without its "checksum" member (the same after a round trip
// through its file: keys sorted, numbers printed to round-trip).
std::string point_checksum(const nlohmann::json& point);

// One row per point, case and hazard: point, the parameters, case, hazard, then the estimate and
// its interval, the counts and how the run stopped. Points in index order.
std::string sweep_csv(const std::vector<std::string>& param_names, const std::vector<nlohmann::json>& points);

// The file of point i under a sweep's output directory.
std::filesystem::path point_path(const std::filesystem::path& dir, size_t index);

}  // namespace racewin

#pragma once
// Sweep files (configs/sweeps/*.yaml): a base scenario and axes over any of its configuration keys,
// expanded into points, each a list of overrides. Parsing and expansion only; running the points
// is the sweep driver's (issue 16).
//
//   sweep: NAME
//   doc: what it shows
//   scenario: ../dirtyc0w_child.yaml      # relative to this file
//   cases: [s390x_zvm_v5.9-rc4]           # optional: a subset of the scenario's cases
//   seed: 1                               # of the runs and of sampled axes
//   run: {time: 20s, rel_error: 0.2, rare_event: force, hazards: [bad_page_state]}
//   axes:                                 # points: the product of these groups, first slowest
//     - {name: gap, key: hypervisor.steal.0.interarrival, template: "{exponential: {mean: $}}",
//        log: {from: 1ms, to: 20ms, points: 3}}
//     - {name: arch, key: arch, values: [../models/arch/s390x.yaml, ../models/arch/x86_64.yaml]}
//     - zip: [{name: a, key: K1, values: [...]}, {name: b, key: K2, values: [...]}]   # in step
//     - sample: {method: latin_hypercube, points: 20, seed: 3,
//                axes: [{name: len, key: K, from: 50us, to: 1ms, scale: log}]}
// An axis's values are YAML text; `template` puts each in place of `$`. Range ends are durations
// (with a unit) or plain numbers; log ranges and log-scale samples need positive ends.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.hpp"
#include "config/scenario.hpp"

namespace racewin {

// Points of a sweep at most, an axis's and the grid's (the product of the axes): a million points
// take about a gigabyte before any runs.
constexpr size_t kMaxSweepPoints = 1000000;

struct SweepParam {
  std::string name;
  std::string value;  // as the axis gives it, before the template: the table's column value
};

struct SweepPoint {
  size_t index = 0;
  std::vector<SweepParam> params;    // in the order of Sweep::param_names
  std::vector<Override> overrides;   // the keys and their YAML values
};

struct SweepRunSettings {
  std::string time;        // a duration, or empty
  uint64_t iterations = 0;
  double rel_error = 0, p_below = 0;
  std::string rare_event;  // empty, or a --rare-event method
  std::vector<std::string> hazards;
};

// A one-at-a-time sensitivity sweep (instead of axes): the base point, then each parameter at its
// default divided and multiplied by `factor` (the durations in its value are scaled: a lognormal's
// median, an exponential's mean, not a sigma or a shape). One case. Parameters are ranked by the
// elasticity of P(hazard), d ln P / d ln parameter, from the two ends (sweep_sensitivity.cpp).
//   sensitivity: {hazard: bad_page_state, factor: 2, parameters: [hypervisor.steal.0.interarrival, ...]}
// Without `parameters`, every duration the case's profiles mark as an estimate ([E]: profile_marks.hpp).
struct Sensitivity {
  std::string hazard;
  double factor = 2;
  std::vector<std::string> parameters;
};

// An uncertainty sweep (instead of axes): the nominal point, then `samples` points of a Latin
// hypercube over the box of every estimate's range (sweep_uncertainty.cpp). Its summary gives,
// per case and per pair of cases (their ratio), the band of P(hazard) over the box (5th, 50th and
// 95th percentiles, the extremes) and the estimates that drive it.
//   uncertainty: {hazard: bad_page_state, samples: 32, seed: 1}
struct Uncertainty {
  std::string hazard;
  size_t samples = 0;
  std::vector<std::string> cases, parameters;
  std::vector<std::vector<std::string>> case_parameters;  // per case: the parameters it estimates
};

struct Sweep {
  std::string name, doc, file;
  std::optional<Sensitivity> sensitivity;
  std::optional<Uncertainty> uncertainty;
  std::string scenario;  // resolved path
  std::vector<std::string> cases;
  uint64_t seed = 1;
  SweepRunSettings run;
  std::vector<std::string> param_names;
  std::vector<SweepPoint> points;
};

// Parses and expands a sweep file; throws ConfigError naming file, line and key. With
// `check_points`, each point's overrides are checked by loading the scenario with them (so a key
// the scenario lacks is caught here, not in the middle of a run); a scheduler's one-point task
// skips that (its point is loaded when it runs).
Sweep load_sweep(const std::string& file, bool check_points = true);

// The sensitivity points of `node` (sweep_sensitivity.cpp), and the ranking of a finished
// sensitivity sweep's point documents: CSV, most influential first.
void sensitivity_points(const CNode& node, Sweep& sw);
std::vector<std::string> estimated_parameters(const CaseConfig& c);
std::string sensitivity_csv(const Sweep& sw, const std::vector<nlohmann::json>& points);
// Whether a point's estimate of one hazard (an entry of its case's "hazards") can stand: a forced
// one on enough effective hits and above zero (no weighted hit is an upper bound, not a value), a
// crude one on at least 3 hits. A figure made from one that cannot is UNRELIABLE too.
bool estimate_reliable(const nlohmann::json& hazard);
void uncertainty_points(const CNode& node, Sweep& sw);
// n quantiles in [0, 1) drawn from `rng`: one in each of n equal strata in a random order (a Latin
// hypercube's column), or, not `latin`, n independent uniforms (after the same shuffle's draws).
std::vector<double> sample_quantiles(Rng& rng, size_t n, bool latin);
std::string uncertainty_csv(const Sweep& sw, const std::vector<nlohmann::json>& points);
// `v` with every duration in it multiplied by f; a bare number is scaled only as the whole value (top).
nlohmann::json scaled_value(const nlohmann::json& v, double f, bool top);

}  // namespace racewin

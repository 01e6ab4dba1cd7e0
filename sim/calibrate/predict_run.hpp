#pragma once
// Running a prediction: the race and loop scenarios `racewin calibrate --predict` writes, run on
// the native engine, beside a probe file's measurements. One code path for both readings: the
// prediction made from the file's own fit (in sample), and one made earlier from another file's
// profiles and kept as it was (`racewin calibrate NEW.json --against DIR`: held out).
#include <string>
#include <vector>

#include "calibrate/predict.hpp"
#include "calibrate/probe_file.hpp"
#include "config/overrides.hpp"

namespace racewin::calibrate {

// The case name a race of window W and check gap G has in a race scenario: w{W}ns_g{G}ns.
std::string race_case_name(const ProbeRace& r);

// Every case of the race scenario `file`, run, beside the race of `measured` of the same name
// (race_case_name). A case with no such race in the probe is a ConfigError naming both files; a
// run stopped on a model error is a runtime_error.
std::vector<RaceComparison> run_races(const std::string& file, const Probe& measured);

// The loops scenario `file` (loops_scenario's cases, in order) run with `overrides`, beside the
// probe's measured loops.
std::vector<LoopComparison> run_loops(const std::string& file, const Probe& measured, const std::vector<Override>& overrides);

// A file of case keys (`KEY: VALUE` lines, as arch_costs.yaml is written) as overrides, each
// naming its FILE:LINE in errors.
std::vector<Override> read_case_keys(const std::string& file);

}  // namespace racewin::calibrate

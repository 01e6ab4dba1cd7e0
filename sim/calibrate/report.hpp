#pragma once
// What a calibration found, as text for the terminal: the machine, the tick, the other stalls
// with every family tried, how the vCPUs' stalls relate, the paths and the race.
#include <string>

#include "calibrate/probe_file.hpp"
#include "calibrate/stall_fit.hpp"

namespace racewin::calibrate {

std::string report(const Probe& p, const StallFit& s);
std::string law_lines(const LawFit& f, const std::string& indent);

}  // namespace racewin::calibrate

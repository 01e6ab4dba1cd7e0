#pragma once
// A probe-like record made by racewin itself, for the closed loop (a known profile, recorded as the
// probe would see it, calibrated back): from a run's timeline, the intervals in which each vCPU's
// thread made no progress, an interrupt handler or steal, merged where they overlap, above the
// probe's threshold.
#include <vector>

#include "calibrate/stall_fit.hpp"
#include "timeline/timeline.hpp"

namespace racewin::calibrate {

std::vector<GapRecord> gaps_from_timeline(const RunTimeline& t, int vcpus, double threshold_ns);

}  // namespace racewin::calibrate

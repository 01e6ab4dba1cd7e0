#pragma once
// A number for JSON: infinities and NaN (an unbounded interval end, "never") become null, since
// JSON has no infinity. Used by every writer of result files (run, compare, sweep, exact).
#include <nlohmann/json.hpp>

#include <cmath>

namespace racewin {

inline nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace racewin

#pragma once
// Cell formats shared by the output layer's tables (not for other layers: each keeps its own).
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "base/stats.hpp"
#include "base/units.hpp"

namespace racewin::cell {

inline std::string num(double v) {
  if (std::isinf(v)) return "inf";
  if (v == 0) return "0";
  return fmt::format("{:.3g}", v);
}

inline std::string secs(double s) { return std::isinf(s) ? "never" : format_duration(s * 1e9); }

// "3.2e-05 [2.1e-05, 4.7e-05]", or "< 3e-09" when nothing was seen: the 95% upper bound.
inline std::string estimate(double v, const Interval& ci, bool none) {
  if (none) return fmt::format("< {}", num(ci.hi));
  return fmt::format("{} [{}, {}]", num(v), num(ci.lo), num(ci.hi));
}

// What a table says of a window that no step can hit, in place of an estimate.
inline constexpr const char* kCannotBeHit = "cannot be hit: no window_hit step";

}  // namespace racewin::cell

#include "base/units.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace racewin {

std::optional<double> parse_duration_ns(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(v)) return std::nullopt;
  std::string unit(end);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  double scale = 0;
  if (unit.empty() || unit == "ns") scale = 1;
  else if (unit == "us" || unit == "µs") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "s") scale = 1e9;
  else if (unit == "min") scale = 60e9;
  else if (unit == "h") scale = 3600e9;
  else return std::nullopt;
  if (!std::isfinite(v * scale)) return std::nullopt;  // 1e300h: not a duration racewin can count in ns
  return v * scale;
}

std::string format_duration(double ns) {
  char buf[64];
  double a = std::fabs(ns);
  if (!std::isfinite(ns)) return ns > 0 ? "inf" : "-inf";
  if (a >= 3600e9) std::snprintf(buf, sizeof buf, "%.3g h", ns / 3600e9);
  else if (a >= 60e9) std::snprintf(buf, sizeof buf, "%.3g min", ns / 60e9);
  else if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.3g s", ns / 1e9);
  else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.3g ms", ns / 1e6);
  else if (a >= 1e3) std::snprintf(buf, sizeof buf, "%.3g us", ns / 1e3);
  else std::snprintf(buf, sizeof buf, "%.3g ns", ns);
  return buf;
}

}  // namespace racewin

#include "base/units.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace racewin {

namespace {

enum class Why { Ok, NotANumber, NoUnit, BadUnit, BelowResolution };

Why parse(const std::string& text, double& ns) {
  if (text.empty()) return Why::NotANumber;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(v)) return Why::NotANumber;
  std::string number(text.c_str(), size_t(end - text.c_str())), unit(end);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  bool zero = number.find_first_of("123456789") == std::string::npos ||
              number.find_first_of("123456789") > number.find_first_of("eE");  // 0, 0.0, 0e5
  double scale = 0;
  if (unit.empty()) {
    if (!zero) return Why::NoUnit;
    scale = 1;
  } else if (unit == "ns") scale = 1;
  else if (unit == "us" || unit == "µs") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "s") scale = 1e9;
  else if (unit == "min") scale = 60e9;
  else if (unit == "h") scale = 3600e9;
  else return Why::BadUnit;
  ns = v * scale;
  if (!std::isfinite(ns)) return Why::NotANumber;  // 1e300h: not a duration racewin can count in ns
  if (!zero && std::fabs(ns) < kResolutionNs / 2) return Why::BelowResolution;
  return Why::Ok;
}

}  // namespace

std::optional<double> parse_duration_ns(const std::string& text) {
  double ns = 0;
  if (parse(text, ns) != Why::Ok) return std::nullopt;
  return ns;
}

std::string duration_problem(const std::string& text) {
  double ns = 0;
  switch (parse(text, ns)) {
    case Why::Ok: return "";
    case Why::NoUnit:
      return "'" + text + "' has no unit; write " + text + "s, " + text + "ms, " + text + "us or " + text + "ns";
    case Why::BadUnit: return "'" + text + "' has an unknown unit; write ns, us, ms, s, min or h";
    case Why::BelowResolution:
      return "'" + text + "' is below the clock's resolution of 1 ns and would round to 0; write 0 for none";
    default: return "expected a duration such as 250ns, 1.5us, 4ms or 2s, got '" + text + "'";
  }
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

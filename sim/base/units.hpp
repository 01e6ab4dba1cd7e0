#pragma once
// Simulated time is in nanoseconds, held as double (exact for integers up to 2^53 ns, ~104 days).
#include <optional>
#include <string>

namespace racewin {

using Time = double;

// "250ns", "1.5us", "4ms", "2s", "1h", or a bare number of nanoseconds.
std::optional<double> parse_duration_ns(const std::string& text);
std::string format_duration(double ns);

}  // namespace racewin

#pragma once
// Simulated time is in nanoseconds, held as double (exact for integers up to 2^53 ns, ~104 days).
#include <optional>
#include <string>

namespace racewin {

using Time = double;

// The clock's resolution: simulated time counts nanoseconds (exact for whole ones, above). A
// positive duration that rounds to 0 ns, below half of one, is refused rather than lost.
constexpr double kResolutionNs = 1;

// "250ns", "1.5us", "4ms", "2s", "1min", "1h", or a bare 0 (for none); nothing for a bare
// non-zero number (a unit is needed: "3" could mean 3 s as well as 3 ns), an unknown unit, a
// negative value is returned as is (callers say whether it may be), a positive one below
// the resolution. duration_problem() says why.
std::optional<double> parse_duration_ns(const std::string& text);
// Why `text` is not a duration, e.g. "'3' has no unit; write 3s, 3ms, 3us or 3ns"; "" if it is.
std::string duration_problem(const std::string& text);
std::string format_duration(double ns);

}  // namespace racewin

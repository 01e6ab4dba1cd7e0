#include "base/error.hpp"

#include <fmt/format.h>

namespace racewin {

std::string SourceLoc::str() const {
  std::string s = file.empty() ? std::string("<input>") : file;
  if (line > 0) s += fmt::format(":{}", line);
  if (column > 0) s += fmt::format(":{}", column);
  return s;
}

ConfigError::ConfigError(const SourceLoc& loc, const std::string& what)
    : std::runtime_error(loc.str() + ": " + what), loc_(loc) {}

}  // namespace racewin

#include "base/error.hpp"

#include <fmt/format.h>

namespace racewin {

std::string SourceLoc::str() const {
  std::string s = file.empty() ? std::string("<input>") : file;
  if (line > 0) s += fmt::format(":{}", line);
  if (column > 0) s += fmt::format(":{}", column);
  return s;
}

namespace {

// The command line prints a ConfigError as one line; a key or value quoted from a file can hold a
// line break or another control character, shown escaped instead.
std::string one_line(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 && c != '\t') out += fmt::format("\\x{:02x}", c);
    else out += ch;
  }
  return out;
}

}  // namespace

ConfigError::ConfigError(const SourceLoc& loc, const std::string& what)
    : std::runtime_error(one_line(loc.str() + ": " + what)), loc_(loc) {}

}  // namespace racewin

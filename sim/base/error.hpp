#pragma once
// Errors a user can act on: every one names where it came from.
#include <stdexcept>
#include <string>

namespace racewin {

struct SourceLoc {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string str() const;
};

class ConfigError : public std::runtime_error {
 public:
  ConfigError(const SourceLoc& loc, const std::string& what);
  const SourceLoc& where() const { return loc_; }

 private:
  SourceLoc loc_;
};

}  // namespace racewin

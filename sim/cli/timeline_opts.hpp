#pragma once
// racewin run's timeline options: --timeline, --timeline-text, --first-hit (docs/timeline.md).
#include <CLI/CLI.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "run/run.hpp"

namespace racewin::cli {

struct TimelineOptions {
  std::string json, text, first_hit;
  void add(CLI::App* run);
  bool full() const { return !json.empty() || !text.empty(); }
  // A usage error for this run, or empty.
  std::string check(const Scenario& sc, bool rare_event) const;
  std::optional<TimelineRequest> request() const;
  // Writes what the results carry and says what it wrote on `say`; false (said on stderr): a file
  // could not be written.
  bool write(const Scenario& sc, const std::vector<CaseResult>& results, std::ostream& say) const;
};

}  // namespace racewin::cli

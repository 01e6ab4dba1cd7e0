#pragma once
// Before and after a change with both sides forced (rare-event forcing, rare_event.hpp): where
// hits are too rare for paired crude batches, each side is one forced run, as `racewin run
// --rare-event force` makes it, and the two estimates are compared as independent ones.
#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "base/stats.hpp"
#include "run/run.hpp"

namespace racewin {

// The after side runs on a seed of its own, derived from the before side's, so that the two
// estimates are independent, as the intervals below assume.
uint64_t forced_after_seed(uint64_t seed);

// One side: the case run once under forcing until `rule` is met or a budget is spent. The rule's
// hazards are those of `hazards` the case can hit (bad_page_state at least).
CaseResult run_forced_side(const CaseConfig& cfg, const std::vector<std::string>& hazards, StoppingRule rule,
                           const ForceOptions& force, RunControl& control);

// A side's forced estimate of P(hit) per iteration of one hazard.
struct ForcedSide {
  double p = 0;
  Interval ci;  // the forcing driver's 95% interval; with no weighted hit, [0, upper bound]
  uint64_t weighted_hits = 0;
  double effective_hits = 0;
  bool unreliable = false;  // fewer than kMinEffectiveHits effective hits
  bool can_be_hit = true;   // false: a window no step of the case hits
};
ForcedSide forced_side(const CaseConfig& cfg, const CaseResult& r, const std::string& hazard);

struct ForcedComparison {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  ForcedSide before, after;
  double ratio = nan;  // after / before; 0 with no hit after, inf with none before, NaN with none at all
  Interval ratio_ci;
  double difference = 0;
  Interval difference_ci;
  bool significant = false;  // the ratio interval excludes 1 (and so the difference's excludes 0)
  std::string note;          // zero sides, unreliable sides
};
// Both sides positive: delta method on log P each side (standard error: the interval's larger
// half-width over 1.96, over P), the ratio's interval exp(± 1.96 sqrt(sum)); the difference on
// the linear scale likewise. A side with no weighted hit gives bounds only: the ratio's and
// difference's intervals come from the per-side bounds (Bonferroni, as compare_batches does).
// Nothing is called significant when a side is UNRELIABLE.
ForcedComparison compare_forced(const ForcedSide& before, const ForcedSide& after);

// A case of a forced comparison: both sides' runs and, per hazard, the comparison.
struct ForcedCompareCase {
  std::string name;
  CaseResult before, after;
  std::vector<std::pair<std::string, ForcedComparison>> rows;
};

nlohmann::json forced_comparison_json(const ForcedComparison& c);
std::string forced_comparison_csv_header();
std::string forced_comparison_csv_row(const std::string& case_name, const std::string& hazard, const ForcedComparison& c);

}  // namespace racewin

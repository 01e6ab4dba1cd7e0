#pragma once
// Before and after a change, on common random numbers: each side is split into B batches, batch k
// of both sides runs with the same seed, and the statistics below work on the paired batch counts.
#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <vector>

#include "base/stats.hpp"
#include "run/run.hpp"

namespace racewin {

// Batch k of B of a case: a share of its limits and a seed derived from `seed` as --replications
// does, the same for both sides; `independent` derives them from another stream instead.
CaseConfig batch_config(const CaseConfig& cfg, uint64_t seed, int batches, int k, bool independent = false);

// One side's batches for one quantity: per batch what was counted (iterations hit, events) and
// over what (iterations, simulated seconds). The estimate is the ratio of the sums.
struct Batches {
  std::vector<double> num, den;
  double estimate() const;
};

// A hazard over a side's batch results; a hazard the side's model lacks (a window it never opens)
// counts zero.
Batches hit_iterations(const std::vector<CaseResult>& reps, const std::string& hazard);
Batches events_per_second(const std::vector<CaseResult>& reps, const std::string& hazard);

enum class Measure { PerIteration, PerSecond };

struct TInterval {
  double estimate = 0, se = 0, df = 0;
  Interval ci;
};
// after − before, batches paired by index: Student-t on B−1 degrees of freedom.
TInterval paired_difference(const Batches& before, const Batches& after, double confidence = 0.95);
// after − before from independent runs: Welch's t with Satterthwaite's degrees of freedom.
TInterval welch_difference(const Batches& before, const Batches& after, double confidence = 0.95);
// after / before, paired: delta method on log(ratio of sums), Student-t on B−1 degrees of freedom.
// Needs hits on both sides.
TInterval paired_log_ratio(const Batches& before, const Batches& after, double confidence = 0.95);

// Exact paired sign-flip test of "before and after are exchangeable within a pair": the share of
// the 2^m sign patterns of the m nonzero per-batch differences whose sum is at least as far from 0
// as the observed one. NaN past 20 nonzero differences (the t interval is the tool there).
double sign_flip_p(const Batches& before, const Batches& after);

struct Comparison {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  double before = 0, after = 0;
  double hits_before = 0, hits_after = 0;  // what was counted: iterations hit, or events
  Interval before_ci, after_ci;            // exact per side (Clopper-Pearson or Garwood), as `run` gives
  double ratio = nan;                      // after / before; inf with no hits before, NaN with none at all
  Interval ratio_ci;
  double difference = 0;
  Interval difference_ci;
  bool significant = false;  // the difference interval excludes 0
  double correlation = nan;  // of the paired batch residuals: what common random numbers bought
  double sign_flip_p = nan;  // with fewer than 10 hits in all, significance needs this < 0.05 too
  std::string note;          // how zero or few hits were handled
  bool has_independent = false;
  double after_independent = nan;
  Interval difference_ci_independent;
  double crn_width_over_independent = nan;
};

Comparison compare_batches(const Batches& before, const Batches& after, Measure m,
                           const Batches* independent_after = nullptr);

// The comparison's JSON, every quantity named for what it is (p_ or events_per_s_ prefixes).
nlohmann::json comparison_json(const Comparison& c, Measure m);
// One CSV row per case, hazard and measure (p_iteration_hit or events_per_s); empty cells for NaN.
std::string comparison_csv_header();
std::string comparison_csv_row(const std::string& case_name, const std::string& hazard, const Comparison& c, Measure m);

}  // namespace racewin

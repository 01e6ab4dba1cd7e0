#pragma once
// The ratio of two cases' P(hazard hit per iteration), with a 95% interval that says what it
// assumes: paired, where the cases ran as replications that share seeds (each replication of one
// case beside the same replication of the other), or independent.
#include <string>
#include <vector>

#include "base/stats.hpp"
#include "run/run.hpp"

namespace racewin {

struct RatioEstimate {
  double r = 0;  // P_A / P_B; 0 with no estimate (then `why` says why)
  Interval ci;
  std::string method;  // what the interval assumes, for the output line
  std::string why;     // set when there is no ratio
  bool unreliable = false;
  bool paired = false;  // ci is paired over replications; independent_ci is then the same units unpaired
  // Paired only: the interval the same replications give taken as independent, for comparison.
  Interval independent_ci;
};

// Per unit k (a replication): hits a_k over iterations na_k on side A, b_k over nb_k on side B.
// log(A/NA) - log(B/NB) linearised per unit: z_k = (a_k/A - na_k/NA) - (b_k/B - nb_k/NB), variance
// K/(K-1) sum z_k^2 (the ratio-of-sums delta method), Student's t with K - 1 degrees of freedom.
// `paired` false drops the cross term (sides independent).
RatioEstimate ratio_of_units(const std::vector<double>& a, const std::vector<double>& na, const std::vector<double>& b,
                             const std::vector<double>& nb, bool paired);

// A's hazard over B's: paired over replications when both ran the same number (two or more) from
// the same seed, crude; else the two estimates' intervals taken as independent (delta method on
// log P), labelled so. UNRELIABLE where an estimate is (a forced one on few effective hits, a crude
// one on fewer than 3 hits).
RatioEstimate case_ratio(const CaseResult& a, const CaseResult& b, const std::string& hazard);

}  // namespace racewin

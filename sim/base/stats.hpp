#pragma once
// Exact intervals for counts: hits per iteration (binomial) and per unit time (Poisson).
#include <cstdint>

namespace racewin {

struct Interval {
  double lo = 0, hi = 0;
};

// Clopper-Pearson interval for k successes in n trials.
Interval binomial_interval(uint64_t k, uint64_t n, double confidence = 0.95);
// Exact (Garwood) interval for the rate of a Poisson process with k events over `exposure`.
Interval poisson_rate_interval(uint64_t k, double exposure, double confidence = 0.95);
// The two-sided `confidence` quantile of Student's t with df degrees of freedom.
double t_quantile(double df, double confidence = 0.95);

}  // namespace racewin

#pragma once
// Fitting a duration law to measured values: the families racewin's profiles can state
// (exponential, lognormal, gamma, Weibull) by maximum likelihood, each with its log-likelihood,
// BIC (Schwarz's criterion) and Kolmogorov-Smirnov distance, the family chosen by BIC, and the empirical law (its
// quantiles) beside them. A probe records only stalls longer than its threshold, so the values
// are left-truncated there: every likelihood and CDF here is the law conditional on x > lower.
#include <string>
#include <vector>

namespace racewin::calibrate {

enum class Family { Exponential, Lognormal, Gamma, Weibull };
const char* family_name(Family f);

struct FamilyFit {
  Family family = Family::Exponential;
  // exponential: a = mean; lognormal: a = mu (log of the median), b = sigma; gamma and Weibull:
  // a = shape, b = scale. Times in nanoseconds.
  double a = 0, b = 0;
  int parameters = 1;
  double loglik = 0, bic = 0;
  double ks = 0;  // sup |F_fit - F_empirical|, both conditional on x > lower
  bool converged = false;

  double cdf(double x) const;     // the untruncated law
  double logpdf(double x) const;
  double median() const;
  std::string yaml() const;       // as a profile states it, e.g. {lognormal: {median: 2.1us, sigma: 0.41}}
  std::string describe() const;
};

struct LawFit {
  size_t n = 0;
  double lower = 0;               // the truncation point (0: none)
  std::vector<FamilyFit> families;  // every family tried, best (lowest BIC) first
  double ks_critical = 0;         // 1.36 / sqrt(n): the 5% KS bound for a law given in advance
  // Quantiles of the values at (i + 0.5) / k, i < k: a law the profile can state as
  // {empirical: [...]}, each value equally likely.
  std::vector<double> quantiles;
  const FamilyFit& best() const { return families.front(); }
  // The best family is used unless its KS distance exceeds ks_critical: then the empirical law
  // (the values themselves say the family does not fit them).
  bool parametric_fits() const { return best().ks <= ks_critical; }
  std::string yaml() const;       // the law a profile takes: the best family or the empirical one
};

// Fits every family to `values` (nanoseconds, each > lower), truncated at `lower`. At least 10
// values; `quantile_count` empirical quantiles.
LawFit fit_law(std::vector<double> values, double lower = 0, size_t quantile_count = 64);

// One family alone (the starting point from moments, then Nelder-Mead on the truncated likelihood).
FamilyFit fit_family(Family f, const std::vector<double>& sorted_values, double lower);

}  // namespace racewin::calibrate

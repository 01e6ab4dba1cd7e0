#include "base/stats.hpp"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <limits>
#include <stdexcept>
#include <string>

namespace racewin {

Interval binomial_interval(uint64_t k, uint64_t n, double confidence) {
  if (k > n)  // a caller's bug: say so, rather than boost's "Beta argument is 0"
    throw std::invalid_argument("binomial_interval: " + std::to_string(k) + " successes in " + std::to_string(n) + " trials");
  if (n == 0) return {0, 1};
  double a = (1 - confidence) / 2;
  Interval r;
  r.lo = k == 0 ? 0 : boost::math::quantile(boost::math::beta_distribution<>(double(k), double(n - k + 1)), a);
  r.hi = k == n ? 1 : boost::math::quantile(boost::math::beta_distribution<>(double(k + 1), double(n - k)), 1 - a);
  return r;
}

Interval poisson_rate_interval(uint64_t k, double exposure, double confidence) {
  if (exposure <= 0) return {0, std::numeric_limits<double>::infinity()};
  double a = (1 - confidence) / 2;
  Interval r;
  r.lo = k == 0 ? 0 : boost::math::quantile(boost::math::gamma_distribution<>(double(k)), a) / exposure;
  r.hi = boost::math::quantile(boost::math::gamma_distribution<>(double(k + 1)), 1 - a) / exposure;
  return r;
}

double t_quantile(double df, double confidence) {
  boost::math::students_t_distribution<> t(df);
  return boost::math::quantile(boost::math::complement(t, (1 - confidence) / 2));
}

}  // namespace racewin

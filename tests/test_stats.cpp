// The exact intervals against values worked out by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "base/stats.hpp"

using namespace racewin;

TEST_CASE("Clopper-Pearson: zero and all successes have closed forms") {
  // k = 0: the upper bound solves (1 - p)^n = alpha/2; k = n: the lower bound solves p^n = alpha/2.
  Interval zero = binomial_interval(0, 10);
  CHECK(zero.lo == 0);
  CHECK(zero.hi == doctest::Approx(1 - std::pow(0.025, 0.1)).epsilon(1e-12));
  Interval all = binomial_interval(10, 10);
  CHECK(all.hi == 1);
  CHECK(all.lo == doctest::Approx(std::pow(0.025, 0.1)).epsilon(1e-12));
  Interval none = binomial_interval(0, 0);
  CHECK(none.lo == 0);
  CHECK(none.hi == 1);
}

TEST_CASE("Clopper-Pearson: more successes than trials is an error that says so") {
  CHECK_THROWS_AS(binomial_interval(3, 2), std::invalid_argument);
  CHECK_THROWS_WITH(binomial_interval(3, 2), "binomial_interval: 3 successes in 2 trials");
}

TEST_CASE("Garwood: no events over an exposure bound the rate by -ln(alpha/2) / exposure") {
  Interval r = poisson_rate_interval(0, 10.0);
  CHECK(r.lo == 0);
  CHECK(r.hi == doctest::Approx(-std::log(0.025) / 10).epsilon(1e-12));
}

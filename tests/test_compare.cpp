// racewin compare: paired-batch statistics on common random numbers.
#include <doctest/doctest.h>

#include <cmath>

#include "base/rng.hpp"
#include "run/compare.hpp"
#include "run/ratio.hpp"
#include "run/run.hpp"
#include "support.hpp"

using namespace racewin;
using namespace racewin::test;

namespace {

// The owner opens window w for an Exp(100 ns) step, then does Exp(100 ns) and Exp(800 ns) more;
// the hitter calls window_hit every Exp(10 us): a Poisson stream. `longer` closes the window one
// step later, so the window covers the second step too, and the owner's timeline is unchanged.
CaseConfig window_case(const TempDir& d, bool longer) {
  std::string arch = fixed_arch("broadcast", "direct") +
                     "  in_window: {exponential: {mean: 100ns}}\n  next: {exponential: {mean: 100ns}}\n"
                     "  rest: {exponential: {mean: 800ns}}\n  gap: {exponential: {mean: 10us}}\n";
  std::string owner = longer ? "  - window_open: w\n  - work: in_window\n  - work: next\n  - window_close: w\n  - work: rest\n"
                             : "  - window_open: w\n  - work: in_window\n  - window_close: w\n  - work: next\n  - work: rest\n";
  CaseConfig c = make_case(d, arch, kBareMetal, {{"owner", owner}, {"hitter", "  - work: gap\n  - window_hit: w\n"}});
  c.limits.time_ns = 20e6;  // 20 ms, 1 ms per batch
  c.seed = 5;
  return c;
}

std::vector<CaseResult> run_side(const CaseConfig& c, uint64_t seed, int batches, bool independent = false) {
  std::vector<CaseResult> reps;
  for (int k = 0; k < batches; ++k) {
    RunControl ctl;
    reps.push_back(run_case(batch_config(c, seed, batches, k, independent), EngineKind::Native, ctl));
  }
  return reps;
}

Batches make(std::vector<double> num, std::vector<double> den) { return {std::move(num), std::move(den)}; }

}  // namespace

TEST_CASE("compare: two identical sides give a ratio interval containing 1, not significant") {
  TempDir d;
  CaseConfig c = window_case(d, false);
  auto before = run_side(c, c.seed, 20), after = run_side(c, c.seed, 20), ind = run_side(c, c.seed, 20, true);
  Batches ip = hit_iterations(ind, "window:w");
  Comparison p = compare_batches(hit_iterations(before, "window:w"), hit_iterations(after, "window:w"),
                                 Measure::PerIteration, &ip);
  REQUIRE(p.hits_before > 100);
  CHECK(p.ratio_ci.lo <= 1);
  CHECK(p.ratio_ci.hi >= 1);
  CHECK_FALSE(p.significant);
  // Same seeds, same model: every draw is shared, so the paired difference is exactly 0.
  CHECK(p.difference_ci.lo == 0);
  CHECK(p.difference_ci.hi == 0);
  // Independent seeds differ by chance only (seed 5: the interval covers 0).
  CHECK(p.difference_ci_independent.lo < 0);
  CHECK(p.difference_ci_independent.hi > 0);
}

TEST_CASE("compare: a path variant with a longer window is significantly worse, on fewer batches with CRN") {
  TempDir d1, d2;
  CaseConfig b = window_case(d1, false), a = window_case(d2, true);
  auto before = run_side(b, b.seed, 20), after = run_side(a, b.seed, 20), ind = run_side(a, b.seed, 20, true);
  for (bool per_iteration : {true, false}) {
    CAPTURE(per_iteration);
    auto get = per_iteration ? hit_iterations : events_per_second;
    Batches ib = get(ind, "window:w");
    Comparison c = compare_batches(get(before, "window:w"), get(after, "window:w"),
                                   per_iteration ? Measure::PerIteration : Measure::PerSecond, &ib);
    CHECK(c.significant);
    CHECK(c.difference_ci.lo > 0);
    CHECK(c.ratio_ci.lo > 1);
    if (per_iteration) {
      // Exact: a Poisson stream of rate l hits an Exp(m) window with l*m/(1 + l*m); the longer one,
      // Exp(m) + Exp(m), with 1 - (1 + l*m)^-2. With l*m = 0.01 the ratio is 1.99.
      CHECK(c.ratio_ci.lo < 1.99);
      CHECK(c.ratio_ci.hi > 1.99);
    }
    // Why CRN narrows the interval: with the timeline unchanged, the after side's hits are the
    // before side's plus those in the extra step, so the paired difference varies only by the
    // latter: Var(after − before) ~ p_a − p_b against p_a + p_b for independent runs, a width
    // ratio of about sqrt(1/3) = 0.58 (times t(19)/t(~38) = 1.03). Broken pairing gives ~1.
    CHECK(c.crn_width_over_independent < 0.85);
    CHECK(c.correlation > 0.5);
  }
}

TEST_CASE("compare: results depend on the seed only, and the independent stream differs") {
  TempDir d;
  CaseConfig c = window_case(d, false);
  CHECK(batch_config(c, 5, 20, 3).seed == batch_config(c, 5, 20, 3).seed);
  CHECK(batch_config(c, 5, 20, 3).seed != batch_config(c, 5, 20, 4).seed);
  CHECK(batch_config(c, 5, 20, 3, true).seed != batch_config(c, 5, 20, 3).seed);
  CHECK(batch_config(c, 5, 20, 3).limits.time_ns == doctest::Approx(1e6));
}

// Reference values: scipy 1.10.1 (/usr/bin/python3, python3-scipy), e.g. for the paired interval
//   stats.ttest_rel(a, b).confidence_interval(0.95) with a = [6,7,5,9,8]/100, b = [3,5,2,6,4]/100;
// Welch: mean difference ± stats.t.ppf(0.975, df) * se with Satterthwaite's df (checked against
// stats.ttest_ind(c, b, equal_var=False).statistic); the log ratio: u = (a − ā)/ā − (b − b̄)/b̄,
// (ā/b̄) * exp(± stats.t.ppf(0.975, 4) * u.std(ddof=1) / sqrt(5)); unequal exposures:
// r = (y − R x)/x̄ per side, R_a − R_b + stats.ttest_1samp(r_a − r_b, 0).confidence_interval().
TEST_CASE("compare statistics: t intervals on hand-made batch counts") {
  const double tol = 1e-9;
  Batches b = make({3, 5, 2, 6, 4}, {100, 100, 100, 100, 100}), a = make({6, 7, 5, 9, 8}, {100, 100, 100, 100, 100});
  TInterval d = paired_difference(b, a);
  CHECK(d.estimate == doctest::Approx(0.03).epsilon(tol));
  CHECK(d.df == 4);
  CHECK(d.ci.lo == doctest::Approx(0.021220109669149157).epsilon(tol));
  CHECK(d.ci.hi == doctest::Approx(0.038779890330850844).epsilon(tol));

  TInterval r = paired_log_ratio(b, a);
  CHECK(r.estimate == doctest::Approx(1.75).epsilon(tol));
  CHECK(r.ci.lo == doctest::Approx(1.3387061507904792).epsilon(tol));
  CHECK(r.ci.hi == doctest::Approx(2.2876566288962343).epsilon(tol));

  Batches c = make({2, 9, 4, 12, 3, 8}, {100, 100, 100, 100, 100, 100});
  TInterval w = welch_difference(b, c);
  CHECK(w.df == doctest::Approx(6.8076177463501635).epsilon(tol));
  CHECK(w.ci.lo == doctest::Approx(-0.01838952047181648).epsilon(tol));
  CHECK(w.ci.hi == doctest::Approx(0.06505618713848316).epsilon(tol));

  TInterval u = paired_difference(make({3, 5, 2, 6}, {90, 110, 100, 120}), make({7, 6, 5, 9}, {95, 105, 100, 110}));
  CHECK(u.estimate == doctest::Approx(0.02775842044134727).epsilon(tol));
  CHECK(u.ci.lo == doctest::Approx(0.008912960150106137).epsilon(tol));
  CHECK(u.ci.hi == doctest::Approx(0.04660388073258841).epsilon(tol));

  Comparison cmp = compare_batches(b, a, Measure::PerIteration);
  CHECK(cmp.significant);
  CHECK(cmp.ratio_ci.lo == doctest::Approx(r.ci.lo).epsilon(tol));
  CHECK(cmp.before_ci.hi == doctest::Approx(binomial_interval(20, 500).hi).epsilon(tol));
  CHECK_THROWS(paired_difference(make({1}, {10}), make({1}, {10})));
  CHECK_THROWS(paired_difference(b, c));  // unpaired sizes
}

TEST_CASE("compare statistics: zero hits on one or both sides") {
  Batches zero = make({0, 0, 0, 0}, {1000, 1000, 1000, 1000}), some = make({2, 1, 3, 2}, {1000, 1000, 1000, 1000});
  Comparison none = compare_batches(zero, zero, Measure::PerIteration, &zero);
  CHECK(none.note == "no hits on either side");
  CHECK_FALSE(none.significant);
  CHECK(std::isnan(none.ratio));
  // The difference lies between minus before's and plus after's exact upper bounds.
  double hi = binomial_interval(0, 4000).hi;
  CHECK(none.difference_ci.lo == doctest::Approx(-hi));
  CHECK(none.difference_ci.hi == doctest::Approx(hi));
  CHECK(none.difference_ci_independent.hi == doctest::Approx(hi));
  CHECK(std::isnan(none.crn_width_over_independent));

  Comparison up = compare_batches(zero, some, Measure::PerSecond);
  CHECK(std::isinf(up.ratio));
  CHECK(std::isinf(up.ratio_ci.hi));
  CHECK(up.ratio_ci.lo == doctest::Approx(poisson_rate_interval(8, 4000).lo / poisson_rate_interval(0, 4000).hi));
  CHECK(up.note.find("unbounded") != std::string::npos);
  CHECK(up.note.find("rough") != std::string::npos);  // 8 hits in all
  CHECK(up.sign_flip_p == doctest::Approx(2.0 / 16));  // 4 batches, all up: 2 of 16 sign patterns as far out
  CHECK_FALSE(up.significant);

  Comparison down = compare_batches(some, zero, Measure::PerIteration);
  CHECK(down.ratio == 0);
  CHECK(down.ratio_ci.lo == 0);
  CHECK(down.difference < 0);
}

TEST_CASE("compare statistics: with few hits, significance needs the exact sign-flip test too") {
  // Five batches with one hit before, none after: the t interval excludes 0, but 5 same-sign
  // differences are as extreme as 2 of the 2^5 sign patterns, p = 0.0625; six give p = 0.03125.
  auto batches = [](int hits) {
    Batches b = make(std::vector<double>(20, 0.0), std::vector<double>(20, 1e5));
    for (int k = 0; k < hits; ++k) b.num[size_t(k)] = 1;
    return b;
  };
  Batches none = batches(0);
  Comparison five = compare_batches(batches(5), none, Measure::PerIteration);
  CHECK(five.difference_ci.hi < 0);
  CHECK(five.sign_flip_p == doctest::Approx(0.0625));
  CHECK_FALSE(five.significant);
  Comparison six = compare_batches(batches(6), none, Measure::PerIteration);
  CHECK(six.sign_flip_p == doctest::Approx(0.03125));
  CHECK(six.significant);
  CHECK(sign_flip_p(none, none) == 1);
}

// --- The ratio of two cases, paired over replications that share seeds (run/ratio.hpp) ---

TEST_CASE("ratio of units: the estimate is the ratio of sums; a pair that moves together has a narrow interval") {
  std::vector<double> n(5, 1e6), a = {90, 110, 95, 105, 100}, b;
  for (double x : a) b.push_back(1.25 * x);  // b moves exactly with a: the paired interval has no width
  RatioEstimate e = ratio_of_units(a, n, b, n, true);
  CHECK(e.r == doctest::Approx(0.8));
  CHECK(e.ci.hi - e.ci.lo == doctest::Approx(0).epsilon(1e-12));
  CHECK(e.independent_ci.hi - e.independent_ci.lo > 0.05);
  CHECK(ratio_of_units(a, n, b, n, false).ci.hi == e.independent_ci.hi);  // unpaired: the same units, no cross term
  CHECK(!ratio_of_units({0, 0}, {1, 1}, {1, 1}, {1, 1}, true).why.empty());   // zero: no ratio
  CHECK(!ratio_of_units({3}, {1}, {1}, {1}, true).why.empty());               // one unit: no interval
}

TEST_CASE("ratio of units: 95% coverage of a known ratio, paired and independent, paired narrower") {
  // 2,000 simulated pairs of 20 replications: a shared Poisson part (the hits both cases see, as
  // common random numbers give them) plus each side's own; true ratio (30 + 10) / (30 + 20). The
  // binomial sd of a 95% coverage over 2,000 is 0.5%: 93.5..96.5% is three of them.
  Rng rng(2026, 12);
  auto poisson = [&](double mean) {
    int k = 0;
    for (double t = rng.exponential(1); t < mean; t += rng.exponential(1)) ++k;
    return double(k);
  };
  const double truth = 40.0 / 50.0;
  int paired_in = 0, indep_in = 0, narrower = 0;
  const int trials = 2000;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> a, b, n(20, 1000);
    for (int k = 0; k < 20; ++k) {
      double shared = poisson(30);
      a.push_back(shared + poisson(10)), b.push_back(shared + poisson(20));
    }
    RatioEstimate e = ratio_of_units(a, n, b, n, true);
    paired_in += e.ci.lo <= truth && truth <= e.ci.hi;
    indep_in += e.independent_ci.lo <= truth && truth <= e.independent_ci.hi;
    narrower += e.ci.hi - e.ci.lo < e.independent_ci.hi - e.independent_ci.lo;
  }
  MESSAGE("paired covers " << paired_in << ", independent " << indep_in << " of " << trials << "; paired narrower in " << narrower);
  CHECK(paired_in >= 1870);
  CHECK(paired_in <= 1930);
  CHECK(indep_in >= 1950);  // sides that move together: the independent interval is too wide
  CHECK(narrower >= 1990);
}

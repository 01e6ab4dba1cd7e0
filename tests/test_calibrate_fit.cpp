// racewin calibrate's fits recover what generated their input: duration laws by family (with the
// probe's truncation at its threshold), and stall processes from gap records drawn from known
// processes (renewal; periodic plus renewal; two periodic sources; Markov-modulated), written as
// profiles racewin reads. Every record here is drawn with a fixed seed, so each check is one draw;
// each tolerance is several standard errors of the estimate it bounds, stated beside it.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "base/rng.hpp"
#include "calibrate/fit_dist.hpp"
#include "calibrate/fits_json.hpp"
#include "calibrate/flush_fit.hpp"
#include "calibrate/profile_writer.hpp"
#include "calibrate/stall_fit.hpp"
#include "config/dist.hpp"
#include "config/profile_marks.hpp"
#include "calibrate_records.hpp"
#include "config/profiles.hpp"

using namespace racewin;
using namespace racewin::calibrate;
using namespace racewin::test;

TEST_CASE("gamma laws: samples have the law's mean and variance, and profiles state them") {
  Dist g = law("{gamma: {shape: 2.5, scale: 1us}}");
  Dist small = law("{gamma: {shape: 0.4, scale: 10us}}");
  CHECK(g.mean() == doctest::Approx(2500));
  for (const Dist* d : {&g, &small}) {
    Rng rng(3, 1);
    double s = 0, s2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
      double x = d->sample(rng);
      s += x, s2 += x * x;
    }
    double m = s / n, var = s2 / n - m * m;
    // Mean k*theta, variance k*theta^2; 200,000 draws: the mean's standard error is below 0.4%
    // of it for these shapes, so 2% is more than 5 of them.
    double k = d == &g ? 2.5 : 0.4, th = d == &g ? 1000 : 10000;
    CHECK(m == doctest::Approx(k * th).epsilon(0.02));
    CHECK(var == doctest::Approx(k * th * th).epsilon(0.06));
  }
}

TEST_CASE("a law's family is recovered, with its parameters, from values truncated at a threshold") {
  // 4,000 values above 1 us. Parameter tolerances: 5% on a median or scale and 8% on a shape or
  // sigma are about 4 standard errors at this n (the truncation removes at most a third of the mass).
  struct Case { const char* yaml; Family family; double a, b; };
  const Case cases[] = {
      {"{lognormal: {median: 3us, sigma: 0.6}}", Family::Lognormal, std::log(3000.0), 0.6},
      {"{gamma: {shape: 3, scale: 1.5us}}", Family::Gamma, 3, 1500},
      {"{weibull: {shape: 0.7, scale: 20us}}", Family::Weibull, 0.7, 20000},
      {"{exponential: {mean: 50us}}", Family::Exponential, 50000, 0},
  };
  uint64_t seed = 11;
  for (const Case& c : cases) {
    INFO(c.yaml);
    LawFit f = fit_law(draws(law(c.yaml), 4000, 1000, seed++), 1000);
    CHECK(f.best().family == c.family);
    CHECK(f.best().converged);
    CHECK(f.parametric_fits());  // its KS distance is within the 5% bound
    const FamilyFit& b = f.best();
    if (c.family == Family::Lognormal) {
      CHECK(std::exp(b.a) == doctest::Approx(std::exp(c.a)).epsilon(0.05));
      CHECK(b.b == doctest::Approx(c.b).epsilon(0.08));
    } else if (c.family == Family::Exponential) {
      CHECK(b.a == doctest::Approx(c.a).epsilon(0.05));  // memoryless: the excess over 1 us
    } else {
      CHECK(b.a == doctest::Approx(c.a).epsilon(0.08));
      CHECK(b.b == doctest::Approx(c.b).epsilon(0.08));
    }
    // The law a profile takes reads back as the family fitted.
    Dist back = law(f.yaml().c_str());
    CHECK(back.mean() > 0);
  }
}

TEST_CASE("a mixture no family fits is stated as its empirical law") {
  // Half at ~2 us, half at ~200 us: every single family misses by far more than the KS bound.
  auto a = draws(law("{lognormal: {median: 2us, sigma: 0.1}}"), 2000, 0, 5);
  auto b = draws(law("{lognormal: {median: 200us, sigma: 0.1}}"), 2000, 0, 6);
  a.insert(a.end(), b.begin(), b.end());
  LawFit f = fit_law(a, 0, 32);
  CHECK_FALSE(f.parametric_fits());
  CHECK(f.yaml().rfind("{empirical: [", 0) == 0);
  Dist e = law(f.yaml().c_str());
  CHECK(e.mean() == doctest::Approx(101000).epsilon(0.05));
}

TEST_CASE("a renewal record: its rate, running-time and length laws come back") {
  Dist running = law("{exponential: {mean: 20ms}}"), length = law("{lognormal: {median: 150us, sigma: 0.8}}");
  std::vector<GapRecord> recs = {synthetic(60, 0, 0, nullptr, running, length, 1000, 1),
                                 synthetic(60, 0, 0, nullptr, running, length, 1000, 2)};
  StallFit f = fit_stalls(recs, {}, 1000, 4e6);
  CHECK_FALSE(f.tick.found);
  // ~6,000 gaps in 120 s: the rate's standard error is 1.3%; 5% is about 4 of them.
  CHECK(f.rest.rate_per_s == doctest::Approx(1e9 / (20e6 + 203e3)).epsilon(0.05));
  REQUIRE(f.rest.running);
  REQUIRE(f.rest.length);
  CHECK(f.rest.running->best().family == Family::Exponential);
  CHECK(f.rest.running->best().a == doctest::Approx(20e6).epsilon(0.05));
  CHECK(f.rest.length->best().family == Family::Lognormal);
  CHECK(f.rest.length->best().median() == doctest::Approx(150e3).epsilon(0.05));
  CHECK(f.rest.cv == doctest::Approx(1).epsilon(0.1));
  CHECK_FALSE(f.rest.bursty);
  CHECK(std::fabs(f.rest.lag1) < 0.05);
}

TEST_CASE("periodic plus renewal: the tick's period, phase and lengths are separated from the rest") {
  // HZ=250 (4 ms) with lengths ~3 us, plus a renewal process of rarer, longer stalls, on 2 CPUs
  // with different phases, 20 s each (as the probe spins).
  Dist tick = law("{lognormal: {median: 3us, sigma: 0.3}}");
  Dist running = law("{exponential: {mean: 50ms}}"), length = law("{weibull: {shape: 0.8, scale: 40us}}");
  std::vector<GapRecord> recs = {synthetic(20, 4.000004e6, 1.234e6, &tick, running, length, 1000, 7),
                                 synthetic(20, 4.000004e6, 3.1e6, &tick, running, length, 1000, 8)};
  for (double hint : {4e6, 0.0}) {  // with HZ from the kernel's config, and searched for
    INFO("hint " << hint);
    StallFit f = fit_stalls(recs, {}, 1000, hint);
    REQUIRE(f.tick.found);
    // The period to 1 ns in 4 ms: 5,000 periods a record give the phase slope to well under that.
    CHECK(f.tick.period_ns == doctest::Approx(4.000004e6).epsilon(2.5e-7));
    CHECK(std::fabs(f.tick.phase_ns[0] - 1.234e6) < 500);
    CHECK(std::fabs(f.tick.phase_ns[1] - 3.1e6) < 500);
    // Every tick shows (3 us > 1 us); a handful of the rest fall in the window by chance.
    CHECK(double(f.tick.gaps) == doctest::Approx(f.tick.expected).epsilon(0.01));
    REQUIRE(f.tick.length);
    CHECK(f.tick.length->best().family == Family::Lognormal);
    CHECK(f.tick.length->best().median() == doctest::Approx(3000).epsilon(0.03));
    // The rest: ~800 gaps; rate within 10% (3.5 standard errors), the length law's family and scale.
    CHECK(f.rest.rate_per_s == doctest::Approx(1e9 / (50e6 + 45e3)).epsilon(0.1));
    REQUIRE(f.rest.length);
    CHECK(f.rest.length->best().family == Family::Weibull);
    CHECK(f.rest.length->best().b == doctest::Approx(40e3).epsilon(0.15));
  }
}

TEST_CASE("two periodic sources and the rest: a host's 1 kHz source with its own clock is found after the tick") {
  const StallFit& f = two_sources_fit();
  REQUIRE(f.tick.found);
  CHECK(f.tick.period_ns == doctest::Approx(4e6).epsilon(1e-6));
  REQUIRE(f.other_periodic.size() == 1);
  const PeriodicFit& h = f.other_periodic[0];
  CHECK(h.period_ns == doctest::Approx(1.000006e6).epsilon(1e-6));
  // Nearly every period shows (a few host gaps fall inside a tick's and are not seen).
  CHECK(double(h.gaps) > 0.97 * h.expected);
  REQUIRE(h.length);
  CHECK(h.length->best().median() == doctest::Approx(30e3).epsilon(0.03));
  // The rest: ~8,000 gaps at ~200/s; its lengths' median within 5% (about 4 standard errors).
  CHECK(f.rest.rate_per_s == doctest::Approx(200).epsilon(0.1));
  REQUIRE(f.rest.length);
  CHECK(f.rest.length->best().median() == doctest::Approx(6e3).epsilon(0.05));
}

// Records spun one after another have their own phases. Gaps that follow the tick at an offset
// (its softirq's, say) pull each record's circular mean of starts off the tick's phase, by a
// different amount in each record: a fit that corrected every record by one pooled offset found
// the tick in only one of the two (the development machine's probe file of 22:37).
TEST_CASE("each record's phase is its own: gaps following the tick at another offset in each record do not pull it") {
  Dist tick = law("{lognormal: {median: 30us, sigma: 0.2}}"), after = law("{fixed: 3us}");
  std::vector<GapRecord> recs;
  for (uint64_t seed : {31, 32}) {
    // The tick, then in 80% of periods a gap 100 us (one record) or 300 us (the other) after it.
    GapRecord a = synthetic(20, 4e6, 1.3e6 * double(seed - 30), &tick, law("{exponential: {mean: 5ms}}"),
                            law("{lognormal: {median: 6us, sigma: 0.5}}"), 1000, seed);
    Rng rng(seed, 9);
    std::vector<std::pair<double, double>> g;
    const double offset = seed == 31 ? 100e3 : 300e3;
    for (double t = 1.3e6 * double(seed - 30) + offset; t < 20e9; t += 4e6)
      if (rng.uniform() < 0.8) g.push_back({t + 2000 * rng.normal(), after.sample(rng)});
    recs.push_back(merged(a, g));
  }
  StallFit f = fit_stalls(recs, {}, 1000, 4e6);
  REQUIRE(f.tick.found);
  CHECK(double(f.tick.gaps) > 0.95 * f.tick.expected);
}

TEST_CASE("a Markov-modulated record is found bursty, a renewal one is not") {
  // Two states switching every ~50 ms on average: stalls every 100 us in one, every 10 ms in the
  // other. Successive running times are then alike (lag-1 correlation far above 3 / sqrt(n)).
  Rng rng(9, 1);
  GapRecord r;
  r.spun_ns = 10e9;
  bool busy = false;
  double t = 0, switch_at = rng.exponential(50e6);
  while (t < r.spun_ns) {
    double run = rng.exponential(busy ? 1e5 : 1e7);
    t += run;
    while (t > switch_at) busy = !busy, switch_at += rng.exponential(50e6);
    double l = 5000 * std::exp(0.3 * rng.normal());
    r.start.push_back(t), r.len.push_back(l);
    t += l;
  }
  StallFit f = fit_stalls({r}, {}, 1000, 4e6);
  CHECK_FALSE(f.tick.found);
  CHECK(f.rest.bursty);
  // About 100,000 pairs: lag-1's standard error under a renewal process is 0.003; the states'
  // alternation gives about 0.1 (its share of the log running times' variance).
  CHECK(f.rest.lag1 > 0.05);
  CHECK(f.rest.cv > 2);  // a mixture of two exponentials is more variable than one
}

// The QQ data (fits.json): the chosen family's quantiles of the law truncated at the threshold. For
// values drawn from that family they follow the measured quantiles; for a wrong family they do not.
TEST_CASE("a fit's quantiles for QQ plots: the right family follows the values, a wrong one does not") {
  std::vector<double> v = draws(law("{lognormal: {median: 10us, sigma: 0.5}}"), 5000, 1000, 41);
  LawFit f = fit_law(v, 1000);
  REQUIRE(f.best().family == Family::Lognormal);
  double worst = 0;
  for (size_t i = 0; i < f.quantiles.size(); ++i)
    worst = std::max(worst, std::fabs(fitted_quantile(f, (double(i) + 0.5) / double(f.quantiles.size())) / f.quantiles[i] - 1));
  // 5,000 values: the outer quantiles (1/128 from either end) carry a few percent of noise.
  CHECK(worst < 0.08);
  // The same values, the exponential law forced first: its upper quantiles are far off.
  std::stable_sort(f.families.begin(), f.families.end(), [](const FamilyFit& a, const FamilyFit&) { return a.family == Family::Exponential; });
  REQUIRE(f.best().family == Family::Exponential);
  CHECK(fitted_quantile(f, (63 + 0.5) / 64) / f.quantiles.back() > 1.2);
}

// A Markov-modulated record drawn from the model's own shape (a chain over the stalls picks each
// running time's lognormal law): Baum-Welch gives back the states and the chain, and the written
// profile states them as model: markov_modulated, which racewin reads.
TEST_CASE("a Markov-modulated record: the states' laws and the chain come back, and are written") {
  Dist fast = law("{lognormal: {median: 50us, sigma: 0.5}}"), slow = law("{lognormal: {median: 5ms, sigma: 0.5}}");
  Dist length = law("{lognormal: {median: 6us, sigma: 0.4}}");
  const double p01 = 0.02, p10 = 0.2;  // a burst lasts 50 stalls on average, a quiet spell 5
  std::vector<GapRecord> recs;
  for (uint64_t seed : {51, 52}) {
    Rng rng(seed, 1);
    GapRecord r;
    r.spun_ns = 20e9;
    int state = 0;
    for (double t = 0;;) {
      t += (state == 0 ? fast : slow).sample(rng);
      double l = length.sample(rng);
      if (t + l > r.spun_ns) break;
      if (l > 1000) r.start.push_back(t), r.len.push_back(l);
      t += l;
      if (rng.uniform() < (state == 0 ? p01 : p10)) state = 1 - state;
    }
    recs.push_back(r);
  }
  StallFit f = fit_stalls(recs, {}, 1000, 4e6);
  REQUIRE(f.rest.bursty);
  REQUIRE(f.rest.mm);
  const MmFit& m = *f.rest.mm;
  CHECK(m.better());
  // About 2 x 90,000 running times, 90% of them fast: each state's median within 2% (its
  // standard error is under 0.3% for the fast state and under 1% for the slow one), sigma within
  // 3%, the chain's moves within 10% (about 1,600 of each kind: a standard error of 2.5%).
  CHECK(std::exp(m.mu[0]) == doctest::Approx(50e3).epsilon(0.02));
  CHECK(std::exp(m.mu[1]) == doctest::Approx(5e6).epsilon(0.02));
  CHECK(m.sigma[0] == doctest::Approx(0.5).epsilon(0.03));
  CHECK(m.sigma[1] == doctest::Approx(0.5).epsilon(0.03));
  CHECK(m.transitions[0][1] == doctest::Approx(p01).epsilon(0.1));
  CHECK(m.transitions[1][0] == doctest::Approx(p10).epsilon(0.1));
  Probe p;
  p.name = "mm", p.date = "2026-12-05T00:00:00Z", p.arch = "x86_64", p.probe_version = "1.0", p.threshold_ns = 1000;
  HypervisorProfile h = parse_hypervisor(CNode::parse(write_profiles(p, f, "probe.json").hypervisor, "hypervisor.yaml"));
  REQUIRE(h.steal.size() == 1);
  CHECK(h.steal[0].kind == StealProcess::Kind::MarkovModulated);
  REQUIRE(h.steal[0].state_interarrival.size() == 2);
  CHECK(h.steal[0].state_interarrival[0].mean() == doctest::Approx(50e3 * std::exp(0.125)).epsilon(0.05));
  CHECK(h.steal[0].stationary[0] == doctest::Approx(p10 / (p01 + p10)).epsilon(0.05));
  // A renewal record is not bursty, and no chain is fitted to it.
  GapRecord plain = synthetic(20, 4e6, 0, nullptr, law("{exponential: {mean: 200us}}"), length, 1000, 53);
  CHECK_FALSE(fit_stalls({plain}, {}, 1000, 4e6).rest.mm);
}

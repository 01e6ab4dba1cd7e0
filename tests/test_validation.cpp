// The validation scenarios (configs/validation/, docs/validation.md): cases whose answer is known
// in closed form, every duration exponential or zero. The simulation's 95% intervals must contain
// the closed forms, computed here from the parameters as the scenario files give them; and over
// many seeds the Clopper-Pearson interval must cover the true p about as often as it claims.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/stats.hpp"
#include "config/scenario.hpp"
#include "exact/exact.hpp"
#include "run/run.hpp"
#include "validation_helpers.hpp"

using namespace racewin;
using namespace testing;

namespace {

// racewin exact's long-run P(an iteration is hit) for hazard `name`.
double exact_p(const CaseConfig& c, const std::string& name) {
  ExactResult r = solve_chain(build_chain(c, {}), 1);
  for (const auto& h : r.hazards)
    if (h.name == name) return h.p_iteration;
  FAIL("no hazard " << name);
  return 0;
}
bool close_to(double x, double y) { return std::abs(x / y - 1) < 1e-9; }

CaseResult run(const CaseConfig& c) {
  RunControl ctl;
  CaseResult r = run_case(c, EngineKind::Native, ctl);
  REQUIRE(r.failure.empty());
  return r;
}
const HazardResult& hazard(const CaseResult& r, const std::string& name) {
  for (const auto& h : r.hazards)
    if (h.name == name) return h;
  FAIL("no hazard " << name);
  throw std::logic_error("unreachable");
}
const WindowResult& window(const CaseResult& r, const std::string& name) {
  for (const auto& w : r.windows)
    if (w.stats.name == name) return w;
  FAIL("no window " << name);
  throw std::logic_error("unreachable");
}
bool contains(const Interval& i, double x) { return i.lo <= x && x <= i.hi; }

bool memoryless(const Dist& d) { return d.kind() == Dist::Kind::Exponential || d.is_zero(); }

std::vector<std::string> scenario_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(kDir))
    if (e.is_regular_file() && e.path().extension() == ".yaml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("validation scenarios: every duration is exponential or zero, as racewin exact needs") {
  auto files = scenario_files();
  CHECK(files.size() >= 4);
  for (const auto& f : files) {
    Scenario s = load_scenario(f, {});
    if (f == kDir + "stall_tick.yaml") {  // a periodic tick, against its own closed form (test_rare_tick.cpp)
      for (const auto& c : s.cases) CHECK(c.hypervisor.interrupts.at(0).aligned);
      continue;
    }
    for (const auto& c : s.cases) {
      INFO(f << " case " << c.name);
      CHECK(c.vcpus <= 3);
      CHECK(c.pages <= 8);
      for (size_t i = 0; i < c.costs.size(); ++i) {
        INFO("cost " << c.cost_names[i] << " = " << c.costs[i].describe());
        CHECK(memoryless(c.costs[i]));
      }
      for (const Dist* d : {&c.arch.ipi_latency, &c.arch.ipi_handler, &c.arch.ipi_ack_latency,
                            &c.hypervisor.ipi_extra_latency, &c.hypervisor.ipi_target_exit}) {
        INFO("IPI " << d->describe());
        CHECK(memoryless(*d));
      }
      for (const auto* list : {&c.arch.interrupts, &c.hypervisor.interrupts})
        for (const auto& src : *list) {
          INFO("interrupt source " << src.name);
          CHECK(memoryless(src.interarrival));
          CHECK(memoryless(src.handler));
          CHECK(memoryless(src.softirq));
          CHECK(!src.aligned);
          CHECK(src.first < 0);
        }
      for (const auto& [name, d] : c.hypervisor.irq_extra) CHECK(memoryless(d));
      for (const auto& p : c.hypervisor.steal) {
        INFO("steal source " << p.name);
        CHECK(p.kind == StealProcess::Kind::Renewal);
        CHECK(p.interarrival.kind() == Dist::Kind::Exponential);
        CHECK(memoryless(p.duration));
      }
      // No fixed spin loop (pv_qspinlock's threshold, the s390 locks' spin_retry).
      CHECK(c.lock.spin_retry == 0);
      CHECK(c.lock.spin_threshold == 0);
      CHECK(!c.lock.s390());
    }
  }
}

TEST_CASE("validation competing_clocks: P(A first) = a/(a+b), one hit at most per race") {
  Scenario s = load_scenario(kDir + "competing_clocks.yaml", {});
  const CaseConfig& c = the_case(s, "a_half_b_one");
  double a = cost_rate(c, "clock_a"), b = cost_rate(c, "clock_b");
  double p = a / (a + b);
  CHECK(close_to(exact_p(c, "window:race"), p));
  CaseResult r = run(c);
  const HazardResult& h = hazard(r, "window:race");
  MESSAGE("competing clocks: p = " << p << ", simulated " << h.p << " [" << h.p_ci.lo << ", " << h.p_ci.hi << "] over "
                                   << r.iterations << " races");
  CHECK(r.iterations == c.limits.iterations);
  CHECK(contains(h.p_ci, p));
  CHECK(contains(window(r, "race").p_hit_ci, p));
  // The gate makes the hitter wait for the end of the race: events and hit races are the same.
  CHECK(h.count == h.iterations_hit);
  CHECK(window(r, "race").stats.hit == h.iterations_hit);
}

TEST_CASE("validation poisson_window: P(hit) = lam/(lam+mu), while events per window are lam/mu") {
  Scenario s = load_scenario(kDir + "poisson_window.yaml", {});
  for (const std::string name : {"lam_over_mu_one_third", "issue_example"}) {
    const CaseConfig& c = the_case(s, name);
    double mu = cost_rate(c, "window_length"), lam = cost_rate(c, "hit_gap");
    double p = lam / (lam + mu);
    INFO("case " << name);
    CHECK(close_to(exact_p(c, "window:race"), p));
    CaseResult r = run(c);
    const HazardResult& h = hazard(r, "window:race");
    const WindowResult& w = window(r, "race");
    MESSAGE("poisson window " << name << ": p = " << p << ", simulated " << h.p << " [" << h.p_ci.lo << ", "
                              << h.p_ci.hi << "]; events per iteration " << double(h.count) / double(r.iterations)
                              << " (lam/mu = " << lam / mu << ")");
    REQUIRE(r.iterations == c.limits.iterations);
    CHECK(contains(h.p_ci, p));
    CHECK(contains(w.p_hit_ci, p));
    CHECK(w.stats.hit == h.iterations_hit);  // one window per iteration
    // Hits per window are geometric: P(N = k) = (1 - q) q^k with q = p, mean lam/mu and variance
    // (lam/mu)(1 + lam/mu). The mean over the windows, against a 99.9% normal interval.
    double m = lam / mu, n = double(w.stats.closed);
    double sd = std::sqrt(m * (1 + m) / n);
    CHECK(std::abs(double(h.count) / n - m) < 3.29 * sd);
    // Window lengths are exponential (mean 1/mu, nothing stalls the owner): the share of windows
    // in each length bin against exp(-mu a) - exp(-mu b), within a 99.9% binomial interval.
    uint64_t binned = 0;
    for (size_t k = 0; k < w.stats.length_hist.size(); ++k) {
      binned += w.stats.length_hist[k];
      double a = WindowStats::bin_edge(k), b = k + 1 < w.stats.length_hist.size() ? WindowStats::bin_edge(k + 1) : INFINITY;
      double q = std::exp(-mu * a) - std::exp(-mu * b);
      CHECK_MESSAGE(std::abs(double(w.stats.length_hist[k]) / n - q) < 3.29 * std::sqrt(q * (1 - q) / n) + 1e-12,
                    "length bin [", a, ", ", b, ") ns");
    }
    CHECK(binned == w.stats.closed);
    CHECK(WindowStats::length_bin(0.5) == 0);
    CHECK(WindowStats::length_bin(1) == 1);
    CHECK(WindowStats::length_bin(999.9) == 12);  // [10^2.75, 10^3) ns
    CHECK(WindowStats::length_bin(1000) == 13);
    CHECK(WindowStats::length_bin(1e12) == w.stats.length_hist.size() - 1);  // longer than 1 s
    if (name == "lam_over_mu_one_third") {
      // The old estimator, events / iterations with a binomial interval, excludes the true p.
      Interval old = binomial_interval(h.count, r.iterations);
      MESSAGE("old estimator: " << double(h.count) / double(r.iterations) << " [" << old.lo << ", " << old.hi << "]");
      CHECK(!contains(old, p));
      CHECK(h.p_ci.hi < old.lo);
    }
  }
}

TEST_CASE("validation steal_window: first-step analysis of a window on a stolen vCPU") {
  Scenario s = load_scenario(kDir + "steal_window.yaml", {});
  const CaseConfig& c = the_case(s, "steal_5_of_7");
  REQUIRE(c.hypervisor.steal.size() == 1);
  const StealProcess& sp = c.hypervisor.steal[0];
  CHECK(sp.vcpus == std::vector<int>{0});  // only the window's vCPU is stolen
  CHECK(c.threads[size_t(c.count_thread)].vcpu == 0);
  double mu = cost_rate(c, "window_length"), lam = cost_rate(c, "hit_gap");
  double sigma = rate_of(sp.interarrival, "steal interarrival"), rho = rate_of(sp.duration, "steal duration");
  // R: open and running (close mu, steal sigma, hit lam); S: open and stolen (unsteal rho, hit lam).
  // P_R = (lam + sigma P_S)/(lam + mu + sigma), P_S = (lam + rho P_R)/(lam + rho).
  double p = lam * (lam + rho + sigma) / (lam * (lam + rho + mu + sigma) + mu * rho);
  CHECK(close_to(exact_p(c, "window:race"), p));
  CaseResult r = run(c);
  const HazardResult& h = hazard(r, "window:race");
  const WindowResult& w = window(r, "race");
  MESSAGE("steal window: p = " << p << ", simulated " << h.p << " [" << h.p_ci.lo << ", " << h.p_ci.hi << "] over "
                               << r.iterations << " windows; without steal it would be " << lam / (lam + mu));
  REQUIRE(r.iterations == c.limits.iterations);
  CHECK(contains(h.p_ci, p));
  CHECK(contains(w.p_hit_ci, p));
  CHECK(!contains(h.p_ci, lam / (lam + mu)));  // steal matters here
  // A window is stretched by steal iff a steal starts before it closes: sigma / (sigma + mu).
  double n = double(w.stats.closed);
  Interval stretched = binomial_interval(w.stats.stretched_by_steal, w.stats.closed);
  CHECK(contains(stretched, sigma / (sigma + mu)));
  // Its length L = T + the steals started in T, T ~ exp(mu), Poisson(sigma T) steals ~ exp(rho):
  // E[L] = (1 + sigma/rho)/mu, Var L = (1 + sigma/rho)^2/mu^2 + 2 sigma/(mu rho^2).
  double el = (1 + sigma / rho) / mu, var = el * el + 2 * sigma / (mu * rho * rho);
  double mean_len = w.stats.length_sum / n;
  MESSAGE("steal window: mean length " << mean_len << " ns (closed form " << el << "), stretched "
                                       << double(w.stats.stretched_by_steal) / n << " (" << sigma / (sigma + mu) << ")");
  CHECK(std::abs(mean_len - el) < 3.29 * std::sqrt(var / n));
}

TEST_CASE("validation spinlock_handoff: runs on both lock models, hits only inside the window") {
  // No closed form (racewin exact gives the value, docs/validation.md); here the run must end
  // cleanly and count one window per iteration of holder, so that P(window hit) = P(hit).
  Scenario s = load_scenario(kDir + "spinlock_handoff.yaml", {});
  REQUIRE(s.cases.size() == 2);
  for (CaseConfig c : s.cases) {
    INFO("case " << c.name);
    c.limits.iterations = 100000;
    CaseResult r = run(c);
    const HazardResult& h = hazard(r, "window:after_unlock");
    const WindowResult& w = window(r, "after_unlock");
    double exact = exact_p(c, "window:after_unlock");
    MESSAGE("spinlock_handoff " << c.name << ": P(hit) " << h.p << " [" << h.p_ci.lo << ", " << h.p_ci.hi
                                << "], exact " << exact);
    CHECK(contains(h.p_ci, exact));
    CHECK(r.iterations == 100000);
    CHECK(w.stats.closed == r.iterations);
    CHECK(w.stats.hit == h.iterations_hit);
    CHECK(h.iterations_hit > 0);
    CHECK(w.stats.stretched_by_steal > 0);
  }
  CHECK(s.cases[0].lock.kind == LockModel::Kind::Fifo);
  CHECK(s.cases[1].lock.kind == LockModel::Kind::Tas);
}

// The 95% Clopper-Pearson interval is conservative: it covers p with probability at least 95%,
// here ~96% for n = 2,000 and p = 1/4. With 200 estimations the coverage is a binomial proportion
// with sd sqrt(0.95 x 0.05 / 200) = 1.5%, so 90% and 99% are about 3.3 and 2.6 sd from 95%: a
// correct interval passes (fixed seeds: the same 200 runs every time), while one that covers 85%
// or 100% of the time (e.g. one twice too wide) fails.
TEST_CASE("validation coverage: the 95% interval covers the true p in 90% to 99% of 200 estimations") {
  Scenario s = load_scenario(kDir + "poisson_window.yaml", {});
  CaseConfig c = the_case(s, "lam_over_mu_one_third");
  double mu = cost_rate(c, "window_length"), lam = cost_rate(c, "hit_gap");
  double p = lam / (lam + mu);
  c.limits.time_ns = 0;
  c.limits.iterations = 2000;
  const int runs = 200;
  int covered = 0, window_covered = 0, old_covered = 0;
  for (int k = 0; k < runs; ++k) {
    c.seed = uint64_t(10000 + k);
    CaseResult r = run(c);
    REQUIRE(r.iterations == 2000);
    const HazardResult& h = hazard(r, "window:race");
    covered += contains(h.p_ci, p);
    window_covered += contains(window(r, "race").p_hit_ci, p);
    old_covered += contains(binomial_interval(h.count, r.iterations), p);
  }
  double cov = double(covered) / runs;
  MESSAGE("coverage of p = " << p << " by the 95% CP interval over " << runs << " runs of 2000 iterations: " << cov
                             << " (P(window hit): " << double(window_covered) / runs
                             << "; the old events/iterations interval: " << double(old_covered) / runs << ")");
  CHECK(cov >= 0.90);
  CHECK(cov <= 0.99);
  CHECK(window_covered == covered);  // one window per iteration: the same estimate
  CHECK(double(old_covered) / runs < 0.5);  // events / iterations misses p (it estimates lam/mu)
}

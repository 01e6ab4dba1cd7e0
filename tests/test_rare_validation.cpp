// Rare-event validation scenarios (configs/validation/stall_steal.yaml, stall_irq.yaml;
// docs/validation.md): a window hit only if its vCPU is stalled inside it, by steal or by an
// interrupt handler, with P(window hit) near 1e-6, 1e-9 and 1e-12. racewin exact's value must equal
// the first-step closed form of each file's header, computed here from the parameters read back
// from the case. Also racewin exact at such scales: steal_window.yaml with a hit rate of 1e-16 per
// ns (its mean time to the first hazard used to fail the whole case), and a from-the-start system
// that cannot be solved leaves the long-run figures standing with a note.
#include <doctest/doctest.h>

#include <cmath>
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

// The hitter's stages: its `work: hitter_stage` steps.
int stages(const CaseConfig& c) {
  int k = 0;
  for (const auto& t : c.threads)
    if (t.name == "hitter")
      for (const auto& s : t.path.steps) k += s.op == Op::Work && s.cost_name == "hitter_stage";
  return k;
}

const ExactHazard& hazard(const ExactResult& r, const std::string& name) {
  for (const auto& h : r.hazards)
    if (h.name == name) return h;
  FAIL("no hazard " << name);
  return r.hazards.front();
}

double rel(double x, double y) { return std::abs(x / y - 1); }

// stall_steal.yaml: m stages left; R open and running (close mu, steal sigma, stage nu), S open
// and stolen (unsteal rho, stage nu). (nu+mu+sigma) R(m) = nu R(m-1) + sigma S(m),
// (nu+rho) S(m) = nu S(m-1) + rho R(m), R(0) = S(0) = 1; solved for R(m) without subtraction.
long double steal_closed_form(long double mu, long double nu, long double sigma, long double rho, int k) {
  long double r = 1, s = 1;
  for (int m = 1; m <= k; ++m) {
    long double r2 = nu * ((nu + rho) * r + sigma * s) / ((nu + mu) * (nu + rho) + sigma * nu);
    s = (nu * s + rho * r2) / (nu + rho);
    r = r2;
  }
  return r;
}

// stall_irq.yaml: R open and running, H0 in the handler with none pending, H1 with one pending
// (arrivals at sigma in the handler are coalesced with it).
//   (nu+mu+sigma) R = nu R' + sigma H0,  (nu+rho+sigma) H0 = nu H0' + rho R + sigma H1,
//   (nu+rho) H1 = nu H1' + rho H0  (' : one stage more left over).
long double irq_closed_form(long double mu, long double nu, long double sigma, long double rho, int k) {
  long double r = 1, h0 = 1, h1 = 1;
  for (int m = 1; m <= k; ++m) {
    long double d = (nu + rho) * (nu + rho) + sigma * nu;
    long double a = nu * ((nu + rho) * h0 + sigma * h1) / d;
    long double r2 = (nu * r + sigma * a) / (nu + mu + sigma * nu * (nu + rho + sigma) / d);
    long double h02 = a + (nu + rho) * rho * r2 / d;
    h1 = (nu * h1 + rho * h02) / (nu + rho);
    h0 = h02, r = r2;
  }
  return r;
}

struct Band {
  std::string name;
  double lo, hi;
};

// Checks each case of a stall scenario against its closed form, and that the closed form puts it
// where its name says; `closed` gets (mu, nu, sigma, rho, k) of the case.
template <class Closed, class Stall>
void check_stall(const std::string& file, const std::vector<Band>& bands, Closed closed, Stall stall) {
  Scenario s = load_scenario(kDir + file, {});
  CHECK(s.cases.size() == bands.size());
  for (const Band& b : bands) {
    const CaseConfig& c = the_case(s, b.name);
    INFO(file << " case " << b.name);
    CHECK(c.threads[size_t(c.count_thread)].name == "owner");
    CHECK(c.threads[size_t(c.count_thread)].vcpu == 0);
    const int k = stages(c);
    CHECK(k == 6);
    double mu = cost_rate(c, "window_length"), nu = cost_rate(c, "hitter_stage");
    auto [sigma, rho] = stall(c);
    double p = double(closed(mu, nu, sigma, rho, k));
    double p0 = double(closed(mu, nu, 0, rho, k));  // no stall: the stages inside one window
    CHECK(std::abs(p0 / double(std::pow((long double)nu / (nu + mu), k)) - 1) < 1e-12);
    CHECK(p0 / p < 1e-13);  // a hit needs the stall
    CHECK(p >= b.lo);
    CHECK(p <= b.hi);
    ExactResult r = solve_chain(build_chain(c, {}), 1);
    const ExactHazard& h = hazard(r, "window:race");
    MESSAGE(file << " " << b.name << ": closed form " << p << ", racewin exact " << h.p_iteration << " (relative "
                 << rel(h.p_iteration, p) << ", " << r.states << " states, " << r.method << ", residual " << r.residual
                 << ")");
    CHECK(rel(h.p_iteration, p) < 1e-9);
    CHECK(rel(r.windows.at(0).p_hit, p) < 1e-9);  // one window per iteration
    // From the start the first window is a fresh one too.
    CHECK(rel(h.p_within_k, p) < 1e-9);
    CHECK(std::isfinite(h.mean_time_to_first_s));
    CHECK(h.mean_time_to_first_s > 0);
    CHECK(r.notes.empty());
  }
}

}  // namespace

TEST_CASE("rare validation stall_steal: a hit needs a steal inside the window; racewin exact = closed form") {
  check_stall(
      "stall_steal.yaml",
      {{"heavy", 1e-2, 1e-1}, {"heavy_4ms", 1e-2, 1e-1}, {"p1e-6", 5e-7, 2e-6}, {"p1e-9", 5e-10, 2e-9}, {"p1e-12", 5e-13, 2e-12}},
      steal_closed_form, [](const CaseConfig& c) {
        REQUIRE(c.hypervisor.steal.size() == 1);
        const StealProcess& sp = c.hypervisor.steal[0];
        CHECK(sp.vcpus == std::vector<int>{0});
        CHECK(c.arch.interrupts.empty());
        CHECK(c.hypervisor.interrupts.empty());
        return std::pair{rate_of(sp.interarrival, "steal interarrival"), rate_of(sp.duration, "steal duration")};
      });
}

TEST_CASE("rare validation stall_irq: a hit needs a handler inside the window; racewin exact = closed form") {
  check_stall(
      "stall_irq.yaml", {{"p1e-6", 5e-7, 2e-6}, {"p1e-9", 5e-10, 2e-9}, {"p1e-12", 5e-13, 2e-12}}, irq_closed_form,
      [](const CaseConfig& c) {
        CHECK(c.hypervisor.steal.empty());
        CHECK(c.arch.interrupts.empty());
        REQUIRE(c.hypervisor.interrupts.size() == 1);
        const IrqSource& src = c.hypervisor.interrupts[0];
        CHECK(src.vcpus == std::vector<int>{0});
        CHECK(src.softirq.is_zero());
        CHECK(c.hypervisor.irq_extra.empty());
        double sigma = rate_of(src.interarrival, "interrupt interarrival");
        double rho = rate_of(src.handler, "interrupt handler");
        CHECK(sigma / rho < 1.5);  // no storm of back-to-back handlers outside the windows
        return std::pair{sigma, rho};
      });
}

TEST_CASE("rare validation stall_irq: without coalescing the value would differ (the pending handler counts)") {
  // At p1e-6 a handler has an arrival during it about half the time; the closed form that ignores
  // the pending one (stall_steal's) is 4% lower, far outside the agreement asked for above.
  Scenario s = load_scenario(kDir + "stall_irq.yaml", {});
  const CaseConfig& c = the_case(s, "p1e-6");
  double mu = cost_rate(c, "window_length"), nu = cost_rate(c, "hitter_stage");
  double sigma = rate_of(c.hypervisor.interrupts[0].interarrival, "interarrival");
  double rho = rate_of(c.hypervisor.interrupts[0].handler, "handler");
  double with = double(irq_closed_form(mu, nu, sigma, rho, 6)), without = double(steal_closed_form(mu, nu, sigma, rho, 6));
  CHECK(rel(without, with) > 0.01);
}

TEST_CASE("rare validation stream_steal: a hit needs no stall, steal adds 0.5-5%; racewin exact = closed form") {
  // configs/validation/stream_steal.yaml: R open and running, S open and stolen; the stream hits
  // in both. (lam+mu+sigma) R = lam + sigma S, (lam+rho) S = lam + rho R.
  Scenario s = load_scenario(kDir + "stream_steal.yaml", {});
  struct Want {
    const char* name;
    double p, share;  // P as the file's header gives it, and steal's share of it
  };
  for (Want w : {Want{"p1e-6", 1.0497501418045775e-06, 0.047}, Want{"p1e-6_low", 1.0049741144041239e-06, 0.005},
                 Want{"p1e-9", 1.0049999739901e-09, 0.005}, Want{"p1e-9_high", 1.0499997488987505e-09, 0.048}}) {
    const CaseConfig& c = the_case(s, w.name);
    INFO(std::string(w.name));
    REQUIRE(c.hypervisor.steal.size() == 1);
    CHECK(c.hypervisor.steal[0].vcpus == std::vector<int>{0});
    long double mu = cost_rate(c, "window_length"), lam = cost_rate(c, "hit_gap");
    long double sigma = rate_of(c.hypervisor.steal[0].interarrival, "steal interarrival");
    long double rho = rate_of(c.hypervisor.steal[0].duration, "steal duration");
    double p = double(lam * (lam + rho + sigma) / ((lam + mu) * (lam + rho) + sigma * lam)), p0 = double(lam / (lam + mu));
    CHECK(rel(p, w.p) < 1e-12);
    CHECK((p - p0) / p == doctest::Approx(w.share).epsilon(0.03));
    ExactResult r = solve_chain(build_chain(c, {}), 1);
    MESSAGE(std::string(w.name) << ": closed form " << p << ", racewin exact " << r.windows.at(0).p_hit);
    CHECK(rel(hazard(r, "window:race").p_iteration, p) < 1e-9);
  }
}

TEST_CASE("rare validation stall_steal heavy: the simulation's 95% interval contains the exact value") {
  Scenario s = load_scenario(kDir + "stall_steal.yaml", {});
  const CaseConfig& c = the_case(s, "heavy");
  double exact = solve_chain(build_chain(c, {}), 1).windows.at(0).p_hit;
  RunControl ctl;
  CaseResult r = run_case(c, EngineKind::Native, ctl);
  REQUIRE(r.failure.empty());
  const HazardResult* h = nullptr;
  for (const auto& x : r.hazards)
    if (x.name == "window:race") h = &x;
  REQUIRE(h);
  MESSAGE("stall_steal heavy: exact " << exact << ", simulated " << h->p << " [" << h->p_ci.lo << ", " << h->p_ci.hi
                                      << "] over " << r.iterations << " windows, " << h->iterations_hit << " hit");
  CHECK(r.iterations == c.limits.iterations);
  CHECK(h->iterations_hit >= 300);
  CHECK(h->p_ci.lo <= exact);
  CHECK(exact <= h->p_ci.hi);
}

TEST_CASE("exact at 1e-12: steal_window with a hit every 9e6 s solves, from the start too") {
  // The stream hits at rate lam = 1/(9e6 s) = 1.1e-16 per ns against windows of 1 us: the mean
  // time to the first hazard system (rates 1e-3 and 1e-16 per ns) was refused by LU's residual
  // check ("did not solve (relative residual 0.00039)"), which failed the whole case.
  Scenario s = load_scenario(kDir + "steal_window.yaml", {{"arch.costs.hit_gap", "{exponential: {mean: 9000000s}}"}});
  const CaseConfig& c = the_case(s, "steal_5_of_7");
  double mu = cost_rate(c, "window_length"), lam = cost_rate(c, "hit_gap");
  const StealProcess& sp = c.hypervisor.steal.at(0);
  double sigma = rate_of(sp.interarrival, "steal interarrival"), rho = rate_of(sp.duration, "steal duration");
  long double L = lam, M = mu, S = sigma, R = rho;
  double p = double(L * (L + R + S) / (L * (L + R + M + S) + M * R));
  ExactResult r = solve_chain(build_chain(c, {}), 1);
  const ExactHazard& h = hazard(r, "window:race");
  MESSAGE("steal_window at 1/lam = 9e6 s: closed form " << p << ", racewin exact " << h.p_iteration << " (relative "
                                                        << rel(h.p_iteration, p) << "), mean time to first "
                                                        << h.mean_time_to_first_s << " s, " << r.method);
  CHECK(p < 1e-12);
  CHECK(rel(h.p_iteration, p) < 1e-9);
  CHECK(rel(r.windows.at(0).p_hit, p) < 1e-9);
  CHECK(rel(h.p_within_k, p) < 1e-9);  // the first window opens running, as every other
  // The window is always open (its steps cost nothing), so the first hazard is the stream's first
  // event: exponential of mean 1/lam.
  CHECK(rel(h.mean_time_to_first_s, 1e-9 / lam) < 1e-9);
  CHECK(r.notes.empty());
  CHECK(r.residual < 1e-12);
}

TEST_CASE("exact: a from-the-start system that cannot be solved leaves a note, not a failed case") {
  // A hand-made chain: state 0 goes to 1 with a hazard event; 1 and 2 swap forever, with no
  // iteration and no hazard. The long run is well defined (no hazard, no iteration); P(hit within
  // K iterations) has unknowns that never get absorbed (a singular system), and the mean time to
  // the first hazard is infinite (not every state can reach one).
  Chain c;
  c.hazards = {"h"};
  Chain::Reward none, hit;
  none.events = none.iterations_hit = {0};
  hit.events = {1};
  hit.iterations_hit = {0};
  c.rewards = {none, hit};
  c.row = {0, 1, 2, 3};
  c.trans = {{1, 1.0, 1}, {2, 1.0, 0}, {1, 2.0, 0}};
  ExactResult r = solve_chain(c, 1);
  REQUIRE(r.hazards.size() == 1);
  CHECK(r.hazards[0].p_iteration == 0);
  CHECK(r.hazards[0].events_per_s == 0);
  CHECK(std::isinf(r.hazards[0].mean_time_to_first_s));
  CHECK(std::isnan(r.hazards[0].p_within_k));
  REQUIRE(r.notes.size() == 1);
  MESSAGE(r.notes[0]);
  CHECK(r.notes[0].find("h: P(hit within the first K iterations) not computed") == 0);
}

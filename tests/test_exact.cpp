// The exact driver: closed forms to 1e-9, refusals, the state limit, and agreement with simulation.
#include <doctest/doctest.h>

#include "exact/exact.hpp"
#include "run/run.hpp"
#include "support.hpp"

using namespace racewin;
using namespace racewin::test;

namespace {

// W opens a window for an exponential time (mean 100 ns: "short"); H hits it at the end of each
// exponential gap (mean 1000 ns: "idle"), i.e. a Poisson stream.
CaseConfig poisson_window(const TempDir& d, const std::string& hyp = kBareMetal) {
  auto c = make_case(d, fixed_arch("broadcast", "direct"), hyp,
                     {{"w", "  - window_open: W\n  - work: short\n  - window_close: W\n"},
                      {"h", "  - work: idle\n  - window_hit: W\n"}},
                     2);
  make_exponential(c);
  return c;
}

const ExactHazard& hazard(const ExactResult& r, const std::string& name) {
  for (const auto& h : r.hazards)
    if (h.name == name) return h;
  FAIL("no hazard " << name);
  return r.hazards.front();
}

}  // namespace

TEST_CASE("exact: a window of exponential length hit by a Poisson stream: lam/(lam+mu)") {
  TempDir d;
  auto c = poisson_window(d);
  Chain chain = build_chain(c, {});
  ExactResult r = solve_chain(chain, 1);
  const double lam = 1 / 1000.0, mu = 1 / 100.0;
  const ExactHazard& h = hazard(r, "window:W");
  CHECK(std::abs(h.p_iteration / (lam / (lam + mu)) - 1) < 1e-9);
  CHECK(std::abs(r.windows.at(0).p_hit / (lam / (lam + mu)) - 1) < 1e-9);
  // Events per second:
  // W is always inside its window (opening and closing cost nothing), so every hit is an event.
  CHECK(std::abs(h.events_per_s / (lam * 1e9) - 1) < 1e-9);
  CHECK(std::abs(r.iterations_per_s / (mu * 1e9) - 1) < 1e-9);
  // From the start, the first iteration is a fresh race as well, and the first event comes after an
  // exponential time of mean 1/lam.
  CHECK(std::abs(h.p_within_k / (lam / (lam + mu)) - 1) < 1e-9);
  CHECK(std::abs(h.mean_time_to_first_s / (1e-9 / lam) - 1) < 1e-9);
  MESSAGE(r.states << " states, " << r.transitions << " transitions");
}

TEST_CASE("exact: P(hit within K iterations) = 1 - (1 - p)^K for independent races") {
  TempDir d;
  auto c = poisson_window(d);
  ExactResult r = solve_chain(build_chain(c, {}), 5);
  const double p = (1 / 1000.0) / (1 / 1000.0 + 1 / 100.0);
  CHECK(std::abs(hazard(r, "window:W").p_within_k / (1 - std::pow(1 - p, 5)) - 1) < 1e-9);
}

TEST_CASE("exact: windows on a vCPU with exponential steal, against first-step analysis") {
  TempDir d;
  // vCPU 0 is stolen at rate sigma while it runs, for an exponential time of rate rho.
  std::string hyp = "hypervisor: test\nsteal:\n  - {name: s, model: renewal, vcpus: [0], "
                    "interarrival: {exponential: {mean: 400ns}}, duration: {exponential: {mean: 2us}}}\n";
  auto c = poisson_window(d, hyp);
  ExactResult r = solve_chain(build_chain(c, {}), 1);
  const double lam = 1 / 1000.0, mu = 1 / 100.0, sigma = 1 / 400.0, rho = 1 / 2000.0;
  // x: P(the window closes unhit | open, running); y: the same, stolen. The window opens running.
  //   x = (mu + sigma y) / (mu + sigma + lam),  y = rho x / (rho + lam)
  double x = mu / (mu + sigma + lam - sigma * rho / (rho + lam));
  CHECK(std::abs(r.windows.at(0).p_hit / (1 - x) - 1) < 1e-9);
  CHECK(std::abs(hazard(r, "window:W").p_iteration / (1 - x) - 1) < 1e-9);
}

TEST_CASE("exact: the simulation's 95% interval contains the exact value") {
  TempDir d;
  std::string hyp = "hypervisor: test\nsteal:\n  - {name: s, model: renewal, vcpus: [0], "
                    "interarrival: {exponential: {mean: 400ns}}, duration: {exponential: {mean: 2us}}}\n";
  auto c = poisson_window(d, hyp);
  double exact = solve_chain(build_chain(c, {}), 1).windows.at(0).p_hit;
  c.limits = {0, 200000};  // iterations of w: a fixed seed
  RunControl ctl;
  CaseResult sim = run_case(c, EngineKind::Native, ctl);
  const HazardResult* h = nullptr;
  for (const auto& x : sim.hazards)
    if (x.name == "window:W") h = &x;
  REQUIRE(h);
  MESSAGE("exact " << exact << ", simulated " << h->p << " [" << h->p_ci.lo << ", " << h->p_ci.hi << "]");
  CHECK(h->p_ci.lo <= exact);
  CHECK(exact <= h->p_ci.hi);
  CHECK(sim.windows.at(0).p_hit_ci.lo <= exact);
  CHECK(exact <= sim.windows.at(0).p_hit_ci.hi);
}

TEST_CASE("exact: a fixed duration is refused, naming its step") {
  TempDir d;
  auto c = make_case(d, fixed_arch("broadcast", "direct"), kBareMetal,
                     {{"w", "  - window_open: W\n  - work: short\n  - window_close: W\n"}}, 1);
  try {
    build_chain(c, {});
    FAIL("not refused");
  } catch (const NotExponential& e) {
    std::string m = e.what();
    CHECK(m.find("cost 'short'") != std::string::npos);
    CHECK(m.find("of step 'short'") != std::string::npos);
    CHECK(m.find("w.yaml:4") != std::string::npos);
  }
}

TEST_CASE("exact: past --max-states the enumeration stops with the count reached") {
  TempDir d;
  auto c = poisson_window(d);
  ExactOptions o;
  o.max_states = 1;
  try {
    build_chain(c, o);
    FAIL("no limit");
  } catch (const StateLimit& e) {
    CHECK(e.states == 1);
  }
}

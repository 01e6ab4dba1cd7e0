// Sequential stopping: a run ends at a checkpoint when its rule is met, or when a budget is spent,
// at a point that depends on configuration and seed only. Fixed seeds; each case runs well under
// a second.
#include <doctest/doctest.h>

#include <sstream>

#include "output/output.hpp"
#include "run/run.hpp"
#include "support.hpp"

using namespace racewin;
using namespace racewin::test;

namespace {

// Thread w opens a window of ~10 ns every ~2 us; thread h (the counted one) looks into it once per
// ~1 us iteration: P(hit per iteration) is about 0.005, ~2 model events per iteration. Without
// `hit`, h never looks and window:win is a hazard with zero hits.
CaseConfig window_case(const TempDir& d, bool hit, const std::string& time = "1s") {
  std::string w = "  - window_open: win\n  - {work: short, cost: {exponential: {mean: 10ns}}}\n  - window_close: win\n"
                  "  - {work: idle, cost: {exponential: {mean: 2us}}}\n";
  std::string h = std::string("  - {work: long, cost: {exponential: {mean: 1us}}}\n") + (hit ? "  - window_hit: win\n" : "");
  CaseConfig c = make_case(d, fixed_arch("broadcast", "direct"), kBareMetal, {{"w", w}, {"h", h}});
  c.count_thread = 1;
  c.limits.time_ns = *parse_duration_ns(time);
  c.seed = 5;
  return c;
}

struct Run {
  CaseResult r;
  std::vector<StopCheck> checks;  // the rule at every checkpoint, in order
};

Run run_rule(const CaseConfig& c, const StoppingRule& rule, EngineKind engine = EngineKind::Native) {
  Run out;
  RunControl ctl;
  out.r = run_case(c, engine, ctl, {}, &rule, [&](const StopCheck& k) { out.checks.push_back(k); });
  return out;
}

const HazardResult& hazard(const CaseResult& r, const std::string& name) {
  for (const auto& h : r.hazards)
    if (h.name == name) return h;
  FAIL("no hazard " << name);
  return r.hazards.front();
}

}  // namespace

TEST_CASE("sequential: --rel-error stops at the first checkpoint where the half-width is within 10% of p") {
  TempDir d;
  StoppingRule rule;
  rule.rel_error = 0.1;
  rule.hazards = {"window:win"};
  Run x = run_rule(window_case(d, true), rule);
  REQUIRE(x.r.stopping);
  const Stopping& s = *x.r.stopping;
  CHECK(s.reason == "rel-error 0.1 reached");
  CHECK(s.rule.describe() == "rel-error 0.1");
  // At a checkpoint, and not the first: the rule was followed, not met by the first look.
  CHECK(s.events % kCheckpointEvents == 0);
  CHECK(s.events == x.r.events);
  CHECK(s.events > 2 * kCheckpointEvents);
  CHECK(x.r.sim_time_ns < 1e9);  // well before the sim time budget
  REQUIRE(x.checks.size() == s.events / kCheckpointEvents);
  for (size_t i = 0; i + 1 < x.checks.size(); ++i) CHECK_FALSE(x.checks[i].met());
  CHECK(x.checks.back().met());
  // The figures reported are the ones the rule saw: half-width <= 10% of p (no tolerance needed,
  // it is the rule's own inequality on the same counts).
  const HazardResult& h = hazard(x.r, "window:win");
  CHECK(h.iterations_hit == x.checks.back().hazards[0].iterations_hit);
  CHECK(h.p > 0.002);
  CHECK(h.p < 0.01);
  CHECK((h.p_ci.hi - h.p_ci.lo) / 2 <= 0.1 * h.p);
  REQUIRE(s.hazards.size() == 1);
  CHECK(s.hazards[0].rel_met);
  CHECK(s.hazards[0].ci.hi == h.p_ci.hi);
  // And the estimate agrees with a fixed run five times as long (of which it is a prefix), within
  // 25%: the rule stopped on a converged estimate, not on a fluke.
  RunControl ctl;
  CaseResult fixed = run_case(window_case(d, true, "400ms"), EngineKind::Native, ctl);
  const HazardResult& f = hazard(fixed, "window:win");
  CHECK(h.p == doctest::Approx(f.p).epsilon(0.25));
}

TEST_CASE("sequential: with no hazards named, the rule looks at those the case can hit, and says which it left out") {
  // window_case has no page or PTE step: bad_page_state cannot be raised, and a rule that waited
  // for its relative precision could never stop (issue 27). The default leaves it out.
  TempDir d;
  StoppingRule rule;
  rule.rel_error = 0.1;
  Run x = run_rule(window_case(d, true), rule);
  REQUIRE(x.r.stopping);
  const Stopping& s = *x.r.stopping;
  CHECK(s.reason == "rel-error 0.1 reached");
  CHECK(s.rule.hazards == std::vector<std::string>{"window:win"});
  CHECK(s.left_out == std::vector<std::string>{"bad_page_state"});
  Scenario sc;
  sc.name = "t";
  sc.cases = {window_case(d, true)};
  sc.cases[0].name = x.r.case_name;
  std::ostringstream o;
  print_stopping(o, sc, {x.r});
  CHECK(o.str().find("left out, as nothing can hit them: bad_page_state (every case)") != std::string::npos);
  CHECK(stopping_json(s).at("left_out") == nlohmann::json::array({"bad_page_state"}));
  // Nothing the case can hit at all: the defaults stay (the budgets end the run), none left out.
  Run z = run_rule(window_case(d, false), rule);
  REQUIRE(z.r.stopping);
  CHECK(z.r.stopping->left_out.empty());
  CHECK(z.r.stopping->reason == "sim time budget spent");
  // A rule that names its hazards is taken as it is.
  rule.hazards = {"bad_page_state", "window:win"};
  CHECK(rule_left_out(rule, window_case(d, true)).empty());
}

TEST_CASE("sequential: the stopping point is a function of configuration and seed, on either engine") {
  TempDir d;
  StoppingRule rule;
  rule.rel_error = 0.1;
  rule.hazards = {"window:win"};
  Run a = run_rule(window_case(d, true), rule), b = run_rule(window_case(d, true), rule);
  CHECK(a.r.events == b.r.events);
  CHECK(a.r.sim_time_ns == b.r.sim_time_ns);
  CHECK(hazard(a.r, "window:win").iterations_hit == hazard(b.r, "window:win").iterations_hit);
  // The SimGrid engine handles the same events in the same order: the same checkpoint.
  Run s = run_rule(window_case(d, true), rule, EngineKind::SimGrid);
  REQUIRE(s.r.stopping);
  CHECK(s.r.stopping->reason == "rel-error 0.1 reached");
  CHECK(s.r.events == a.r.events);
  CHECK(hazard(s.r, "window:win").iterations_hit == hazard(a.r, "window:win").iterations_hit);
  // Another seed stops elsewhere, or the comparisons above prove nothing.
  CaseConfig other = window_case(d, true);
  other.seed = 6;
  Run o = run_rule(other, rule);
  CHECK(o.r.sim_time_ns != a.r.sim_time_ns);
}

TEST_CASE("sequential: --p-below stops a zero-hit case when the upper bound drops below X") {
  TempDir d;
  StoppingRule rule;
  rule.p_below = 3e-5;  // 0 hits in n iterations: upper bound 1 - 0.025^(1/n) ~ 3.69/n, n ~ 123,000
  rule.hazards = {"window:win"};
  Run x = run_rule(window_case(d, false), rule);
  REQUIRE(x.r.stopping);
  const Stopping& s = *x.r.stopping;
  CHECK(s.reason == "p-below 3e-05 reached");
  CHECK(s.events % kCheckpointEvents == 0);
  const HazardResult& h = hazard(x.r, "window:win");
  CHECK(h.count == 0);
  CHECK(h.p_ci.hi < 3e-5);
  CHECK(x.r.iterations > 123000);
  REQUIRE(x.checks.size() >= 2);
  CHECK(x.checks[x.checks.size() - 2].hazards[0].ci.hi >= 3e-5);  // the first checkpoint below X
  // A zero-hit hazard never meets --rel-error: with it alone, the sim time budget ends the run.
  StoppingRule rel;
  rel.rel_error = 0.5;
  rel.hazards = {"window:win"};
  Run y = run_rule(window_case(d, false, "2ms"), rel);
  REQUIRE(y.r.stopping);
  CHECK(y.r.stopping->reason == "sim time budget spent");
  CHECK(y.r.sim_time_ns == doctest::Approx(2e6));
  // Both rules given: a hazard is done when either holds.
  StoppingRule both = rule;
  both.rel_error = 0.1;
  Run z = run_rule(window_case(d, false), both);
  CHECK(z.r.stopping->reason == "p-below 3e-05 reached");
  CHECK(z.r.events == x.r.events);
}

TEST_CASE("sequential: budgets stop the run and say which") {
  TempDir d;
  StoppingRule never;  // a relative error no run this short reaches
  never.rel_error = 1e-6;
  {
    Run x = run_rule(window_case(d, true, "50ms"), never);
    REQUIRE(x.r.stopping);
    CHECK(x.r.stopping->rule.hazards == std::vector<std::string>{"window:win"});  // bad_page_state cannot be hit here
    CHECK(x.r.stopping->reason == "sim time budget spent");
    CHECK(x.r.sim_time_ns == doctest::Approx(50e6));
    CHECK(x.r.failure.empty());
    std::ostringstream table;
    Scenario sc;
    sc.name = "t";
    print_table(table, sc, {x.r});
    CHECK(table.str().find("sim time budget spent") != std::string::npos);
    CHECK(results_csv(sc, {x.r}).find(",sim time budget spent\n") != std::string::npos);
    auto j = results_json({"test", "t.yaml", ""}, sc, {x.r}, true);
    CHECK(j["cases"][0]["stopping"]["reason"] == "sim time budget spent");
    CHECK(j["cases"][0]["stopping"]["events"] == x.r.events);
  }
  {
    StoppingRule r = never;
    r.max_events = 200000;  // the first checkpoint at or past it: 4 * 65536
    Run x = run_rule(window_case(d, true), r);
    CHECK(x.r.stopping->reason == "events budget spent");
    CHECK(x.r.events == 4 * kCheckpointEvents);
  }
  {
    StoppingRule r = never;
    r.max_wall_s = 1e-9;  // spent by the first checkpoint
    Run x = run_rule(window_case(d, true), r);
    CHECK(x.r.stopping->reason == "wall budget spent");
    CHECK(x.r.stopping->machine_dependent);
    CHECK(x.r.events == kCheckpointEvents);
    std::ostringstream table;
    print_table(table, Scenario{}, {x.r});
    CHECK(table.str().find("machine-dependent") != std::string::npos);
  }
  {
    CaseConfig c = window_case(d, true, "0s");
    c.limits.iterations = 5000;
    Run x = run_rule(c, never);
    CHECK(x.r.stopping->reason == "iterations budget spent");
    CHECK(x.r.iterations == 5000);
  }
}

TEST_CASE("sequential: a rule that is not met leaves the run as a fixed-length run") {
  TempDir d;
  StoppingRule never;
  never.rel_error = 1e-6;
  Run x = run_rule(window_case(d, true, "100ms"), never);
  RunControl ctl;
  CaseResult fixed = run_case(window_case(d, true, "100ms"), EngineKind::Native, ctl);
  CHECK(x.checks.size() >= 2);
  CHECK(x.r.events == fixed.events);
  CHECK(x.r.iterations == fixed.iterations);
  CHECK(hazard(x.r, "window:win").iterations_hit == hazard(fixed, "window:win").iterations_hit);
  CHECK_FALSE(fixed.stopping);
}

TEST_CASE("sequential: the time left is projected from how the interval shrinks") {
  StoppingRule rule;
  rule.rel_error = 0.1;
  StopCheck c;
  c.events = 1000000;
  c.wall_s = 1;
  c.hazards.push_back(check_hazard(rule, "h", 100, 100000));  // half-width ~20% of p
  double half = (c.hazards[0].ci.hi - c.hazards[0].ci.lo) / 2 / c.hazards[0].p;
  CHECK(half == doctest::Approx(0.2).epsilon(0.03));
  // 1/sqrt(n): (0.2 / 0.1)^2 ~ 4 times the events so far, ~3 s more at 1 s a million.
  CHECK(projected_events(rule, c) == doctest::Approx(1e6 * (half / 0.1) * (half / 0.1)));
  CHECK(seconds_left(rule, c, {}) == doctest::Approx((half / 0.1) * (half / 0.1) - 1));
  // Unless a budget comes first: 1 s of sim time took 1 s, 0.5 s of it is left.
  c.now = 1e9;
  CHECK(seconds_left(rule, c, {1.5e9, 0}) == doctest::Approx(0.5));
  // No hit: no relative precision to project.
  c.hazards[0] = check_hazard(rule, "h", 0, 100000);
  CHECK(std::isinf(projected_events(rule, c)));
}

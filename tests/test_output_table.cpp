// The tables for people say what their figures can bear (issue 25): an UNRELIABLE forced estimate
// is marked in the headline table, a run too short to estimate ends with one line saying what to
// do, a window nothing can hit gets no P(hit), column names carry no glued units.
#include <doctest/doctest.h>

#include <regex>
#include <sstream>

#include "output/output.hpp"
#include "run/compare_forced.hpp"

using namespace racewin;

namespace {

// A case "c" with a window "w" that no step hits (no threads at all: no window_hit step).
Scenario scenario_with_unhit_window() {
  Scenario sc;
  sc.name = "t";
  CaseConfig c;
  c.name = "c";
  c.names.windows = {"w"};
  sc.cases.push_back(c);
  return sc;
}

HazardResult hazard(const std::string& name, uint64_t hits, uint64_t iterations, double secs) {
  HazardStats s;
  s.name = name;
  s.count = hits, s.iterations_hit = hits;
  return summarize_hazard(s, iterations, secs * 1e9);
}

CaseResult crude(const std::string& name, uint64_t hits, uint64_t iterations = 100000, double secs = 1) {
  CaseResult r;
  r.case_name = name;
  r.iterations = iterations, r.sim_time_ns = secs * 1e9;
  r.hazards = {hazard("bad_page_state", hits, iterations, secs)};
  return r;
}

// A forced result whose bad_page_state estimate rests on `ess` effective hits of `nonzero`.
CaseResult forced(const std::string& name, double p, Interval ci, uint64_t nonzero, double ess) {
  CaseResult r = crude(name, 0, 271154, 10);
  r.hazards[0].p = p, r.hazards[0].p_ci = ci;
  ForcedRun f;
  ForcedHazard h;
  h.name = "bad_page_state", h.p = p, h.ci = ci, h.nonzero = nonzero, h.ess = ess;
  f.hazards = {h};
  r.forced = f;
  return r;
}

std::string table(const Scenario& sc, const std::vector<CaseResult>& rs) {
  std::ostringstream o;
  print_table(o, sc, rs);
  return o.str();
}

std::string line_with(const std::string& text, const std::string& what) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.find(what) != std::string::npos) return l;
  return "";
}

}  // namespace

TEST_CASE("tables: an UNRELIABLE forced estimate is marked in its headline row, a reliable one is not") {
  Scenario sc;
  sc.name = "t";
  std::string t = table(sc, {forced("x86_64_bare", 6.04e-10, {0, 1.46e-09}, 9, 4.2), forced("s390x", 1.38e-06, {1.11e-06, 1.65e-06}, 608, 529)});
  std::string bare = line_with(t, "x86_64_bare "), zvm = line_with(t, "s390x ");
  REQUIRE(!bare.empty());
  CHECK(bare.find("6.04e-10") != std::string::npos);  // the headline row, not only the forcing section
  CHECK(bare.find("UNRELIABLE") != std::string::npos);
  CHECK(zvm.find("UNRELIABLE") == std::string::npos);
  // The --ratio line says so too.
  CHECK(ratio_line({forced("a", 1e-9, {5e-10, 1.5e-9}, 9, 4.2), forced("b", 1e-9, {8e-10, 1.2e-9}, 600, 500)}, "a/b", "bad_page_state")
            .find("UNRELIABLE") != std::string::npos);
}

TEST_CASE("tables: a run too short to estimate ends with one line saying what to do; one with many hits does not") {
  Scenario sc;
  sc.name = "t";
  std::vector<CaseResult> short_run = {crude("a", 0), crude("b", 0), crude("c", 2)};
  std::string line = short_run_line(sc, short_run);
  CHECK(line.find("3 of 3") != std::string::npos);
  CHECK(line.find("--rare-event force") != std::string::npos);
  CHECK(line.find("--time") != std::string::npos);
  CHECK(line.find("about 1.5 s") != std::string::npos);  // 2 hits in 1 s: 3 hits at the running rate
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  CHECK(short_run_line(sc, {crude("a", 500)}).empty());
  // Forced rows rest on their effective hits: 529 is plenty, whatever the main run counted (0).
  CHECK(short_run_line(sc, {forced("s390x", 1.38e-06, {1.11e-06, 1.65e-06}, 608, 529)}).empty());
  std::string f = short_run_line(sc, {forced("fixed", 0, {0, 2e-6}, 0, 0)});
  CHECK(f.find("--rare-event force") == std::string::npos);  // it was forced already
  CHECK(f.find("racewin exact --reachable") != std::string::npos);
}

TEST_CASE("tables: a window no step hits gets no P(hit) row, and is marked where it is listed") {
  Scenario sc = scenario_with_unhit_window();
  CaseResult r = crude("c", 0);
  r.hazards.push_back(hazard("window:w", 0, r.iterations, 1));
  WindowStats w;
  w.name = "w", w.opened = w.closed = 1000, w.length_sum = 20000, w.length_max = 20;
  r.windows = {summarize_window(w)};
  std::string t = table(sc, {r});
  CHECK(t.find("hazard window:w") == std::string::npos);
  std::string row = line_with(t, "cannot be hit: no window_hit step");
  CHECK(row.rfind("c ", 0) == 0);  // the windows table's row of case c
  CHECK(row.find(" w ") != std::string::npos);
  // Forced: the forcing section does not give it a bound either.
  r.forced = ForcedRun{};
  for (const auto& h : r.hazards) r.forced->hazards.push_back(ForcedHazard{h.name, 0, {0, 3e-3}, {0, 3e-3}});
  t = table(sc, {r});
  CHECK(line_with(t, "  window:w").find("cannot be hit") != std::string::npos);
  // No step at all: bad_page_state cannot be raised either, and nothing is left for the
  // short-run line to count.
  CHECK(!hazard_can_be_hit(sc.cases[0], "window:w"));
  CHECK(!hazard_can_be_hit(sc.cases[0], "bad_page_state"));
  CHECK(t.find("hazard bad_page_state") == std::string::npos);  // no headline table of it
  CHECK(line_with(t, "  bad_page_state").find("cannot be hit: no step touches a page") != std::string::npos);
  CHECK(short_run_line(sc, {r}).empty());
}

TEST_CASE("tables: a forced run shows one estimate per probability, each saying its method (issue 27)") {
  // A window another thread hits: the hazard table has the forced P per iteration, the windows
  // table the main run's crude share of closed windows, said so in its title and in its cell.
  Scenario sc = scenario_with_unhit_window();
  Step hit;
  hit.op = Op::WindowHit, hit.obj = 0;
  ThreadSpec t;
  t.name = "h";
  t.path.steps = {hit};
  sc.cases[0].threads = {t};
  CaseResult r = forced("c", 1e-6, {0.8e-6, 1.2e-6}, 600, 500);
  r.hazards.push_back(hazard("window:w", 3, r.iterations, 10));
  r.forced->hazards.push_back(ForcedHazard{"window:w", 2e-6, {1.5e-6, 2.5e-6}, {1.5e-6, 2.5e-6}, 700, 600});
  r.hazards.back().p = 2e-6, r.hazards.back().p_ci = {1.5e-6, 2.5e-6};
  WindowStats w;
  w.name = "w", w.opened = w.closed = 1000000, w.hit = 3;
  r.windows = {summarize_window(w)};
  std::string text = table(sc, {r});
  CHECK(line_with(text, "race windows").find("the main run's crude share of closed windows") != std::string::npos);
  std::string row = line_with(text, "c                            w ");
  INFO(text);
  CHECK(row.find("crude 3e-06") != std::string::npos);
  CHECK(line_with(text, "hazard window:w") != "");
  // Not forced: no such label.
  CaseResult c = crude("c", 0);
  c.windows = r.windows;
  CHECK(table(sc, {c}).find("crude 3e-06") == std::string::npos);
}

TEST_CASE("--ratio: a side on fewer than 3 crude hits makes the ratio UNRELIABLE; the interval says what it assumes") {
  std::string few = ratio_line({crude("a", 2), crude("b", 500)}, "a/b", "bad_page_state");
  CHECK(few.find("UNRELIABLE") != std::string::npos);
  std::string many = ratio_line({crude("a", 400), crude("b", 500)}, "a/b", "bad_page_state");
  CHECK(many.find("UNRELIABLE") == std::string::npos);
  CHECK(many.find("the runs taken as independent (--replications K, the same for both, pairs them)") != std::string::npos);
  // Replications that share seeds: paired, and the same replications' independent interval beside it.
  CaseResult a = crude("a", 400, 1000000), b = crude("b", 500, 1000000);
  a.replication_iterations = b.replication_iterations = {250000, 250000, 250000, 250000};
  a.hazards[0].replication_hits = {90, 110, 95, 105};
  b.hazards[0].replication_hits = {115, 135, 118, 132};  // moves with a's: pairing narrows
  std::string paired = ratio_line({a, b}, "a/b", "bad_page_state");
  CHECK(paired.find("paired over 4 replications that share seeds") != std::string::npos);
  CHECK(paired.find("taken as independent [") != std::string::npos);
  b.seed = a.seed + 1;  // not the same seeds: not paired
  CHECK(ratio_line({a, b}, "a/b", "bad_page_state").find("paired") == std::string::npos);
}

TEST_CASE("tables: column names carry no glued units; totals and rates say which they are") {
  Scenario sc = scenario_with_unhit_window();
  CaseResult r = crude("c", 5);
  r.stopping = Stopping{};
  r.stopping->reason = "sim time budget spent";
  WindowStats w;
  w.name = "w", w.opened = w.closed = 10;
  r.windows = {summarize_window(w)};
  std::string t = table(sc, {r});
  int headers = 0;
  std::istringstream in(t);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("case ", 0) != 0) continue;
    ++headers;
    INFO(l);
    CHECK(!std::regex_search(l, std::regex(R"([^\[]/s\b)")));          // "opened/s", "events /s"
    CHECK(!std::regex_search(l, std::regex(R"(\b(iter|len) (s|ns)\b)")));  // "time per hit iter s"
  }
  CHECK(headers == 3);  // the hazard, the windows and the stopping tables
  CHECK(line_with(t, "events [n]").find("events [/s]") != std::string::npos);
  CHECK(line_with(t, "opened [/s]").find("hit [n]") != std::string::npos);
}

TEST_CASE("compare, forced: the ratio's interval, zero sides, and no significance on an UNRELIABLE side") {
  ForcedSide b{1e-6, {0.8e-6, 1.2e-6}, 400, 300}, a{3e-6, {2.4e-6, 3.6e-6}, 500, 400};
  ForcedComparison c = compare_forced(b, a);
  CHECK(c.ratio == doctest::Approx(3));
  // log-scale delta method: each side's relative standard error 0.2/1.96.
  double f = std::exp(1.959964 * std::hypot(0.2 / 1.959964, 0.2 / 1.959964));
  CHECK(c.ratio_ci.lo == doctest::Approx(3 / f));
  CHECK(c.ratio_ci.hi == doctest::Approx(3 * f));
  CHECK(c.significant);
  CHECK(c.difference_ci.lo > 0);
  ForcedSide none{0, {0, 0.5e-6}, 0, 0};
  c = compare_forced(b, none);
  CHECK(c.ratio == 0);
  CHECK(c.ratio_ci.hi == doctest::Approx(0.5 / 0.8));
  CHECK(c.significant);
  c = compare_forced(none, none);
  CHECK(!c.significant);
  CHECK(c.note == "no weighted hit on either side");
  ForcedSide shaky = a;
  shaky.unreliable = true, shaky.effective_hits = 4;
  c = compare_forced(b, shaky);
  CHECK(!c.significant);
  CHECK(c.note.find("UNRELIABLE after") != std::string::npos);
}

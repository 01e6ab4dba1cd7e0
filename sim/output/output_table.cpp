// The tables for people: per hazard, then the race windows, how each run stopped and what forcing
// did. Column names carry no units: a cell carries its own ("469 ms"), or the name says it in
// brackets: [n] a count over the whole run, [/s] a rate per simulated second.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "output/format.hpp"
#include "output/output.hpp"

namespace racewin {

using cell::estimate;
using cell::num;
using cell::secs;

namespace {

constexpr double kFewHits = 3;  // fewer expected hits than this and an interval says little

const CaseConfig* find_case(const Scenario& sc, const std::string& name) {
  for (const auto& c : sc.cases)
    if (c.name == name) return &c;
  return nullptr;
}

// A case the scenario does not describe gets no claim that it cannot be hit.
bool can_be_hit(const Scenario& sc, const std::string& case_name, const std::string& hazard) {
  const CaseConfig* c = find_case(sc, case_name);
  return !c || hazard_can_be_hit(*c, hazard);
}

// bad_page_state and every window some case can raise or hit (a bound on a hittable hazard says
// something), then any other hazard some case saw or forcing estimated above zero.
std::vector<std::string> shown_hazards(const Scenario& sc, const std::vector<CaseResult>& results) {
  std::vector<std::string> shown;
  auto add = [&](const std::string& h) {
    if (std::find(shown.begin(), shown.end(), h) == shown.end()) shown.push_back(h);
  };
  for (const auto& r : results)
    for (size_t i = 0; i < r.hazards.size(); ++i) {
      const HazardResult& h = r.hazards[i];
      bool seen = h.count || (r.forced && r.forced->hazards[i].nonzero);
      bool main = h.name == "bad_page_state" || h.name.rfind("window:", 0) == 0;
      if (seen || (main && can_be_hit(sc, r.case_name, h.name))) add(h.name);
    }
  if (results.empty()) add("bad_page_state");
  return shown;
}

// What a headline row rests on: crude, the iterations hit (the running rate times the iterations
// run); forced, the effective number of weighted hits. None at all: the row is an upper bound.
struct Basis {
  bool forced = false, bound_only = false, unreliable = false;
  double hits = 0;
  bool too_few() const { return bound_only || hits < kFewHits; }
};

Basis basis(const CaseResult& r, size_t i) {
  Basis b;
  if (r.forced) {
    const ForcedHazard& f = r.forced->hazards[i];
    b.forced = true, b.bound_only = f.nonzero == 0, b.unreliable = f.unreliable(), b.hits = f.ess;
  } else {
    b.bound_only = r.hazards[i].iterations_hit == 0, b.hits = double(r.hazards[i].iterations_hit);
  }
  return b;
}

constexpr const char* kHazardRow = "{:<28} {:>14} {:>9} {:>10} {:>18}  {:<30} {:<26} {:<30} {}";

void print_hazard(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results, const std::string& hz) {
  bool forced = std::any_of(results.begin(), results.end(), [](const CaseResult& r) { return r.forced.has_value(); });
  out << fmt::format("\n{} — hazard {} (95% intervals; [n]: run totals, [/s]: per simulated second{})\n", sc.name, hz,
                     forced ? "; P(hit) and the time per hit iteration forced where a case was, events and iterations "
                              "hit the main run's own counts"
                            : "");
  std::string head = fmt::format(kHazardRow, "case", "iterations [n]", "sim time", "events [n]", "iterations hit [n]",
                                 "P(hit) per iteration", "events [/s]", "time per hit iteration", "");
  out << head.substr(0, head.find_last_not_of(' ') + 1) << "\n";
  for (const auto& r : results)
    for (size_t i = 0; i < r.hazards.size(); ++i) {
      const HazardResult& h = r.hazards[i];
      if (h.name != hz) continue;
      if (!can_be_hit(sc, r.case_name, hz)) {  // a validation scenario's bad_page_state: no step touches a page
        out << fmt::format("{:<28} {:>14} {:>9} {:>10} {:>18}  {}\n", label_of(sc, r.case_name), r.iterations, format_duration(r.sim_time_ns),
                           h.count, h.iterations_hit, "cannot be hit: no step touches a page or a PTE");
        continue;
      }
      Basis b = basis(r, i);
      std::string note = b.unreliable ? fmt::format("UNRELIABLE: {} effective hits (fewer than {:g})", num(b.hits), kMinEffectiveHits)
                                      : "";
      std::string row = fmt::format(
          kHazardRow, label_of(sc, r.case_name), r.iterations, format_duration(r.sim_time_ns), h.count, h.iterations_hit,
          estimate(h.p, h.p_ci, b.bound_only), estimate(h.rate, h.rate_ci, h.count == 0),
          !b.bound_only ? fmt::format("{} [{}, {}]", secs(h.mttf_s), secs(h.mttf_ci.lo), secs(h.mttf_ci.hi))
                        : fmt::format("> {}", secs(h.mttf_ci.lo)),
          note);
      out << row.substr(0, row.find_last_not_of(' ') + 1) << "\n";
    }
}

constexpr const char* kWindowRow = "{:<28} {:<30} {:>11} {:>11} {:>11} {:>10} {:>19} {:>17} {:>7}  {}\n";

// In a forced case P(window hit) stays the main run's crude share of closed windows, said in its
// cell: the forced estimate (per iteration) is window:NAME's row in its hazard table, and one
// probability is not shown twice without saying which is which.
void print_windows(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results) {
  bool forced = std::any_of(results.begin(), results.end(), [](const CaseResult& r) { return r.forced.has_value(); });
  out << fmt::format("\n{} — race windows (95% intervals; [n]: run totals, [/s]: per simulated second; a window "
                     "stretched by steal or an interrupt is what a hit needs{})\n", sc.name,
                     forced ? "; P(window hit): the main run's crude share of closed windows, the forced estimate per "
                              "iteration is hazard window:NAME's"
                            : "");
  out << fmt::format(kWindowRow, "case", "window", "opened [/s]", "mean length", "max length", "closed [n]",
                     "steal-stretched [n]", "irq-stretched [n]", "hit [n]", "P(window hit)");
  for (const auto& r : results)
    for (const auto& wr : r.windows) {
      const WindowStats& w = wr.stats;
      bool hittable = can_be_hit(sc, r.case_name, "window:" + w.name);
      out << fmt::format(kWindowRow, label_of(sc, r.case_name), w.name, num(r.sim_time_ns > 0 ? double(w.opened) / (r.sim_time_ns * 1e-9) : 0),
                         format_duration(w.closed ? w.length_sum / double(w.closed) : 0), format_duration(w.length_max),
                         w.closed, w.stretched_by_steal, w.stretched_by_irq, hittable ? std::to_string(w.hit) : "-",
                         !hittable  ? std::string(cell::kCannotBeHit)
                         : r.forced ? "crude " + estimate(wr.p_hit, wr.p_hit_ci, w.hit == 0)
                                    : estimate(wr.p_hit, wr.p_hit_ci, w.hit == 0));
    }
}

}  // namespace

std::string short_run_line(const Scenario& sc, const std::vector<CaseResult>& results) {
  size_t rows = 0, few = 0, bounds = 0, crude = 0;
  double need_s = 0;  // at the running rate, simulated time for kFewHits hits (crude rows with hits)
  for (const auto& hz : shown_hazards(sc, results))
    for (const auto& r : results)
      for (size_t i = 0; i < r.hazards.size(); ++i) {
        if (r.hazards[i].name != hz || !can_be_hit(sc, r.case_name, hz)) continue;
        ++rows;
        Basis b = basis(r, i);
        if (!b.too_few()) continue;
        ++few, bounds += b.bound_only, crude += !b.forced;
        if (!b.forced && !b.bound_only) need_s = std::max(need_s, r.sim_time_ns * 1e-9 * kFewHits / b.hits);
      }
  if (!few) return "";
  std::string what = fmt::format("{} of {} P(hit) row(s) rest on fewer than {:g} expected hits{}", few, rows, kFewHits,
                                 bounds == few ? " (no hit: upper bounds only)"
                                 : bounds     ? fmt::format(" ({} with no hit: upper bounds only)", bounds)
                                              : "");
  std::string todo = crude ? "force a rare hazard with --rare-event force, or run longer (--time"
                           : "run the forced cases longer (--time, --rel-error";
  if (need_s > 0) todo += fmt::format("; at the running rate {:g} hits take about {}", kFewHits, secs(need_s));
  todo += ")";
  if (bounds) todo += "; whether a hazard can be hit at all: racewin exact --reachable HAZARD";
  return fmt::format("too short a run: {}; {}\n", what, todo);
}

void print_table(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results) {
  for (const auto& hz : shown_hazards(sc, results)) print_hazard(out, sc, results, hz);
  if (std::any_of(results.begin(), results.end(), [](const CaseResult& r) { return !r.windows.empty(); }))
    print_windows(out, sc, results);
  print_stopping(out, sc, results);
  print_forced(out, sc, results);
  for (const auto& r : results) {
    if (!r.failure.empty()) out << fmt::format("\n{}: the run stopped: {}\n", label_of(sc, r.case_name), r.failure);
    if (r.interrupted) out << fmt::format("\n{}: interrupted; its figures cover the time simulated so far\n", label_of(sc, r.case_name));
  }
  bool header = false;
  for (const auto& c : sc.cases) {
    std::string d = deviations_text(c.overrides);
    if (d.empty()) continue;
    if (!header) out << fmt::format("\noverrides (deviations from {}):\n", sc.file), header = true;
    out << fmt::format("  {}: {}\n", c.name, d);
  }
}

}  // namespace racewin

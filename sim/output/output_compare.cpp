// What `racewin compare --rare-event force` prints: per case, both sides' forced runs, then per
// hazard the two estimates, their ratio and difference, and whether the change is significant.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "output/format.hpp"
#include "output/output.hpp"

namespace racewin {
namespace {

std::string num(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v == 0 ? "0" : fmt::format("{:.3g}", v);
}

std::string side(const ForcedSide& s) {
  if (!s.can_be_hit) return "cannot be hit";
  std::string e = cell::estimate(s.p, s.ci, s.weighted_hits == 0);
  return s.unreliable ? e + " UNRELIABLE" : e;
}

std::string run_summary(const CaseResult& r) {
  return fmt::format("seed {}, {} iterations in {} ({})", r.seed, r.iterations, format_duration(r.sim_time_ns),
                     r.stopping ? r.stopping->reason : "done");
}

constexpr const char* kRow = "{:<{}} {:<18} {:<38} {:<38} {:<26} {:<34} {}\n";

constexpr const char* kBatchRow = "{:<{}} {:<11} {:<13} {:<30} {:<30} {:<24} {:<34} {:<4} {}\n";

std::string est(double v, const Interval& i) { return fmt::format("{} [{}, {}]", num(v), num(i.lo), num(i.hi)); }

}  // namespace

void print_compare_header(std::ostream& o, size_t w) {
  o << fmt::format(kBatchRow, "hazard", w, "measure", "hits bef/aft", "before", "after", "after/before", "after - before",
                   "sig", "CRN/indep");
}

void print_compare_row(std::ostream& o, size_t w, const std::string& hazard, const Comparison& c, Measure m) {
  o << fmt::format(kBatchRow, hazard, w, m == Measure::PerIteration ? "P/iteration" : "events [/s]",
                   fmt::format("{:.0f}/{:.0f}", c.hits_before, c.hits_after), est(c.before, c.before_ci),
                   est(c.after, c.after_ci), std::isnan(c.ratio) ? "-" : est(c.ratio, c.ratio_ci),
                   est(c.difference, c.difference_ci), c.significant ? "yes" : "no", num(c.crn_width_over_independent));
  if (!c.note.empty()) o << fmt::format("{:<{}} {:<11} {:<13} ({})\n", "", w, "", "", c.note);
}

void print_forced_compare(std::ostream& o, const std::vector<ForcedCompareCase>& cases) {
  o << "both sides forced (--rare-event): one forced run per side, the after side on a seed of its own; P(hit) per "
       "iteration, 95% intervals; after/before: delta method on log P, after - before: normal, both assuming "
       "independent runs; sig: the ratio's interval excludes 1 (so the difference's excludes 0)\n";
  for (const auto& c : cases) {
    o << fmt::format("\ncase {}: before {}; after {}\n", c.name, run_summary(c.before), run_summary(c.after));
    for (const auto* r : {&c.before, &c.after})
      if (!r->failure.empty()) o << "  a run stopped: " << r->failure << "\n";
    if (c.rows.empty()) continue;
    size_t w = 6;
    for (const auto& [h, _] : c.rows) w = std::max(w, h.size());
    o << fmt::format(kRow, "hazard", w, "weighted hits [n]", "before", "after", "after/before", "after - before", "sig");
    for (const auto& [h, x] : c.rows) {
      o << fmt::format(kRow, h, w, fmt::format("{}/{}", x.before.weighted_hits, x.after.weighted_hits), side(x.before),
                       side(x.after), std::isnan(x.ratio) ? "-" : fmt::format("{} [{}, {}]", num(x.ratio), num(x.ratio_ci.lo), num(x.ratio_ci.hi)),
                       fmt::format("{} [{}, {}]", num(x.difference), num(x.difference_ci.lo), num(x.difference_ci.hi)),
                       x.significant ? "yes" : "no");
      if (!x.note.empty()) o << fmt::format("{:<{}} ({})\n", "", w, x.note);
    }
  }
}

nlohmann::json forced_compare_cases_json(const std::vector<ForcedCompareCase>& cases) {
  auto run = [](const CaseResult& r) {
    return nlohmann::json{{"seed", r.seed},
                          {"iterations", r.iterations},
                          {"sim_time_s", r.sim_time_ns * 1e-9},
                          {"stopped_by", r.stopping ? r.stopping->reason : ""},
                          {"failure", r.failure.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.failure)},
                          {"rare_event", r.forced ? forced_json(*r.forced) : nlohmann::json(nullptr)}};
  };
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : cases) {
    nlohmann::json cj = {{"case", c.name}, {"before", run(c.before)}, {"after", run(c.after)}, {"hazards", nlohmann::json::array()}};
    for (const auto& [h, x] : c.rows) cj["hazards"].push_back({{"hazard", h}, {"per_iteration", forced_comparison_json(x)}});
    out.push_back(cj);
  }
  return out;
}

}  // namespace racewin

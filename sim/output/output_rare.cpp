// What a rare-event (forcing) run adds to the outputs: what was sped up, how often the branches
// saw forced arrivals, and per hazard the weighted estimate, its relative error and its gain
// over crude Monte Carlo.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "output/format.hpp"
#include "output/output.hpp"

namespace racewin {

namespace {
std::string g(double v) { return fmt::format("{:.3g}", v); }
double rel_half(const ForcedHazard& h) { return h.p > 0 && std::isfinite(h.ci.hi) ? (h.ci.hi - h.ci.lo) / 2 / h.p : -1; }
}  // namespace

void print_forced(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results) {
  bool any = false;
  for (const auto& r : results) any = any || r.forced;
  if (!any) return;
  out << fmt::format("\n{} — rare-event forcing: steal and interrupt arrivals sped up inside race windows, "
                     "hits weighted by their likelihood ratio\n", sc.name);
  for (const auto& r : results) {
    if (!r.forced) continue;
    const ForcedRun& f = *r.forced;
    std::string sped;
    const size_t P = f.processes.size();
    for (size_t j = 0; j < P; ++j) {
      if (f.factor[j] <= 1 && (f.stages < 2 || f.factor[P + j] <= 1)) continue;
      sped += fmt::format("{}{} x{}", sped.empty() ? "" : ", ", f.processes[j], g(f.factor[j]));
      if (f.stages > 1 && f.exposure[P + j] > 0) sped += fmt::format(" then x{}", g(f.factor[P + j]));  // a tick's comes once
    }
    if (sped.find(" then ") != std::string::npos) sped += " (after a forced arrival)";
    if (f.defensive > 0) sped += fmt::format(", {:.2g} of the branches nominal (defensive mixture)", f.defensive);
    // A fallback to crude keeps what was sped up before it, and says why it stopped.
    std::string what = f.note.empty() ? "sped up " + sped : f.fallback_gain > 0 ? "sped up " + sped + "; " + f.note : f.note;
    out << fmt::format("{}: {}; pilots {} iterations, {} forced branches ({} hit); {} branches ({} a window iteration), {} with forced arrivals; "
                       "events {} main + {} in branches + {} in pilot branches\n",
                       label_of(sc, r.case_name), what, f.pilot, f.pilot_branches, f.pilot_hits,
                       f.branches, std::max<uint64_t>(f.branches_per_window, 1), f.forced_arrival_branches, f.main_events, f.branch_events, f.pilot_events);
    const CaseConfig* cfg = nullptr;
    for (const auto& c : sc.cases)
      if (c.name == r.case_name) cfg = &c;
    for (const auto& h : f.hazards) {
      if (h.nonzero == 0 && h.name.rfind("window:", 0) != 0 && h.name != "bad_page_state") continue;
      if (cfg && !hazard_can_be_hit(*cfg, h.name)) {
        out << fmt::format("  {:<34} {}\n", h.name, h.name.rfind("window:", 0) == 0 ? cell::kCannotBeHit
                                                                                : "cannot be hit: no step touches a page or a PTE");
        continue;
      }
      double rel = rel_half(h);
      out << fmt::format("  {:<34} {:<34} {:>8} {:>8} weighted hits ({} effective){}   gain vs crude {}\n", h.name,
                         h.nonzero ? fmt::format("{} [{}, {}]", g(h.p), g(h.ci.lo), g(h.ci.hi)) : "< " + g(h.ci.hi),
                         rel >= 0 ? fmt::format("±{:.3g}%", 100 * rel) : "-", h.nonzero, g(h.ess),
                         h.unreliable() ? " UNRELIABLE: few weights carry the estimate" : "",
                         h.gain > 0 ? g(h.gain) : "-");
    }
  }
}

std::string ratio_line(const std::vector<CaseResult>& results, const std::string& spec, const std::string& hazard) {
  size_t slash = spec.find('/');
  const CaseResult *a = nullptr, *b = nullptr;
  for (const auto& r : results) {
    if (r.case_name == spec.substr(0, slash)) a = &r;
    if (r.case_name == spec.substr(slash + 1)) b = &r;
  }
  auto find = [&](const CaseResult* r) -> const HazardResult* {
    if (r)
      for (const auto& h : r->hazards)
        if (h.name == hazard) return &h;
    return nullptr;
  };
  const HazardResult *x = find(a), *y = find(b);
  // An estimate a ratio cannot stand on: a forced one on few effective hits, a crude one on fewer
  // than 3 hits (the table's own marks); the ratio is then UNRELIABLE too.
  auto unreliable = [&](const CaseResult* r, const HazardResult* h) {
    if (!r || !h) return false;
    if (r->forced) return r->forced->hazards[size_t(h - r->hazards.data())].unreliable();
    return h->iterations_hit < 3;
  };
  if (!x || !y) return fmt::format("{}: not both cases ran", spec);
  if (x->p <= 0 || y->p <= 0 || !std::isfinite(x->p_ci.hi) || !std::isfinite(y->p_ci.hi))
    return fmt::format("{}, {}: no ratio (an estimate is zero or unbounded)", spec, hazard);
  // Independent runs: log P has standard error (half-width / 1.96) / P each side.
  double sa = (x->p_ci.hi - x->p_ci.lo) / 2 / 1.959964 / x->p, sb = (y->p_ci.hi - y->p_ci.lo) / 2 / 1.959964 / y->p;
  double r = x->p / y->p, f = std::exp(1.959964 * std::hypot(sa, sb));
  // The two runs share the seed, so their errors may be correlated: the interval takes them as
  // independent, and says so (a paired interval needs the runs' batches side by side).
  return fmt::format("{}, {}: P ratio {} [{}, {}] (95%, delta method on log P, the two runs taken as independent though they "
                     "share the seed){}",
                     spec, hazard, g(r), g(r / f), g(r * f),
                     unreliable(a, x) || unreliable(b, y) ? "; UNRELIABLE: an estimate rests on few hits" : "");
}

nlohmann::json forced_json(const ForcedRun& f) {
  nlohmann::json j = {{"method", "force"},
                      {"pilot_iterations", f.pilot},
                      {"window_iterations_in_pilot", f.window_iterations},
                      {"branches", f.branches},
                      {"branches_per_window_iteration", std::max<uint64_t>(f.branches_per_window, 1)},
                      {"branches_with_forced_arrivals", f.forced_arrival_branches},
                      {"pilot_branches", f.pilot_branches},
                      {"pilot_branch_events", f.pilot_events},
                      {"pilot_hits", f.pilot_hits},
                      {"main_events", f.main_events},
                      {"branch_events", f.branch_events},
                      {"mean_weight_of_hit_branches", f.mean_weight_hit},
                      {"max_weight_of_hit_branches", f.max_weight_hit},
                      {"tick_phase_drawn_afresh", f.tick_phase},
                      {"defensive_share", f.defensive},
                      {"fallback_gain", f.fallback_gain > 0 ? nlohmann::json(f.fallback_gain) : nlohmann::json(nullptr)},
                      {"fallback_after_window_iterations", f.fallback_gain > 0 ? nlohmann::json(f.fallback_at) : nlohmann::json(nullptr)},
                      {"note", f.note}};
  // Per stage (forced arrivals so far): factor, exposure, and share of the pilot's weighted hits.
  const size_t P = f.processes.size();
  for (size_t p = 0; p < P; ++p) {
    nlohmann::json s;
    for (size_t k = 0; k < f.stages; ++k)
      s.push_back({{"factor", f.factor[k * P + p]}, {"exposure", f.exposure[k * P + p]},
                   {"hit_share", f.hit_share.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.hit_share[k * P + p])}});
    j["processes"].push_back({{"process", f.processes[p]}, {"factor", f.factor[p]}, {"exposure_per_window_iteration", f.exposure[p]},
                              {"stages", s}});
  }
  for (const auto& h : f.hazards) {
    double rel = rel_half(h);
    j["hazards"].push_back({{"hazard", h.name},
                            {"p_iteration_hit", h.p},
                            {"p_iteration_hit_ci95", {h.ci.lo, json_number(h.ci.hi)}},
                            {"relative_half_width", rel >= 0 ? nlohmann::json(rel) : nlohmann::json(nullptr)},
                            {"weighted_hits", h.nonzero},
                            {"effective_hits", h.ess},
                            {"variance_per_iteration", h.variance},
                            {"gain_vs_crude", h.gain},
                            {"method", h.crude ? "crude" : "force"}});
  }
  return j;
}

}  // namespace racewin

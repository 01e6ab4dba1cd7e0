// What a rare-event (forcing) run adds to the outputs: what was sped up, how often the branches
// saw forced arrivals, and per hazard the weighted estimate, its relative error and its gain
// over crude Monte Carlo.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "output/format.hpp"
#include "output/output.hpp"
#include "run/ratio.hpp"

namespace racewin {

namespace {
std::string g(double v) { return fmt::format("{:.3g}", v); }
double rel_half(const ForcedHazard& h) { return h.p > 0 && std::isfinite(h.ci.hi) ? (h.ci.hi - h.ci.lo) / 2 / h.p : -1; }
}  // namespace

// What forcing assumes, and how far it could be wrong: the interval is of the routes it sampled; a
// route it does not speed up (a hit with no forced arrival) is seen at its natural rate only, and
// until it is seen often its part of P can be larger than the estimate shows.
std::string unforced_line(const ForcedHazard& h) {
  std::string bound = "at most " + g(h.unforced_hi);
  std::string said = h.unforced_seen ? fmt::format("{} of the estimate ({:.2g}%), in {} iterations", g(h.unforced_p),
                                                   h.p > 0 ? 100 * h.unforced_p / h.p : 0.0, h.unforced_seen)
                                     : "none seen";
  return fmt::format("  {:<34} hits with no forced arrival (a route forcing does not speed up): {}; the interval takes that route "
                     "as sampled; from the branches and the main run alone its part of P is {} (95%)\n",
                     "", said, bound);
}

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
      if (!h.crude && h.nonzero) out << unforced_line(h);
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
  if (!a || !b) return fmt::format("{}: not both cases ran", spec);
  RatioEstimate e = case_ratio(*a, *b, hazard);
  if (!e.why.empty()) return fmt::format("{}, {}: no ratio ({})", spec, hazard, e.why);
  std::string beside = e.paired ? fmt::format("; taken as independent [{}, {}]", g(e.independent_ci.lo), g(e.independent_ci.hi))
                                : "";
  return fmt::format("{}, {}: P ratio {} [{}, {}] (95%, {}{}){}", spec, hazard, g(e.r), g(e.ci.lo), g(e.ci.hi), e.method, beside,
                     e.unreliable ? "; UNRELIABLE: an estimate rests on few hits" : "");
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
                            {"unforced_p", h.unforced_p},
                            {"unforced_iterations_seen", h.unforced_seen},
                            {"unforced_p_hi95", json_number(h.unforced_hi)},
                            {"method", h.crude ? "crude" : "force"}});
  }
  return j;
}

}  // namespace racewin

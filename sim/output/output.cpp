#include "output/output.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

namespace racewin {
namespace {

// Closed windows by length: the bins from the first to the last non-empty one, each with its
// lower edge; the last bin of the model's histogram is open-ended (its upper edge is null).
nlohmann::json length_histogram(const WindowStats& w) {
  size_t lo = 0, hi = w.length_hist.size();
  while (lo < hi && w.length_hist[lo] == 0) ++lo;
  while (hi > lo && w.length_hist[hi - 1] == 0) --hi;
  nlohmann::json edges = nlohmann::json::array(), counts = nlohmann::json::array();
  for (size_t k = lo; k < hi; ++k) edges.push_back(WindowStats::bin_edge(k)), counts.push_back(w.length_hist[k]);
  if (hi > lo) edges.push_back(hi == w.length_hist.size() ? nlohmann::json(nullptr) : nlohmann::json(WindowStats::bin_edge(hi)));
  return {{"bins_per_decade", WindowStats::kBinsPerDecade}, {"edges_ns", edges}, {"counts", counts}};
}

}  // namespace

std::string label_of(const Scenario& sc, const std::string& case_name) {
  for (const auto& c : sc.cases)
    if (c.name == case_name) return c.label();
  return case_name;
}

nlohmann::json results_json(const RunInfo& info, const Scenario& sc, const std::vector<CaseResult>& results,
                            bool complete) {
  nlohmann::json j;
  j["program"] = "racewin";
  j["version"] = info.program_version;
  j["scenario"] = sc.name;
  j["scenario_file"] = info.scenario_file;
  j["complete"] = complete;
  j["cases"] = nlohmann::json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const CaseResult& r = results[i];
    const CaseConfig* cfg = nullptr;
    for (const auto& c : sc.cases)
      if (c.name == r.case_name) cfg = &c;
    nlohmann::json c;
    c["case"] = r.case_name;
    c["engine"] = engine_name(r.engine);
    c["seed"] = r.seed;
    c["sim_time_ns"] = r.sim_time_ns;
    c["iterations"] = r.iterations;
    c["events"] = r.events;
    c["ipis"] = r.ipis;
    c["interrupted"] = r.interrupted;
    c["failure"] = r.failure.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.failure);
    for (const auto& [t, n] : r.thread_iterations) c["thread_iterations"][t] = n;
    c["steal_fraction"] = r.steal_fraction;
    for (const auto& h : r.hazards) {
      nlohmann::json hj = {{"hazard", h.name},
                           {"events", h.count},
                           {"events_per_s", h.rate},
                           {"events_per_s_ci95", {h.rate_ci.lo, json_number(h.rate_ci.hi)}},
                           {"iterations_hit", h.iterations_hit},
                           {"p_iteration_hit", h.p},
                           {"p_iteration_hit_ci95", {h.p_ci.lo, h.p_ci.hi}},
                           {"time_per_hit_iteration_s", json_number(h.mttf_s)},
                           {"time_per_hit_iteration_s_ci95", {json_number(h.mttf_ci.lo), json_number(h.mttf_ci.hi)}}};
      if (h.count) hj["first"] = {{"time_s", h.first_time_s}, {"iteration", h.first_iteration}, {"detail", h.first_detail}};
      const BadPageReports& b = h.reports;
      if (b.written + b.fresh > 0)  // bad_page_state as the reports show it (docs/paths.md, Hazards)
        hj["reports"] = {{"route_written", b.written}, {"route_fresh", b.fresh}, {"dumped", b.dumped},
                         {"locked_at_dump", b.locked_at_dump}, {"first_flags_at_check", b.first_check},
                         {"first_flags_at_dump", b.first_dump}};
      c["hazards"].push_back(hj);
    }
    for (const auto& wr : r.windows) {
      const WindowStats& w = wr.stats;
      c["windows"].push_back({{"window", w.name},
                              {"opened", w.opened},
                              {"closed", w.closed},
                              {"hit", w.hit},
                              {"p_window_hit", wr.p_hit},
                              {"p_window_hit_ci95", {wr.p_hit_ci.lo, wr.p_hit_ci.hi}},
                              {"mean_length_ns", w.closed ? w.length_sum / double(w.closed) : 0.0},
                              {"max_length_ns", w.length_max},
                              {"stretched_by_steal", w.stretched_by_steal},
                              {"stretched_by_irq", w.stretched_by_irq},
                              {"stretched_by_task", w.stretched_by_task},
                              {"length_histogram", length_histogram(w)}});
    }
    for (const auto& [name, s] : r.locks)
      c["spinlocks"].push_back({{"lock", name},
                                {"acquisitions", s.acquisitions},
                                {"contended", s.contended},
                                {"mean_hold_ns", s.acquisitions ? s.hold_sum / double(s.acquisitions) : 0.0},
                                {"max_hold_ns", s.hold_max},
                                {"mean_wait_ns", s.contended ? s.wait_sum / double(s.contended) : 0.0},
                                {"max_wait_ns", s.wait_max}});
    if (r.stopping) c["stopping"] = stopping_json(*r.stopping);
    if (r.forced) c["rare_event"] = forced_json(*r.forced);
    if (cfg) c["config"] = cfg->resolved;
    if (cfg)  // only with some: a run without overrides writes what it always wrote
      for (const auto& o : cfg->overrides)
        if (!o.from_file) c["overrides"].push_back({{"key", o.key}, {"value", o.value}, {"origin", o.origin}});
    j["cases"].push_back(c);
  }
  return j;
}

}  // namespace racewin

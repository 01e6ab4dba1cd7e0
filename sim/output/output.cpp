#include "output/output.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

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
    j["cases"].push_back(c);
  }
  return j;
}

std::string results_csv(const Scenario& sc, const std::vector<CaseResult>& results) {
  std::string s =
      "scenario,case,engine,seed,hazard,events,iterations_hit,iterations,sim_time_s,p_iteration_hit,p_lo,p_hi,"
      "events_per_s,events_per_s_lo,events_per_s_hi,time_per_hit_iteration_s,time_lo,time_hi,interrupted,failed,stopped_by\n";
  for (const auto& r : results)
    for (const auto& h : r.hazards)
      s += fmt::format("{},{},{},{},{},{},{},{},{:.9g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{}\n",
                       sc.name, r.case_name, engine_name(r.engine), r.seed, h.name, h.count, h.iterations_hit, r.iterations,
                       r.sim_time_ns * 1e-9, h.p, h.p_ci.lo, h.p_ci.hi, h.rate, h.rate_ci.lo, h.rate_ci.hi, h.mttf_s,
                       h.mttf_ci.lo, h.mttf_ci.hi, r.interrupted, !r.failure.empty(),
                       r.stopping ? r.stopping->reason : "");
  return s;
}

void write_atomic(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::filesystem::path tmp = path;
  tmp += fmt::format(".{}.tmp", getpid());  // writers of the same file (Dask retries) never share one
  {
    std::ofstream o(tmp, std::ios::binary);
    o << text;
    o.flush();
    if (!o) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

void write_results(const std::string& dir, const RunInfo& info, const Scenario& sc,
                   const std::vector<CaseResult>& results, bool complete) {
  auto put = [&](const std::string& name, const std::string& text) { write_atomic(std::filesystem::path(dir) / name, text); };
  put("results.json", results_json(info, sc, results, complete).dump(2) + "\n");
  put("hazards.csv", results_csv(sc, results));
  // What varies between identical runs lives apart, so that the files above are byte-identical.
  nlohmann::json t;
  for (const auto& r : results) t[r.case_name] = {{"wall_seconds", r.wall_seconds}, {"events", r.events}};
  put("timing.json", t.dump(2) + "\n");
}

}  // namespace racewin

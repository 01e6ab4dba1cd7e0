// The result files: hazards.csv, and results.json and timing.json written atomically.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "output/output.hpp"

namespace racewin {

std::string results_csv(const Scenario& sc, const std::vector<CaseResult>& results) {
  // An `overrides` column only when some case has deviations, so that a run without any writes
  // the file it always wrote; its field quotes the deviations_text() of the case.
  bool deviations = std::any_of(sc.cases.begin(), sc.cases.end(), [](const CaseConfig& c) { return !deviations_text(c.overrides).empty(); });
  std::string s =
      "scenario,case,engine,seed,hazard,events,iterations_hit,iterations,sim_time_s,p_iteration_hit,p_lo,p_hi,"
      "events_per_s,events_per_s_lo,events_per_s_hi,time_per_hit_iteration_s,time_lo,time_hi,interrupted,failed,stopped_by";
  s += deviations ? ",overrides\n" : "\n";
  auto quoted = [](const std::string& t) {  // a CSV field: in double quotes, a quote doubled
    std::string q(1, '"');
    for (char ch : t) q.append(ch == '"' ? 2 : 1, ch);
    q.push_back('"');
    return q;
  };
  for (const auto& r : results)
    for (const auto& h : r.hazards) {
      s += fmt::format("{},{},{},{},{},{},{},{},{:.9g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{}\n",
                       sc.name, r.case_name, engine_name(r.engine), r.seed, h.name, h.count, h.iterations_hit, r.iterations,
                       r.sim_time_ns * 1e-9, h.p, h.p_ci.lo, h.p_ci.hi, h.rate, h.rate_ci.lo, h.rate_ci.hi, h.mttf_s,
                       h.mttf_ci.lo, h.mttf_ci.hi, r.interrupted, !r.failure.empty(),
                       r.stopping ? r.stopping->reason : "");
      if (!deviations) continue;
      std::string d;
      for (const auto& c : sc.cases)
        if (c.name == r.case_name) d = deviations_text(c.overrides);
      s.back() = ',';  // the field goes before the row's newline
      s += quoted(d);
      s += '\n';
    }
  return s;
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

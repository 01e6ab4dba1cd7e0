#include "output/output.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

namespace racewin {
namespace {

std::string num(double v) {
  if (std::isinf(v)) return "inf";
  if (v == 0) return "0";
  return fmt::format("{:.3g}", v);
}

std::string secs(double s) {
  if (std::isinf(s)) return "never";
  return format_duration(s * 1e9);
}


std::vector<std::string> shown_hazards(const std::vector<CaseResult>& results) {
  std::vector<std::string> shown = {"bad_page_state"};
  for (const auto& r : results)
    for (const auto& h : r.hazards)
      if (h.count && std::find(shown.begin(), shown.end(), h.name) == shown.end()) shown.push_back(h.name);
  return shown;
}

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

// Whether a path of the case has a window_hit step for the window: one that none hits only
// measures lengths, and its P(hit) would mean nothing.
static bool window_is_hit(const Scenario& sc, const std::string& case_name, const std::string& window) {
  for (const auto& c : sc.cases)
    if (c.name == case_name)
      for (const auto& t : c.threads)
        for (const auto& st : t.path.steps)
          if (st.op == Op::WindowHit && c.names.windows[size_t(st.obj)] == window) return true;
  return false;
}

// "3.2e-05 [2.1e-05, 4.7e-05]", or "< 3e-09" when nothing was seen: the 95% upper bound.
static std::string estimate(double v, const Interval& ci, bool none) {
  if (none) return fmt::format("< {}", num(ci.hi));
  return fmt::format("{} [{}, {}]", num(v), num(ci.lo), num(ci.hi));
}

namespace {

std::string half_width(const HazardCheck& h) {
  return h.iterations_hit ? fmt::format("{:.3g}%", 100 * (h.ci.hi - h.ci.lo) / 2 / h.p) : "-";
}

std::string met_by(const HazardCheck& h) {
  return h.rel_met && h.below_met ? "both" : h.rel_met ? "rel-error" : h.below_met ? "p-below" : "not met";
}

void print_stopping(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results) {
  bool any = false, wall = false;
  for (const auto& r : results)
    if (r.stopping) any = true, wall = wall || r.stopping->rule.max_wall_s > 0;
  if (!any) return;
  out << fmt::format("\n{} — how each run stopped (rule and event budget checked every {} events)\n", sc.name,
                     kCheckpointEvents);
  out << fmt::format("{:<28} {:<32} {:>12} {:>9}  {:<30} {:<30} {:>10}  {}\n", "case", "stopped by", "model events", "sim time",
                     "hazard", "P(hit) per iteration", "half-width", "rule");
  for (const auto& r : results) {
    if (!r.stopping) continue;
    const Stopping& s = *r.stopping;
    std::string head = fmt::format("{:<28} {:<32} {:>12} {:>9}", label_of(sc, r.case_name), s.reason, s.events, format_duration(s.sim_time_ns));
    if (s.hazards.empty()) out << head << "\n";
    for (size_t i = 0; i < s.hazards.size(); ++i) {
      const HazardCheck& h = s.hazards[i];
      out << fmt::format("{}  {:<30} {:<30} {:>10}  {}\n", i ? std::string(head.size(), ' ') : head, h.name,
                         estimate(h.p, h.ci, h.iterations_hit == 0), half_width(h), s.rule.has_rule() ? met_by(h) : "-");
    }
  }
  if (wall) out << "note: a wall-clock budget (--max-wall) makes the stopping point machine-dependent\n";
}

nlohmann::json stopping_json(const Stopping& s) {
  auto opt = [](double v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json j = {{"rule", s.rule.describe()},
                      {"rel_error", opt(s.rule.rel_error)},
                      {"p_below", opt(s.rule.p_below)},
                      {"reason", s.reason},
                      {"machine_dependent", s.machine_dependent},
                      {"events", s.events},
                      {"sim_time_ns", s.sim_time_ns},
                      {"checkpoint_events", kCheckpointEvents},
                      {"budgets",
                       {{"sim_time_ns", opt(s.limits.time_ns)},
                        {"iterations", s.limits.iterations ? nlohmann::json(s.limits.iterations) : nlohmann::json(nullptr)},
                        {"events", s.rule.max_events ? nlohmann::json(s.rule.max_events) : nlohmann::json(nullptr)},
                        {"wall_s", opt(s.rule.max_wall_s)}}}};
  j["hazards"] = nlohmann::json::array();
  for (const auto& h : s.hazards)
    j["hazards"].push_back({{"hazard", h.name},
                            {"iterations_hit", h.iterations_hit},
                            {"p_iteration_hit", h.p},
                            {"p_iteration_hit_ci95", {h.ci.lo, h.ci.hi}},
                            {"met", h.met() ? nlohmann::json(met_by(h)) : nlohmann::json(nullptr)}});
  return j;
}

}  // namespace

std::string stopping_progress(const std::string& case_name, const StoppingRule& rule, const StopCheck& c, double left) {
  const HazardCheck* worst = nullptr;
  double worst_n = -1;
  size_t met = 0;
  for (const auto& h : c.hazards) {
    if (h.met()) {
      ++met;
      continue;
    }
    double n = projected_events(rule, {c.events, c.iterations, c.now, c.wall_s, {h}});
    if (n > worst_n) worst_n = n, worst = &h;
  }
  std::string what = !worst ? "every hazard meets the rule"
                    : worst->iterations_hit ? fmt::format("{} {} ±{}", worst->name, estimate(worst->p, worst->ci, false), half_width(*worst))
                                            : fmt::format("{} no hit yet, p {}", worst->name, estimate(0, worst->ci, true));
  return fmt::format("{}: {} ({}/{} met), {} simulated, {}", case_name, what, met, c.hazards.size(),
                     format_duration(c.now), std::isfinite(left) ? "about " + secs(left) + " left" : "time left unknown");
}

void print_table(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results) {
  for (const auto& hz : shown_hazards(results)) {
    out << fmt::format("\n{} — hazard {} (95% intervals)\n", sc.name, hz);
    out << fmt::format("{:<28} {:>12} {:>9} {:>7} {:>7}  {:<30} {:<26} {}\n", "case", "iterations", "sim time",
                       "events", "iters", "P(hit) per iteration", "events /s", "time per hit iteration");
    for (const auto& r : results) {
      for (size_t i = 0; i < r.hazards.size(); ++i) {
        const HazardResult& h = r.hazards[i];
        if (h.name != hz) continue;
        bool none = h.count == 0, p_none = r.forced ? r.forced->hazards[i].nonzero == 0 : h.iterations_hit == 0;
        out << fmt::format("{:<28} {:>12} {:>9} {:>7} {:>7}  {:<30} {:<26} {}\n", label_of(sc, r.case_name), r.iterations,
                           format_duration(r.sim_time_ns), h.count, h.iterations_hit,
                           estimate(h.p, h.p_ci, p_none), estimate(h.rate, h.rate_ci, none),
                           !p_none ? fmt::format("{} [{}, {}]", secs(h.mttf_s), secs(h.mttf_ci.lo), secs(h.mttf_ci.hi))
                                            : fmt::format("> {}", secs(h.mttf_ci.lo)));
      }
    }
  }
  bool any_window = false;
  for (const auto& r : results) any_window = any_window || !r.windows.empty();
  if (any_window) {
    out << fmt::format("\n{} — race windows (a window stretched by steal or an interrupt is what a hit needs)\n", sc.name);
    out << fmt::format("{:<28} {:<30} {:>10} {:>10} {:>10} {:>9} {:>9} {:>7}  {}\n", "case", "window", "opened/s", "mean len",
                       "max len", "by steal", "by irq", "hit", "P(window hit) [95% CI]");
    for (const auto& r : results)
      for (const auto& wr : r.windows) {
        const WindowStats& w = wr.stats;
        bool hittable = window_is_hit(sc, r.case_name, w.name);
        out << fmt::format("{:<28} {:<30} {:>10} {:>10} {:>10} {:>9} {:>9} {:>7}  {}\n", label_of(sc, r.case_name), w.name,
                           num(r.sim_time_ns > 0 ? double(w.opened) / (r.sim_time_ns * 1e-9) : 0),
                           format_duration(w.closed ? w.length_sum / double(w.closed) : 0), format_duration(w.length_max),
                           w.stretched_by_steal, w.stretched_by_irq, hittable ? std::to_string(w.hit) : "-",
                           hittable ? estimate(wr.p_hit, wr.p_hit_ci, w.hit == 0) : "- (no window_hit step)");
      }
  }
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
    if (cfg)  // only with some: a run without overrides writes what it always wrote
      for (const auto& o : cfg->overrides)
        if (!o.from_file) c["overrides"].push_back({{"key", o.key}, {"value", o.value}, {"origin", o.origin}});
    j["cases"].push_back(c);
  }
  return j;
}

}  // namespace racewin

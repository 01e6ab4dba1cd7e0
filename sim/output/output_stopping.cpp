// How each run under a stopping rule or budget ended: its table section, its JSON, and the live
// line a terminal shows while a case runs.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "output/format.hpp"
#include "output/output.hpp"

namespace racewin {

using cell::estimate;
using cell::secs;

namespace {

std::string half_width(const HazardCheck& h) {
  return h.iterations_hit ? fmt::format("{:.3g}%", 100 * (h.ci.hi - h.ci.lo) / 2 / h.p) : "-";
}

std::string met_by(const HazardCheck& h) {
  return h.rel_met && h.below_met ? "both" : h.rel_met ? "rel-error" : h.below_met ? "p-below" : "not met";
}

bool any_rule(const std::vector<CaseResult>& results) {
  for (const auto& r : results)
    if (r.stopping && r.stopping->rule.has_rule()) return true;
  return false;
}

}  // namespace

void print_stopping(std::ostream& out, const Scenario& sc, const std::vector<CaseResult>& results) {
  bool any = false, wall = false;
  for (const auto& r : results)
    if (r.stopping) any = true, wall = wall || r.stopping->rule.max_wall_s > 0;
  if (!any) return;
  out << fmt::format("\n{} — how each run stopped (rule and event budget checked every {} events)\n", sc.name,
                     kCheckpointEvents);
  out << fmt::format("{:<28} {:<32} {:>16} {:>9}  {:<30} {:<30} {:>10}  {}\n", "case", "stopped by", "model events [n]", "sim time",
                     "hazard", "P(hit) per iteration", "half-width", "rule");
  for (const auto& r : results) {
    if (!r.stopping) continue;
    const Stopping& s = *r.stopping;
    std::string head = fmt::format("{:<28} {:<32} {:>16} {:>9}", label_of(sc, r.case_name), s.reason, s.events, format_duration(s.sim_time_ns));
    if (s.hazards.empty()) out << head << "\n";
    for (size_t i = 0; i < s.hazards.size(); ++i) {
      const HazardCheck& h = s.hazards[i];
      out << fmt::format("{}  {:<30} {:<30} {:>10}  {}\n", i ? std::string(head.size(), ' ') : head, h.name,
                         estimate(h.p, h.ci, h.iterations_hit == 0), half_width(h), s.rule.has_rule() ? met_by(h) : "-");
    }
  }
  // A default hazard nothing can hit is left out of the rule (it could never be met): say which.
  std::vector<std::pair<std::string, std::vector<std::string>>> sets;  // the names left out, and the cases
  size_t ruled = 0;
  for (const auto& r : results) {
    if (!r.stopping) continue;
    ++ruled;
    if (r.stopping->left_out.empty()) continue;
    std::string names;
    for (const auto& h : r.stopping->left_out) names += (names.empty() ? "" : ", ") + h;
    auto it = std::find_if(sets.begin(), sets.end(), [&](const auto& x) { return x.first == names; });
    if (it == sets.end()) it = sets.insert(sets.end(), {names, {}});
    it->second.push_back(label_of(sc, r.case_name));
  }
  std::string left;
  for (const auto& [names, cases] : sets) {
    std::string who;
    for (const auto& c : cases) who += (who.empty() ? "" : ", ") + c;
    left += fmt::format("{}{} ({})", left.empty() ? "" : "; ", names, sets.size() == 1 && cases.size() == ruled ? "every case" : who);
  }
  if (!left.empty() && any_rule(results))
    out << "note: the rule looks at the hazards each case can hit; left out, as nothing can hit them: " << left << "\n";
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
  j["left_out"] = s.left_out;  // default hazards nothing in the case can hit
  j["hazards"] = nlohmann::json::array();
  for (const auto& h : s.hazards)
    j["hazards"].push_back({{"hazard", h.name},
                            {"iterations_hit", h.iterations_hit},
                            {"p_iteration_hit", h.p},
                            {"p_iteration_hit_ci95", {h.ci.lo, h.ci.hi}},
                            {"met", h.met() ? nlohmann::json(met_by(h)) : nlohmann::json(nullptr)}});
  return j;
}

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

}  // namespace racewin

// One-at-a-time sensitivity sweeps: which of a case's parameters its hazard probability depends on.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/units.hpp"
#include "config/profile_marks.hpp"
#include "sweep/sweep.hpp"

namespace racewin {

nlohmann::json scaled_value(const nlohmann::json& v, double f, bool top) {
  if (v.is_object() || v.is_array()) {
    nlohmann::json out = v;
    for (auto& [k, x] : out.items()) x = scaled_value(x, f, false);
    return out;
  }
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  size_t used = 0;
  try {
    double x = std::stod(s, &used);
    if (used == s.size()) return top ? nlohmann::json(fmt::format("{:.6g}", x * f)) : v;
  } catch (const std::exception&) {
  }
  if (auto ns = parse_duration_ns(s)) return fmt::format("{:.6g}ns", *ns * f);
  return v;
}


// Every parameter the case's arch and hypervisor profiles mark as an estimate and whose value
// holds a duration to scale (sim/config/profile_marks.hpp), in file order; not an arch cost the
// hypervisor's replaces.
std::vector<std::string> estimated_parameters(const CaseConfig& c) {
  std::vector<std::string> out;
  for (const auto& p : case_params(c)) {
    const nlohmann::json* v = resolved_value(c.resolved, p.key);
    if (p.estimate() && v && scaled_value(*v, 2, false) != *v && replaced_by(c, p.key).empty()) out.push_back(p.key);
  }
  return out;
}

void sensitivity_points(const CNode& node, Sweep& sw) {
  node.allow_keys({"hazard", "factor", "parameters"});
  Sensitivity s;
  s.hazard = node.at("hazard").str();
  if (auto f = node.get("factor")) {
    s.factor = f->number();
    if (!(s.factor > 1)) f->fail("the factor must be above 1 (each parameter is divided and multiplied by it)");
  }
  if (sw.cases.size() != 1) node.fail("a sensitivity studies one case: give the sweep 'cases: [NAME]'");
  Scenario sc = load_scenario(sw.scenario, {}, sw.cases);
  const CaseConfig& c = sc.cases.at(0);
  std::vector<SourceLoc> origin;  // where each parameter was named, for messages
  if (auto params = node.get("parameters")) {
    for (const auto& p : params->items()) s.parameters.push_back(p.str()), origin.push_back(p.loc());
    if (s.parameters.empty()) params->fail("a sensitivity needs at least one parameter (or none given: every estimate)");
  } else {
    s.parameters = estimated_parameters(c);
    origin.assign(s.parameters.size(), node.loc());
    if (s.parameters.empty())
      node.fail("case " + sw.cases[0] + "'s profiles mark no duration as an estimate [E]: give 'parameters:'");
  }
  sw.param_names = {"parameter", "factor"};
  sw.points.push_back({0, {{"parameter", "none"}, {"factor", "1"}}, {}});
  for (size_t i = 0; i < s.parameters.size(); ++i) {
    const nlohmann::json* v = resolved_value(c.resolved, s.parameters[i]);
    if (!v)
      throw ConfigError(origin[i], "case " + sw.cases[0] + " has no value at '" + s.parameters[i] + "' to scale (give it in the scenario)");
    for (double f : {1 / s.factor, s.factor}) {
      SweepPoint p;
      p.index = sw.points.size();
      p.params = {{"parameter", s.parameters[i]}, {"factor", fmt::format("{:.6g}", f)}};
      p.overrides = {{s.parameters[i], scaled_value(*v, f, true).dump(), origin[i].str() + " (sensitivity)", "", "", true}};
      sw.points.push_back(std::move(p));
    }
  }
  sw.sensitivity = s;
}

std::string sensitivity_csv(const Sweep& sw, const std::vector<nlohmann::json>& points) {
  const Sensitivity& s = *sw.sensitivity;
  struct Row {
    std::string parameter;
    double lo_p, hi_p, e, e_lo, e_hi;
    bool reliable;
  };
  auto estimate = [&](const nlohmann::json& pt, double& p, double& se_log, bool& ok) {
    for (const auto& h : pt.at("cases").at(0).at("hazards"))
      if (h.at("hazard") == s.hazard) {
        p = h.at("p").get<double>();
        ok = estimate_reliable(h);
        double hi = h.at("p_hi").is_null() ? INFINITY : h.at("p_hi").get<double>();
        se_log = p > 0 ? (hi - h.at("p_lo").get<double>()) / 2 / 1.959964 / p : INFINITY;
        return true;
      }
    return false;
  };
  std::vector<Row> rows;
  for (size_t i = 0; i < s.parameters.size(); ++i) {
    double a = 0, sa = 0, b = 0, sb = 0;
    bool oka = false, okb = false;
    if (!estimate(points.at(1 + 2 * i), a, sa, oka) || !estimate(points.at(2 + 2 * i), b, sb, okb)) continue;
    double l = 2 * std::log(s.factor), e = a > 0 && b > 0 ? (std::log(b) - std::log(a)) / l : NAN;
    double half = 1.959964 * std::hypot(sa, sb) / l;  // independent runs, delta method on ln P
    rows.push_back({s.parameters[i], a, b, e, e - half, e + half, oka && okb});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return std::isnan(y.e) ? !std::isnan(x.e) : !std::isnan(x.e) && std::abs(x.e) > std::abs(y.e);
  });
  // `reliable`: both ends' estimates can stand (estimate_reliable); an elasticity from one that
  // cannot is UNRELIABLE whatever its interval says.
  std::string out = "rank,parameter,p_divided,p_multiplied,elasticity,elasticity_lo,elasticity_hi,reliable\n";
  for (size_t r = 0; r < rows.size(); ++r)
    out += fmt::format("{},{},{:.6g},{:.6g},{:.4g},{:.4g},{:.4g},{}\n", r + 1, rows[r].parameter, rows[r].lo_p, rows[r].hi_p,
                       rows[r].e, rows[r].e_lo, rows[r].e_hi, rows[r].reliable ? "true" : "UNRELIABLE");
  return out;
}

}  // namespace racewin

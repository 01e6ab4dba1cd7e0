// One-at-a-time sensitivity sweeps: which of a case's parameters its hazard probability depends on.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sweep.hpp"
#include "units.hpp"

namespace racewin {

namespace {

// The value at a dotted configuration key in a case's resolved configuration: arch.* and
// hypervisor.* in their profiles, anything else in the scenario file's own keys.
const nlohmann::json* value_at(const nlohmann::json& resolved, const std::string& key) {
  std::vector<std::string> parts;
  for (size_t at = 0, dot; at <= key.size(); at = dot + 1) {
    dot = std::min(key.find('.', at), key.size());
    parts.push_back(key.substr(at, dot - at));
  }
  const nlohmann::json* j = &resolved.at("scenario");
  size_t first = 0;
  if (parts[0] == "arch" || parts[0] == "hypervisor") j = &resolved.at(parts[0]), first = 1;
  for (size_t i = first; i < parts.size(); ++i) {
    if (j->is_object() && j->contains(parts[i])) j = &(*j)[parts[i]];
    else if (j->is_array() && std::all_of(parts[i].begin(), parts[i].end(), ::isdigit) && std::stoul(parts[i]) < j->size())
      j = &(*j)[std::stoul(parts[i])];
    else return nullptr;
  }
  return j;
}

// `v` with every duration in it multiplied by f; a bare number is scaled only as the whole value.
nlohmann::json scaled(const nlohmann::json& v, double f, bool top) {
  if (v.is_object() || v.is_array()) {
    nlohmann::json out = v;
    for (auto& [k, x] : out.items()) x = scaled(x, f, false);
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

}  // namespace

void sensitivity_points(const CNode& node, Sweep& sw) {
  node.allow_keys({"hazard", "factor", "parameters"});
  Sensitivity s;
  s.hazard = node.at("hazard").str();
  if (auto f = node.get("factor")) {
    s.factor = f->number();
    if (!(s.factor > 1)) f->fail("the factor must be above 1 (each parameter is divided and multiplied by it)");
  }
  for (const auto& p : node.at("parameters").items()) s.parameters.push_back(p.str());
  if (s.parameters.empty()) node.at("parameters").fail("a sensitivity needs at least one parameter");
  if (sw.cases.size() != 1) node.fail("a sensitivity studies one case: give the sweep 'cases: [NAME]'");
  Scenario sc = load_scenario(sw.scenario, {}, sw.cases);
  const nlohmann::json& resolved = sc.cases.at(0).resolved;
  sw.param_names = {"parameter", "factor"};
  sw.points.push_back({0, {{"parameter", "none"}, {"factor", "1"}}, {}});
  auto params = node.at("parameters").items();
  for (size_t i = 0; i < s.parameters.size(); ++i) {
    const nlohmann::json* v = value_at(resolved, s.parameters[i]);
    if (!v) params[i].fail("case " + sw.cases[0] + " has no value at '" + s.parameters[i] + "' to scale (give it in the scenario)");
    for (double f : {1 / s.factor, s.factor}) {
      SweepPoint p;
      p.index = sw.points.size();
      p.params = {{"parameter", s.parameters[i]}, {"factor", fmt::format("{:.6g}", f)}};
      p.overrides = {{s.parameters[i], scaled(*v, f, true).dump(), params[i].loc().str() + " (sensitivity)"}};
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
  };
  auto estimate = [&](const nlohmann::json& pt, double& p, double& se_log) {
    for (const auto& h : pt.at("cases").at(0).at("hazards"))
      if (h.at("hazard") == s.hazard) {
        p = h.at("p").get<double>();
        double hi = h.at("p_hi").is_null() ? INFINITY : h.at("p_hi").get<double>();
        se_log = p > 0 ? (hi - h.at("p_lo").get<double>()) / 2 / 1.959964 / p : INFINITY;
        return true;
      }
    return false;
  };
  std::vector<Row> rows;
  for (size_t i = 0; i < s.parameters.size(); ++i) {
    double a = 0, sa = 0, b = 0, sb = 0;
    if (!estimate(points.at(1 + 2 * i), a, sa) || !estimate(points.at(2 + 2 * i), b, sb)) continue;
    double l = 2 * std::log(s.factor), e = a > 0 && b > 0 ? (std::log(b) - std::log(a)) / l : NAN;
    double half = 1.959964 * std::hypot(sa, sb) / l;  // independent runs, delta method on ln P
    rows.push_back({s.parameters[i], a, b, e, e - half, e + half});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return std::isnan(y.e) ? !std::isnan(x.e) : !std::isnan(x.e) && std::abs(x.e) > std::abs(y.e);
  });
  std::string out = "rank,parameter,p_divided,p_multiplied,elasticity,elasticity_lo,elasticity_hi\n";
  for (size_t r = 0; r < rows.size(); ++r)
    out += fmt::format("{},{},{:.6g},{:.6g},{:.4g},{:.4g},{:.4g}\n", r + 1, rows[r].parameter, rows[r].lo_p, rows[r].hi_p,
                       rows[r].e, rows[r].e_lo, rows[r].e_hi);
  return out;
}

}  // namespace racewin

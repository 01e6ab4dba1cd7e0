#include "sweep/sweep_run.hpp"

#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "base/version.hpp"
#include "output/output.hpp"
#include "run/run.hpp"

namespace racewin {

namespace {

std::string slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

uint64_t fnv1a(const std::string& s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string sweep_fingerprint(const Sweep& sw) {
  return fmt::format("{:016x}", fnv1a(slurp(sw.scenario), fnv1a(slurp(sw.file))));
}

std::filesystem::path point_path(const std::filesystem::path& dir, size_t index) {
  return dir / "points" / fmt::format("{:06d}.json", index);
}

nlohmann::json run_sweep_point(const Sweep& sw, const SweepPoint& p, RunControl& control) {
  std::vector<Override> ov = p.overrides;
  const std::string label = sw.file + " (run:)";
  if (sw.run.iterations) ov.push_back({"run.iterations", std::to_string(sw.run.iterations), label}), ov.push_back({"run.time", "0", label});
  else if (!sw.run.time.empty()) ov.push_back({"run.time", sw.run.time, label}), ov.push_back({"run.iterations", "0", label});
  ov.push_back({"run.seed", std::to_string(sw.seed), sw.file + " (seed)"});
  ov.push_back({"run.replications", "1", label});
  Scenario sc = load_scenario(sw.scenario, ov, sw.cases);

  StoppingRule rule;
  rule.rel_error = sw.run.rel_error;
  rule.p_below = sw.run.p_below;
  rule.hazards = sw.run.hazards;
  std::optional<ForceOptions> force;
  if (!sw.run.rare_event.empty()) force = ForceOptions::parse(sw.run.rare_event);
  const bool ruled = rule.has_rule() || force || !rule.hazards.empty();

  nlohmann::json j;
  j["sweep"] = sw.name;
  j["fingerprint"] = sweep_fingerprint(sw);
  j["version"] = kVersion;
  j["point"] = p.index;
  j["seed"] = sw.seed;
  for (const auto& prm : p.params) j["params"][prm.name] = prm.value;
  for (const auto& o : p.overrides) j["overrides"].push_back({{"key", o.key}, {"value", o.value}});
  for (const auto& c : sc.cases) {
    CaseResult r = run_case(c, EngineKind::Native, control, {}, ruled ? &rule : nullptr, {}, force ? &*force : nullptr);
    if (control.interrupted) return {};
    nlohmann::json cj = {{"case", r.case_name},
                         {"iterations", r.iterations},
                         {"sim_time_ns", r.sim_time_ns},
                         {"events", r.events},
                         {"ipis", r.ipis},
                         {"stopped_by", r.stopping ? r.stopping->reason : "budget spent"},
                         {"failure", r.failure},
                         {"config", c.resolved}};
    for (size_t h = 0; h < r.hazards.size(); ++h) {
      const HazardResult& hr = r.hazards[h];
      if (!rule.hazards.empty() && std::find(rule.hazards.begin(), rule.hazards.end(), hr.name) == rule.hazards.end()) continue;
      nlohmann::json hj = {{"hazard", hr.name},
                           {"p", hr.p},
                           {"p_lo", hr.p_ci.lo},
                           {"p_hi", json_number(hr.p_ci.hi)},
                           {"events", hr.count},
                           {"iterations_hit", hr.iterations_hit},
                           {"method", r.forced ? "force" : "crude"}};
      if (r.forced) {
        hj["effective_hits"] = r.forced->hazards[h].ess;
        const ForcedHazard& f = r.forced->hazards[h];
        hj["reliable"] = !f.unreliable() && f.nonzero > 0;  // no weighted hit: an upper bound
      }
      cj["hazards"].push_back(hj);
    }
    j["cases"].push_back(cj);
  }
  j["checksum"] = point_checksum(j);
  return j;
}

bool estimate_reliable(const nlohmann::json& h) {
  if (h.value("method", "crude") == "force") return h.value("reliable", true) && h.value("p", 0.0) > 0;
  return h.value("iterations_hit", uint64_t(0)) >= 3;
}

std::string point_checksum(const nlohmann::json& point) {
  nlohmann::json j = point;
  j.erase("checksum");
  return fmt::format("{:016x}", fnv1a(j.dump()));
}

std::string sweep_csv(const std::vector<std::string>& param_names, const std::vector<nlohmann::json>& points) {
  std::string out = "point";
  for (const auto& n : param_names) out += "," + csv_field(n);
  // `reliable`: false for a forced estimate on fewer than kMinEffectiveHits effective hits, or on
  // none (an upper bound).
  out += ",case,hazard,p,p_lo,p_hi,method,reliable,iterations,sim_time_s,iterations_hit,events,stopped_by,failed,iterations_per_s,ipis_per_iteration\n";
  for (const auto& p : points)
    for (const auto& c : p.at("cases"))
      for (const auto& h : c.value("hazards", nlohmann::json::array())) {
        // The counted thread's pace and the shootdown IPIs (every sender) per counted iteration.
        const auto iters = c.at("iterations").get<uint64_t>();
        const double secs = c.at("sim_time_ns").get<double>() * 1e-9;
        const std::string pace = fmt::format(",{:.6g},{}", secs > 0 ? double(iters) / secs : 0.0,
                                             iters ? fmt::format("{:.6g}", double(c.value("ipis", uint64_t(0))) / double(iters)) : "nan");
        out += std::to_string(p.at("point").get<size_t>());
        for (const auto& n : param_names)  // two appends: "," + a temporary trips GCC 12's -Wrestrict here
          out += ',', out += csv_field(p.at("params").at(n).get<std::string>());
        out += fmt::format(",{},{},{:.6g},{:.6g},{},{},{},{},{:.9g},{},{},{},{}\n", csv_field(c.at("case").get<std::string>()),
                           csv_field(h.at("hazard").get<std::string>()), h.at("p").get<double>(), h.at("p_lo").get<double>(),
                           h.at("p_hi").is_null() ? std::string("inf") : fmt::format("{:.6g}", h.at("p_hi").get<double>()),
                           h.at("method").get<std::string>(), h.value("reliable", true) ? "true" : "false",
                           c.at("iterations").get<uint64_t>(),
                           c.at("sim_time_ns").get<double>() * 1e-9, h.at("iterations_hit").get<uint64_t>(),
                           h.at("events").get<uint64_t>(), csv_field(c.at("stopped_by").get<std::string>()),
                           c.at("failure").get<std::string>().empty() ? "false" : "true");
        out.insert(out.size() - 1, pace);
      }
  return out;
}

}  // namespace racewin

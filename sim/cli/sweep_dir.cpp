#include "cli/sweep_dir.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "output/write_file.hpp"

namespace racewin::cli {

namespace fs = std::filesystem;

std::optional<nlohmann::json> read_object(const fs::path& p, std::string* problem) {
  std::string none;
  std::string& why = problem ? *problem : none;
  why.clear();
  std::ifstream in(p);
  if (!in) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    why = "not JSON, or cut short";
    return std::nullopt;
  }
  if (!j.is_object()) {
    why = fmt::format("not a JSON object (a JSON {})", j.type_name());
    return std::nullopt;
  }
  return j;
}

PointFile read_point(const fs::path& dir, size_t index, const std::string& fingerprint) {
  PointFile f;
  auto j = read_object(point_path(dir, index), &f.problem);
  if (!j) return f;
  const auto fp = j->find("fingerprint");
  const auto sum = j->find("checksum");
  if (fp == j->end() || !fp->is_string() || sum == j->end() || !sum->is_string() || !j->contains("cases")) {
    f.problem = "not a point file racewin wrote (no fingerprint, checksum or cases)";
  } else if (*fp != fingerprint) {
    f.other_sweep = true;  // a stale point of the sweep before a change: run again, silently
  } else if (*sum != point_checksum(*j)) {
    f.problem = "edited since it was written (its checksum does not match its content)";
  } else {
    f.doc = std::move(j);
  }
  return f;
}

nlohmann::json header(const Sweep& sw, const std::string& fingerprint, const std::string& shard) {
  nlohmann::json h = {{"sweep", sw.name}, {"fingerprint", fingerprint}, {"points", sw.points.size()},
                      {"params", sw.param_names}, {"shard", shard}};
  if (const auto& s = sw.sensitivity)
    h["sensitivity"] = {{"case", sw.cases.at(0)}, {"hazard", s->hazard}, {"factor", s->factor}, {"parameters", s->parameters}};
  if (const auto& u = sw.uncertainty)
    h["uncertainty"] = {{"cases", u->cases}, {"hazard", u->hazard}, {"samples", u->samples}, {"parameters", u->parameters},
                        {"case_parameters", u->case_parameters}};
  return h;
}

bool valid_header(const nlohmann::json& h) {
  auto is = [&](const char* k, auto pred) { return h.contains(k) && pred(h.at(k)); };
  auto strings = [](const nlohmann::json& a) {
    return a.is_array() && std::all_of(a.begin(), a.end(), [](const nlohmann::json& x) { return x.is_string(); });
  };
  bool ok = h.is_object() && is("sweep", [](auto& x) { return x.is_string(); }) &&
            is("fingerprint", [](auto& x) { return x.is_string(); }) &&
            is("points", [](auto& x) { return x.is_number_unsigned() && x.template get<uint64_t>() <= 100000000; }) &&
            is("params", strings) && is("shard", [](auto& x) { return x.is_string(); });
  if (ok && h.contains("sensitivity")) {
    const auto& s = h.at("sensitivity");
    ok = s.is_object() && s.contains("case") && s.at("case").is_string() && s.contains("hazard") && s.at("hazard").is_string() &&
         s.contains("factor") && s.at("factor").is_number() && s.contains("parameters") && strings(s.at("parameters"));
  }
  if (ok && h.contains("uncertainty")) {
    const auto& u = h.at("uncertainty");
    ok = u.is_object() && u.contains("cases") && strings(u.at("cases")) && u.contains("hazard") && u.at("hazard").is_string() &&
         u.contains("samples") && u.at("samples").is_number_unsigned() && u.contains("parameters") && strings(u.at("parameters")) &&
         u.contains("case_parameters") && u.at("case_parameters").is_array() &&
         std::all_of(u.at("case_parameters").begin(), u.at("case_parameters").end(), strings);
  }
  return ok;
}

std::string field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "?";
  const auto& v = j.at(key);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

void write_table(const fs::path& dir, const nlohmann::json& head, const std::vector<nlohmann::json>& pts) {
  write_atomic(dir / "sweep.csv", sweep_csv(head.at("params").get<std::vector<std::string>>(), pts));
  if (head.contains("uncertainty")) {
    const auto& hu = head.at("uncertainty");
    Sweep sw;
    sw.uncertainty = Uncertainty{hu.at("hazard").get<std::string>(), hu.at("samples").get<size_t>(),
                                 hu.at("cases").get<std::vector<std::string>>(), hu.at("parameters").get<std::vector<std::string>>(),
                                 hu.at("case_parameters").get<std::vector<std::vector<std::string>>>()};
    std::string csv = uncertainty_csv(sw, pts);
    write_atomic(dir / "uncertainty.csv", csv);
    std::cout << fmt::format("{} per iteration over the box of the estimates' ranges ({} Latin hypercube samples, common "
                             "random numbers; drivers: Spearman's rank correlation beyond noise):\n{}",
                             sw.uncertainty->hazard, sw.uncertainty->samples, csv);
  }
  if (!head.contains("sensitivity")) return;
  const auto& hs = head.at("sensitivity");
  Sweep sw;
  sw.cases = {hs.at("case").get<std::string>()};
  sw.sensitivity = Sensitivity{hs.at("hazard").get<std::string>(), hs.at("factor").get<double>(),
                               hs.at("parameters").get<std::vector<std::string>>()};
  std::string csv = sensitivity_csv(sw, pts);
  write_atomic(dir / "sensitivity.csv", csv);
  std::cout << fmt::format("{}: {} per iteration against each parameter divided and multiplied by {} "
                           "(elasticity d ln P / d ln parameter, 95%):\n{}", sw.cases[0], sw.sensitivity->hazard,
                           sw.sensitivity->factor, csv);
}

std::string foreign_entry(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "";
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    // sweep.yaml: the sweep racewin run --uncertainty writes and runs there.
    if (name == "sweep.json" || name == "sweep.yaml" || name == "points" || name == "sweep.csv" || name == "sensitivity.csv" ||
        name == "uncertainty.csv")
      continue;
    if (name == "report" || name[0] == '.') continue;  // racewin report's plots; .nfs files and the like
    if (e.path().extension() == ".tmp") continue;      // a write cut short, or a concurrent task's
    return name;
  }
  return "";
}

}  // namespace racewin::cli

#include "calibrate/predict_run.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <numeric>
#include <stdexcept>

#include "calibrate/cost_fit.hpp"
#include "config/config.hpp"
#include "config/scenario.hpp"
#include "run/run.hpp"

namespace racewin::calibrate {

std::string race_case_name(const ProbeRace& r) { return fmt::format("w{:.0f}ns_g{:.0f}ns", r.window_ns, r.check_gap_ns); }

namespace {

// What the model says of one window race, as the probe would have measured it.
void fill_predicted(RaceComparison& c, const WindowResult& w, double read_ns) {
  c.p = w.p_hit, c.p_ci = w.p_hit_ci;
  // As the probe measures a window: with one clock read.
  c.mean_len = (w.stats.closed ? w.stats.length_sum / double(w.stats.closed) : 0) + read_ns;
  c.p_stretched = w.stats.closed ? std::min(1.0, double(w.stats.stretched_by_steal + w.stats.stretched_by_irq) / double(w.stats.closed)) : 0;
  const auto& hist = w.stats.length_hist;
  std::vector<double> edges;
  for (size_t k = 0; k < hist.size(); ++k) edges.push_back(WindowStats::bin_edge(k));
  for (size_t k : tail_bins(c.measured.window_ns, edges)) {
    c.tail_x.push_back(edges[k]);
    c.tail_predicted.push_back(std::accumulate(hist.begin() + std::ptrdiff_t(k), hist.end(), uint64_t(0)));
  }
  c.predicted_closed = std::accumulate(hist.begin(), hist.end(), uint64_t(0));
}

}  // namespace

std::vector<RaceComparison> run_races(const std::string& file, const Probe& measured) {
  Scenario sc = load_scenario(file, {});
  std::vector<RaceComparison> rows;
  for (const auto& sc_case : sc.cases) {
    const ProbeRace* race = nullptr;
    for (const auto& r : measured.races)
      if (race_case_name(r) == sc_case.name) race = &r;
    if (!race)
      throw ConfigError({measured.file, 0, 0}, fmt::format("key races: no race of the case {} of {} (a window and a check gap the probe did not run)",
                                                           sc_case.name, file));
    RunControl control;
    CaseResult r = run_case(sc_case, EngineKind::Native, control);
    if (!r.failure.empty()) throw std::runtime_error("case " + sc_case.name + " of " + file + ": " + r.failure);
    RaceComparison c;
    c.measured = *race;
    c.measured_p_ci = binomial_interval(race->hits, race->windows);
    for (const auto& w : r.windows)
      if (w.stats.name == "race") fill_predicted(c, w, measured.read_ns);
    rows.push_back(c);
  }
  return rows;
}

std::vector<LoopComparison> run_loops(const std::string& file, const Probe& measured, const std::vector<Override>& overrides) {
  // loops_scenario's cases are loop_case_names(), in order: the file is loaded once, by loop_times.
  std::vector<std::string> names = loop_case_names();
  std::vector<double> m = measured_loops(measured), predicted = loop_times(file, overrides);
  std::vector<LoopComparison> rows;
  for (size_t i = 0; i < names.size() && i < m.size() && i < predicted.size(); ++i) rows.push_back({names[i], m[i], predicted[i]});
  return rows;
}

std::vector<Override> read_case_keys(const std::string& file) {
  CNode root = CNode::load_file(file);
  std::vector<Override> out;
  if (root.is_null()) return out;
  if (!root.is_map()) root.fail("expected a map of case keys (KEY: VALUE lines, as racewin calibrate writes arch_costs.yaml)");
  for (const auto& [key, value] : root.entries()) {
    YAML::Emitter e;
    e << YAML::Flow << value.raw();
    SourceLoc at = value.loc();
    out.push_back({key, e.c_str(), fmt::format("{}:{}", at.file, at.line)});
  }
  return out;
}

}  // namespace racewin::calibrate

#include "calibrate/fits_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace racewin::calibrate {

double fitted_quantile(const LawFit& f, double q) {
  const FamilyFit& b = f.best();
  double lo = std::max(f.lower, 1e-3), f_lo = f.lower > 0 ? b.cdf(f.lower) : 0.0, hi = std::max(2 * lo, 1.0);
  auto conditional = [&](double x) { return (b.cdf(x) - f_lo) / (1 - f_lo); };
  while (conditional(hi) < q && hi < 1e15) hi *= 2;
  for (int i = 0; i < 200 && hi / lo > 1 + 1e-9; ++i) {  // bisection on a log scale
    double mid = std::sqrt(lo * hi);
    (conditional(mid) < q ? lo : hi) = mid;
  }
  return std::sqrt(lo * hi);
}

namespace {

// Six significant digits: what a plot needs, and the same file on every machine of one libm.
double sig6(double x) { return std::stod(fmt::format("{:.6g}", x)); }

nlohmann::json law(const std::string& name, const LawFit& f) {
  nlohmann::json j;
  j["name"] = name;
  j["n"] = f.n;
  j["lower_ns"] = f.lower;
  j["family"] = family_name(f.best().family);
  j["family_law"] = f.best().yaml();
  j["ks"] = sig6(f.best().ks);
  j["ks_critical"] = sig6(f.ks_critical);
  j["taken"] = f.parametric_fits() ? "family" : "empirical";
  const size_t k = f.quantiles.size();
  std::vector<double> prob, fitted;
  for (size_t i = 0; i < k; ++i) {
    prob.push_back((double(i) + 0.5) / double(k));
    fitted.push_back(sig6(fitted_quantile(f, prob.back())));
  }
  std::vector<double> measured;
  for (double x : f.quantiles) measured.push_back(sig6(x));
  j["probability"] = prob;
  j["measured_ns"] = measured;
  j["fitted_ns"] = fitted;
  return j;
}

}  // namespace

std::string fits_json(const Probe& p, const StallFit& s, const FlushFit& flush) {
  nlohmann::json laws = nlohmann::json::array();
  if (s.tick.found && s.tick.length) laws.push_back(law("the tick's gap", *s.tick.length));
  for (size_t i = 0; i < s.other_periodic.size(); ++i)
    if (s.other_periodic[i].length) laws.push_back(law("periodic source " + std::to_string(i + 1) + "'s gap", *s.other_periodic[i].length));
  if (s.rest.running) laws.push_back(law("the rest: running time between gaps", *s.rest.running));
  if (s.rest.length) laws.push_back(law("the rest: gap length", *s.rest.length));
  if (flush.stall) laws.push_back(law("remote flush: the target's hold", *flush.stall));
  nlohmann::json j;
  j["format"] = "racewin-fits/1";
  j["probe"] = p.name;
  j["date"] = p.date;
  j["laws"] = laws;
  return j.dump(1) + "\n";
}

}  // namespace racewin::calibrate

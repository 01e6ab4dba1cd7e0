// Uncertainty sweeps: the answer over the box of every estimate's plausible range. Each estimate
// ([E lo..hi] in its profile: profile_marks.hpp) is one dimension; a Latin hypercube of `samples`
// points spreads each dimension's quantile evenly, and a point scales each case's value of that
// estimate to lo * (hi / lo)^u (log-uniform: the ranges span factors, not sums). Every point runs
// with the sweep's seed: common random numbers, so that the spread across points is the
// parameters', not the Monte Carlo noise's. A key two cases both estimate (arch.costs.spin_lock on
// s390x and on x86_64) takes the same quantile in both: assumed errors of the same kind move together.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "base/rng.hpp"
#include "base/stats.hpp"
#include "config/profile_marks.hpp"
#include "sweep/sweep.hpp"

namespace racewin {

namespace {

// The estimates of case `c` that a point can scale: an [E] with a value holding a duration, not
// an arch cost the hypervisor's replaces. An estimate without a range is an error: the box would
// silently leave it at its nominal value.
std::vector<std::pair<ProfileParam, RangeFactors>> ranged_estimates(const CaseConfig& c) {
  std::vector<std::pair<ProfileParam, RangeFactors>> out;
  for (const auto& p : case_params(c)) {
    const nlohmann::json* v = resolved_value(c.resolved, p.key);
    if (!p.estimate() || !v || scaled_value(*v, 2, false) == *v || !replaced_by(c, p.key).empty()) continue;
    auto r = range_factors(p, *v);
    if (!r) throw ConfigError(p.loc, p.key + " is an estimate without a range: write it in its mark, [E lo..hi] or [E x0.5..x2]");
    out.push_back({p, *r});
  }
  return out;
}

double quantile(std::vector<double> v, double q) {  // linear between order statistics
  std::sort(v.begin(), v.end());
  double at = q * double(v.size() - 1);
  size_t i = size_t(at);
  return i + 1 < v.size() ? v[i] + (at - double(i)) * (v[i + 1] - v[i]) : v[i];
}

std::vector<double> ranks(const std::vector<double>& v) {  // average ranks of ties
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = (double(i) + double(j)) / 2;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> a = ranks(x), b = ranks(y);
  double ma = std::accumulate(a.begin(), a.end(), 0.0) / double(a.size()), mb = std::accumulate(b.begin(), b.end(), 0.0) / double(b.size());
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : NAN;
}

}  // namespace

void uncertainty_points(const CNode& node, Sweep& sw) {
  node.allow_keys({"hazard", "samples", "seed"});
  Uncertainty u;
  u.hazard = node.at("hazard").str();
  u.samples = size_t(node.at("samples").integer(2, 100000));
  uint64_t seed = node.has("seed") ? uint64_t(node.at("seed").integer(0, 1L << 62)) : sw.seed;
  Scenario sc = load_scenario(sw.scenario, {}, sw.cases);
  struct Dim {
    std::string key;
    std::vector<std::pair<size_t, RangeFactors>> per_case;  // the cases that estimate it
  };
  std::vector<Dim> dims;
  std::map<std::string, size_t> dim_of;
  for (size_t ci = 0; ci < sc.cases.size(); ++ci)
    for (const auto& [p, r] : ranged_estimates(sc.cases[ci])) {
      auto [it, fresh] = dim_of.emplace(p.key, dims.size());
      if (fresh) dims.push_back({p.key, {}});
      dims[it->second].per_case.push_back({ci, r});
    }
  if (dims.empty()) node.fail("the cases' profiles mark no duration as an estimate with a range: nothing to sample");
  for (const auto& c : sc.cases) u.cases.push_back(c.name);
  for (const auto& d : dims) u.parameters.push_back(d.key);
  u.case_parameters.resize(sc.cases.size());
  for (const auto& d : dims)
    for (const auto& pc : d.per_case) u.case_parameters[pc.first].push_back(d.key);
  // Latin hypercube: per dimension a random permutation of the strata, a uniform draw inside each.
  Rng rng(seed, 0x0ce27a1u);
  std::vector<std::vector<double>> q;
  for (size_t k = 0; k < dims.size(); ++k) q.push_back(sample_quantiles(rng, u.samples, true));
  sw.param_names = {"sample"};
  for (const auto& d : dims) sw.param_names.push_back(d.key);
  SweepPoint nominal{0, {{"sample", "nominal"}}, {}};
  for (size_t k = 0; k < dims.size(); ++k) nominal.params.push_back({dims[k].key, "nominal"});
  sw.points.push_back(std::move(nominal));
  for (size_t i = 0; i < u.samples; ++i) {
    SweepPoint p;
    p.index = sw.points.size();
    p.params.push_back({"sample", std::to_string(i + 1)});
    for (size_t k = 0; k < dims.size(); ++k) {
      p.params.push_back({dims[k].key, fmt::format("{:.4f}", q[k][i])});
      for (const auto& [ci, r] : dims[k].per_case) {
        const CaseConfig& c = sc.cases[ci];
        double f = r.lo * std::pow(r.hi / r.lo, q[k][i]);
        Override o{dims[k].key, scaled_value(*resolved_value(c.resolved, dims[k].key), f, true).dump(),
                   node.loc().str() + " (uncertainty)", c.name, "", true};
        p.overrides.push_back(std::move(o));
      }
    }
    sw.points.push_back(std::move(p));
  }
  sw.uncertainty = u;
}

std::string uncertainty_csv(const Sweep& sw, const std::vector<nlohmann::json>& points) {
  const Uncertainty& u = *sw.uncertainty;
  // P per point and case (by position: every point runs the cases in the sweep's order), and
  // whether each is reliable (an interval the estimate can stand on).
  size_t nc = u.cases.size();
  std::vector<std::vector<double>> p(nc);
  std::vector<std::vector<bool>> ok_at(nc);
  std::vector<double> nominal(nc, NAN);
  std::vector<std::vector<double>> qs(u.parameters.size());
  for (const auto& pt : points) {
    bool is_nominal = pt.at("params").at("sample") == "nominal";
    for (size_t ci = 0; ci < nc; ++ci) {
      double v = NAN;
      bool ok = true;
      for (const auto& h : pt.at("cases").at(ci).value("hazards", nlohmann::json::array()))
        if (h.at("hazard") == u.hazard) {
          v = h.at("p").get<double>();
          ok = estimate_reliable(h);
        }
      if (is_nominal) {
        nominal[ci] = v;
        continue;
      }
      p[ci].push_back(v);
      ok_at[ci].push_back(ok);
    }
    if (!is_nominal)
      for (size_t k = 0; k < u.parameters.size(); ++k) qs[k].push_back(std::stod(pt.at("params").at(u.parameters[k]).get<std::string>()));
  }
  // A band is only as good as its samples: one estimate on fewer than 3 hits, a forced one on too
  // few effective hits or on none (an upper bound), and the row says UNRELIABLE.
  std::string out = "what,nominal,p05,p50,p95,min,max,samples,unreliable_samples,band,drivers\n";
  // A rank correlation of n independent samples is noise within about +-z/sqrt(n - 1); with m
  // estimates in a row, z is Bonferroni's for a 5% chance that any of them passes by chance.
  // n: the samples the correlation is over (a ratio's only where both sides are nonzero).
  auto noise_of = [&](size_t m, size_t n) {
    return t_quantile(1e9, 1 - 0.05 / double(std::max<size_t>(1, m))) / std::sqrt(double(std::max<size_t>(2, n) - 1));
  };
  auto row = [&](const std::string& what, double nom, const std::vector<double>& v, const std::vector<bool>& ok,
                 const std::vector<std::string>& keys) {
    std::vector<double> fin;
    std::vector<size_t> at;
    size_t bad = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      bad += !ok[i];
      if (std::isfinite(v[i])) fin.push_back(v[i]), at.push_back(i);
    }
    const double noise = noise_of(keys.size(), fin.size());
    std::string band = bad ? "UNRELIABLE" : "ok";
    if (fin.empty()) return out += fmt::format("{},{:.4g},,,,,,{},{},{},\n", what, nom, v.size(), bad, band), void();
    // Drivers: Spearman's rank correlation of each quantile with the answer, strongest first.
    std::vector<std::pair<double, std::string>> d;
    for (size_t k = 0; k < qs.size(); ++k) {
      if (std::find(keys.begin(), keys.end(), u.parameters[k]) == keys.end()) continue;  // not this row's estimate
      std::vector<double> x;
      for (size_t i : at) x.push_back(qs[k][i]);
      double rho = spearman(x, fin);
      if (std::isfinite(rho) && std::abs(rho) >= noise) d.push_back({rho, u.parameters[k]});
    }
    std::sort(d.begin(), d.end(), [](const auto& a, const auto& b) { return std::abs(a.first) > std::abs(b.first); });
    std::string drivers;
    for (size_t i = 0; i < std::min<size_t>(5, d.size()); ++i) drivers += fmt::format("{}{} {:+.2f}", i ? "; " : "", d[i].second, d[i].first);
    if (d.empty()) drivers = fmt::format("none beyond noise (+-{:.2f})", noise);
    out += fmt::format("{},{:.4g},{:.4g},{:.4g},{:.4g},{:.4g},{:.4g},{},{},{},\"{}\"\n", what, nom, quantile(fin, 0.05), quantile(fin, 0.5),
                       quantile(fin, 0.95), *std::min_element(fin.begin(), fin.end()), *std::max_element(fin.begin(), fin.end()),
                       v.size(), bad, band, drivers);
  };
  auto keys_of = [&](size_t ci) { return ci < u.case_parameters.size() ? u.case_parameters[ci] : u.parameters; };
  for (size_t ci = 0; ci < nc; ++ci) row(u.cases[ci], nominal[ci], p[ci], ok_at[ci], keys_of(ci));
  for (size_t a = 0; a < nc; ++a)  // each pair's ratio, sample by sample (the same point of the box)
    for (size_t b = a + 1; b < nc; ++b) {
      std::vector<double> r;
      std::vector<bool> ok;
      for (size_t i = 0; i < p[a].size(); ++i) {
        r.push_back(p[b][i] > 0 ? p[a][i] / p[b][i] : NAN);
        ok.push_back(ok_at[a][i] && ok_at[b][i]);
      }
      row(u.cases[a] + " / " + u.cases[b], nominal[b] > 0 ? nominal[a] / nominal[b] : NAN, r, ok, u.parameters);
    }
  return out;
}

}  // namespace racewin

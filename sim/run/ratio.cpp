// Ratios of two cases' P, paired where their replications share seeds (ratio.hpp).
#include "run/ratio.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numeric>

namespace racewin {

namespace {
constexpr double kZ = 1.959964;

Interval around(double r, double log_se, double q) { return {r * std::exp(-q * log_se), r * std::exp(q * log_se)}; }
}  // namespace

RatioEstimate ratio_of_units(const std::vector<double>& a, const std::vector<double>& na, const std::vector<double>& b,
                             const std::vector<double>& nb, bool paired) {
  RatioEstimate e;
  const size_t K = a.size();
  const double A = std::accumulate(a.begin(), a.end(), 0.0), NA = std::accumulate(na.begin(), na.end(), 0.0);
  const double B = std::accumulate(b.begin(), b.end(), 0.0), NB = std::accumulate(nb.begin(), nb.end(), 0.0);
  if (K < 2 || b.size() != K || A <= 0 || B <= 0 || NA <= 0 || NB <= 0) {
    e.why = "an estimate is zero, or fewer than two replications";
    return e;
  }
  e.r = (A / NA) / (B / NB);
  double pair = 0, solo = 0;
  for (size_t k = 0; k < K; ++k) {
    double za = a[k] / A - na[k] / NA, zb = b[k] / B - nb[k] / NB;
    pair += (za - zb) * (za - zb), solo += za * za + zb * zb;
  }
  const double f = double(K) / double(K - 1), q = t_quantile(double(K - 1));
  e.independent_ci = around(e.r, std::sqrt(f * solo), q);
  e.ci = paired ? around(e.r, std::sqrt(f * pair), q) : e.independent_ci;
  e.paired = paired;
  return e;
}

RatioEstimate case_ratio(const CaseResult& a, const CaseResult& b, const std::string& hazard) {
  auto find = [&](const CaseResult& r) -> const HazardResult* {
    for (const auto& h : r.hazards)
      if (h.name == hazard) return &h;
    return nullptr;
  };
  const HazardResult *x = find(a), *y = find(b);
  RatioEstimate e;
  if (!x || !y) {
    e.why = "a case does not report " + hazard;
    return e;
  }
  // An estimate a ratio cannot stand on (the table's own marks) makes the ratio UNRELIABLE too.
  auto unreliable = [](const CaseResult& r, const HazardResult& h) {
    if (r.forced) return r.forced->hazards[size_t(&h - r.hazards.data())].unreliable();
    return h.iterations_hit < 3;
  };
  const size_t K = a.replication_iterations.size();
  if (!a.forced && !b.forced && K >= 2 && b.replication_iterations.size() == K && a.seed == b.seed) {
    std::vector<double> ha(x->replication_hits.begin(), x->replication_hits.end()), hb(y->replication_hits.begin(), y->replication_hits.end());
    std::vector<double> na(a.replication_iterations.begin(), a.replication_iterations.end());
    std::vector<double> nb(b.replication_iterations.begin(), b.replication_iterations.end());
    e = ratio_of_units(ha, na, hb, nb, true);
    e.method = fmt::format("paired over {} replications that share seeds: Student's t ({} df) on log P's per-replication "
                           "linearisation",
                           K, K - 1);
  } else {
    if (x->p <= 0 || y->p <= 0 || !std::isfinite(x->p_ci.hi) || !std::isfinite(y->p_ci.hi)) {
      e.why = "an estimate is zero or unbounded";
      return e;
    }
    // Independent: log P has standard error (half-width / 1.96) / P on each side.
    double sa = (x->p_ci.hi - x->p_ci.lo) / 2 / kZ / x->p, sb = (y->p_ci.hi - y->p_ci.lo) / 2 / kZ / y->p;
    e.r = x->p / y->p;
    e.ci = around(e.r, std::hypot(sa, sb), kZ);
    e.method = a.forced || b.forced
                   ? "delta method on log P, the runs taken as independent (forced runs are not paired: their batches are not "
                     "side by side)"
                   : "delta method on log P, the runs taken as independent (--replications K, the same for both, pairs them)";
  }
  e.unreliable = unreliable(a, *x) || unreliable(b, *y);
  return e;
}

}  // namespace racewin

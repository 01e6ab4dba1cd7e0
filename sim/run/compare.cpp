#include "run/compare.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "base/json_number.hpp"
#include "base/rng.hpp"

// Method. A side's estimate is a ratio of sums over its B batches, R = Σy/Σx (hits over iterations,
// or events over seconds), exactly what `racewin run --replications B` reports. Batches are
// independent runs, so each batch's linearized residual r_k = (y_k − R·x_k)/x̄ is an i.i.d. draw
// whose mean is R's error to first order (the delta method for a ratio estimator; with equal x_k it
// is plain batch means). Batch k of both sides shares its seed, so the pairs (r_k^before,
// r_k^after) are i.i.d. across k but correlated within a pair: the difference's residuals
// d_k = r_k^after − r_k^before give its standard error, and with B−1 degrees of freedom a
// Student-t interval that is valid for paired batches whatever that correlation is. The ratio
// uses the same residuals for log R_after − log R_before (r/R each side): on the log scale the
// interval respects R > 0 and is less skewed than on R itself. With no hits on a side the
// residuals carry no information about it, so the exact per-side bounds take over (see below);
// with fewer than 10 hits in all, a significant difference must also pass an exact sign-flip test.

namespace racewin {
namespace {

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

double variance(const std::vector<double>& v) {  // sample variance, n − 1
  double m = sum(v) / double(v.size()), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / double(v.size() - 1);
}

std::vector<double> residuals(const Batches& b) {
  if (b.num.size() != b.den.size() || b.num.size() < 2)
    throw std::invalid_argument("a comparison needs at least 2 batches, with a count and an exposure each");
  double mean_den = sum(b.den) / double(b.den.size()), r = b.estimate();
  std::vector<double> out(b.num.size(), 0.0);
  if (mean_den <= 0) return out;
  for (size_t k = 0; k < out.size(); ++k) out[k] = (b.num[k] - r * b.den[k]) / mean_den;
  return out;
}

void check_paired(const Batches& before, const Batches& after) {
  if (before.num.size() != after.num.size())
    throw std::invalid_argument("paired batches: both sides need the same number of batches");
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = sum(a) / double(a.size()), mb = sum(b) / double(b.size()), sab = 0, saa = 0, sbb = 0;
  for (size_t k = 0; k < a.size(); ++k)
    sab += (a[k] - ma) * (b[k] - mb), saa += (a[k] - ma) * (a[k] - ma), sbb += (b[k] - mb) * (b[k] - mb);
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : Comparison::nan;
}

Interval exact(const Batches& b, Measure m) {
  auto k = uint64_t(std::llround(sum(b.num)));
  return m == Measure::PerIteration ? binomial_interval(k, uint64_t(std::llround(sum(b.den))))
                                    : poisson_rate_interval(k, sum(b.den));
}

nlohmann::json pair(const Interval& i) { return nlohmann::json::array({json_number(i.lo), json_number(i.hi)}); }

}  // namespace

CaseConfig batch_config(const CaseConfig& cfg, uint64_t seed, int batches, int k, bool independent) {
  if (batches < 2) throw std::invalid_argument("a comparison needs at least 2 batches");
  CaseConfig c = cfg;
  c.seed = seed;
  if (independent) {
    uint64_t x = seed ^ 0x6a09e667f3bcc909ULL;  // any fixed constant: a stream the paired seeds never use
    c.seed = splitmix64(x);
  }
  c.replications = batches;
  return replication_config(c, k);
}

double Batches::estimate() const {
  double d = sum(den);
  return d > 0 ? sum(num) / d : 0;
}

namespace {
const HazardResult* find_hazard(const CaseResult& r, const std::string& hazard) {
  for (const auto& h : r.hazards)
    if (h.name == hazard) return &h;
  return nullptr;
}
}  // namespace

Batches hit_iterations(const std::vector<CaseResult>& reps, const std::string& hazard) {
  Batches b;
  for (const auto& r : reps) {
    const HazardResult* h = find_hazard(r, hazard);
    b.num.push_back(h ? double(h->iterations_hit) : 0.0);
    b.den.push_back(double(r.iterations));
  }
  return b;
}

Batches events_per_second(const std::vector<CaseResult>& reps, const std::string& hazard) {
  Batches b;
  for (const auto& r : reps) {
    const HazardResult* h = find_hazard(r, hazard);
    b.num.push_back(h ? double(h->count) : 0.0);
    b.den.push_back(r.sim_time_ns * 1e-9);
  }
  return b;
}

TInterval paired_difference(const Batches& before, const Batches& after, double confidence) {
  check_paired(before, after);
  std::vector<double> rb = residuals(before), ra = residuals(after), d(rb.size());
  for (size_t k = 0; k < d.size(); ++k) d[k] = ra[k] - rb[k];
  TInterval r;
  r.estimate = after.estimate() - before.estimate();
  r.df = double(d.size() - 1);
  r.se = std::sqrt(variance(d) / double(d.size()));
  double h = t_quantile(r.df, confidence) * r.se;
  r.ci = {r.estimate - h, r.estimate + h};
  return r;
}

TInterval welch_difference(const Batches& before, const Batches& after, double confidence) {
  std::vector<double> rb = residuals(before), ra = residuals(after);
  double nb = double(rb.size()), na = double(ra.size());
  double vb = variance(rb) / nb, va = variance(ra) / na;
  TInterval r;
  r.estimate = after.estimate() - before.estimate();
  r.se = std::sqrt(va + vb);
  double denom = vb * vb / (nb - 1) + va * va / (na - 1);
  r.df = denom > 0 ? (va + vb) * (va + vb) / denom : na + nb - 2;
  double h = t_quantile(r.df, confidence) * r.se;
  r.ci = {r.estimate - h, r.estimate + h};
  return r;
}

TInterval paired_log_ratio(const Batches& before, const Batches& after, double confidence) {
  check_paired(before, after);
  double eb = before.estimate(), ea = after.estimate();
  if (!(eb > 0 && ea > 0)) throw std::invalid_argument("a log-ratio interval needs hits on both sides");
  std::vector<double> rb = residuals(before), ra = residuals(after), u(rb.size());
  for (size_t k = 0; k < u.size(); ++k) u[k] = ra[k] / ea - rb[k] / eb;
  TInterval r;
  r.estimate = ea / eb;
  r.df = double(u.size() - 1);
  r.se = std::sqrt(variance(u) / double(u.size()));  // of log(ratio)
  double h = t_quantile(r.df, confidence) * r.se;
  r.ci = {r.estimate * std::exp(-h), r.estimate * std::exp(h)};
  return r;
}

double sign_flip_p(const Batches& before, const Batches& after) {
  check_paired(before, after);
  auto rate = [](const Batches& b, size_t k) { return b.den[k] > 0 ? b.num[k] / b.den[k] : 0.0; };
  std::vector<double> d;
  double observed = 0, scale = 0;
  for (size_t k = 0; k < before.num.size(); ++k) {
    double x = rate(after, k) - rate(before, k);
    if (x != 0) d.push_back(x), observed += x, scale += std::abs(x);
  }
  if (d.empty()) return 1;
  if (d.size() > 20) return Comparison::nan;
  uint64_t patterns = uint64_t(1) << d.size(), extreme = 0;
  for (uint64_t m = 0; m < patterns; ++m) {
    double s = 0;
    for (size_t k = 0; k < d.size(); ++k) s += (m >> k & 1) ? -d[k] : d[k];
    if (std::abs(s) >= std::abs(observed) - 1e-12 * scale) ++extreme;
  }
  return double(extreme) / double(patterns);
}

Comparison compare_batches(const Batches& before, const Batches& after, Measure m, const Batches* independent_after) {
  const double inf = std::numeric_limits<double>::infinity();
  Comparison c;
  c.before = before.estimate(), c.after = after.estimate();
  c.hits_before = sum(before.num), c.hits_after = sum(after.num);
  c.before_ci = exact(before, m), c.after_ci = exact(after, m);
  TInterval d = paired_difference(before, after);
  c.difference = d.estimate;
  c.correlation = correlation(residuals(before), residuals(after));
  bool none = c.hits_before == 0 && c.hits_after == 0;
  if (none) {
    // Nothing to pair: each true value lies in [0, its exact upper bound] with 97.5% confidence
    // (the upper end of a two-sided 95% interval), so the difference lies within these bounds
    // with at least 95% (Bonferroni).
    c.note = "no hits on either side";
    c.difference_ci = {-c.before_ci.hi, c.after_ci.hi};
    c.ratio_ci = {0, inf};
  } else {
    c.difference_ci = d.ci;
    c.significant = d.ci.lo > 0 || d.ci.hi < 0;
    if (c.hits_before == 0) {  // the same Bonferroni argument on the exact per-side bounds
      c.ratio = inf;
      c.ratio_ci = {c.after_ci.lo / c.before_ci.hi, inf};
      c.note = "no hits before: the ratio is unbounded";
    } else if (c.hits_after == 0) {
      c.ratio = 0;
      c.ratio_ci = {0, c.before_ci.lo > 0 ? c.after_ci.hi / c.before_ci.lo : inf};
      c.note = "no hits after";
    } else {
      TInterval r = paired_log_ratio(before, after);
      c.ratio = r.estimate, c.ratio_ci = r.ci;
    }
    if (c.hits_before + c.hits_after < 10) {
      // A handful of hits spread over B batches is far from normal and the t interval claims too
      // much (5 hits before, 0 after, pass it); the exact sign-flip test does not.
      c.sign_flip_p = sign_flip_p(before, after);
      c.significant = c.significant && c.sign_flip_p < 0.05;
      c.note += fmt::format("{}fewer than 10 hits in all: the t intervals are rough; significance also needs the "
                            "exact sign-flip test, p = {:.3g}", c.note.empty() ? "" : "; ", c.sign_flip_p);
    }
  }
  if (independent_after) {
    TInterval w = welch_difference(before, *independent_after);
    c.has_independent = true;
    c.after_independent = independent_after->estimate();
    c.difference_ci_independent = w.ci;
    if (c.hits_before == 0 && sum(independent_after->num) == 0)  // as above: nothing to pair
      c.difference_ci_independent = {-c.before_ci.hi, exact(*independent_after, m).hi};
    double crn = d.ci.hi - d.ci.lo, ind = w.ci.hi - w.ci.lo;
    if (!none && ind > 0) c.crn_width_over_independent = crn / ind;
  }
  return c;
}

nlohmann::json comparison_json(const Comparison& c, Measure m) {
  const std::string q = m == Measure::PerIteration ? "p" : "events_per_s";
  const std::string counted = m == Measure::PerIteration ? "iterations_hit" : "events";
  nlohmann::json j;
  j[counted + "_before"] = uint64_t(std::llround(c.hits_before));
  j[counted + "_after"] = uint64_t(std::llround(c.hits_after));
  j[q + "_before"] = c.before;
  j[q + "_before_ci95"] = pair(c.before_ci);
  j[q + "_after"] = c.after;
  j[q + "_after_ci95"] = pair(c.after_ci);
  j["ratio"] = json_number(c.ratio);
  j["ratio_unbounded"] = std::isinf(c.ratio);
  j["ratio_ci95"] = pair(c.ratio_ci);
  j["difference"] = c.difference;
  j["difference_ci95"] = pair(c.difference_ci);
  j["significant"] = c.significant;
  j["batch_correlation"] = json_number(c.correlation);
  j["sign_flip_p"] = json_number(c.sign_flip_p);
  j["note"] = c.note;
  if (c.has_independent) {
    j[q + "_after_independent"] = c.after_independent;
    j["difference_ci95_independent"] = pair(c.difference_ci_independent);
    j["crn_width_over_independent"] = json_number(c.crn_width_over_independent);
  }
  return j;
}

std::string comparison_csv_header() {
  return "case,hazard,measure,counted_before,counted_after,before,before_lo,before_hi,after,after_lo,after_hi,ratio,"
         "ratio_lo,ratio_hi,difference,difference_lo,difference_hi,significant,sign_flip_p,batch_correlation,"
         "after_independent,difference_independent_lo,difference_independent_hi,crn_width_over_independent,note\n";
}

std::string comparison_csv_row(const std::string& case_name, const std::string& hazard, const Comparison& c, Measure m) {
  auto cell = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6g}", v); };
  const Interval& di = c.difference_ci_independent;
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"\n", case_name, hazard,
                     m == Measure::PerIteration ? "p_iteration_hit" : "events_per_s", cell(c.hits_before),
                     cell(c.hits_after), cell(c.before), cell(c.before_ci.lo), cell(c.before_ci.hi), cell(c.after),
                     cell(c.after_ci.lo), cell(c.after_ci.hi), cell(c.ratio), cell(c.ratio_ci.lo), cell(c.ratio_ci.hi),
                     cell(c.difference), cell(c.difference_ci.lo), cell(c.difference_ci.hi), c.significant,
                     cell(c.sign_flip_p), cell(c.correlation), cell(c.after_independent),
                     c.has_independent ? cell(di.lo) : "", c.has_independent ? cell(di.hi) : "",
                     cell(c.crn_width_over_independent), c.note);
}

}  // namespace racewin

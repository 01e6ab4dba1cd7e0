#include "calibrate/fit_dist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <boost/math/special_functions/gamma.hpp>

namespace racewin::calibrate {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log P(X > x) of the untruncated law.
double log_survival(const FamilyFit& f, double x) {
  if (x <= 0) return 0;
  switch (f.family) {
    case Family::Exponential: return -x / f.a;
    case Family::Lognormal: return std::log(0.5 * std::erfc((std::log(x) - f.a) / (f.b * M_SQRT2)));
    case Family::Gamma: return std::log(boost::math::gamma_q(f.a, x / f.b));
    case Family::Weibull: return -std::pow(x / f.b, f.a);
  }
  return 0;
}

// Nelder-Mead on two unconstrained coordinates: small, derivative-free, enough for a smooth
// two-parameter likelihood started near its maximum.
std::array<double, 2> nelder_mead(const std::function<double(std::array<double, 2>)>& f, std::array<double, 2> x0,
                                  bool& converged) {
  std::array<std::array<double, 2>, 3> p = {x0, x0, x0};
  p[1][0] += 0.1, p[2][1] += 0.1;
  std::array<double, 3> v = {f(p[0]), f(p[1]), f(p[2])};
  converged = false;
  for (int it = 0; it < 4000; ++it) {
    std::array<int, 3> o = {0, 1, 2};
    std::sort(o.begin(), o.end(), [&](int i, int j) { return v[i] < v[j]; });
    auto best = p[o[0]], mid = p[o[1]], worst = p[o[2]];
    double fb = v[o[0]], fm = v[o[1]], fw = v[o[2]];
    double size = std::max(std::fabs(worst[0] - best[0]), std::fabs(worst[1] - best[1]));
    if (std::fabs(fw - fb) <= 1e-10 * (1 + std::fabs(fb)) && size < 1e-7) {
      converged = true;
      return best;
    }
    std::array<double, 2> c = {(best[0] + mid[0]) / 2, (best[1] + mid[1]) / 2};
    auto along = [&](double t) { return std::array<double, 2>{c[0] + t * (worst[0] - c[0]), c[1] + t * (worst[1] - c[1])}; };
    auto r = along(-1);
    double fr = f(r);
    if (fr < fb) {
      auto e = along(-2);
      double fe = f(e);
      if (fe < fr) p[o[2]] = e, v[o[2]] = fe;
      else p[o[2]] = r, v[o[2]] = fr;
    } else if (fr < fm) {
      p[o[2]] = r, v[o[2]] = fr;
    } else {
      auto k = fr < fw ? along(-0.5) : along(0.5);
      double fk = f(k);
      if (fk < std::min(fr, fw)) {
        p[o[2]] = k, v[o[2]] = fk;
      } else {  // shrink towards the best
        for (int i : {o[1], o[2]}) {
          for (int d = 0; d < 2; ++d) p[i][d] = best[d] + 0.5 * (p[i][d] - best[d]);
          v[i] = f(p[i]);
        }
      }
    }
  }
  int b = int(std::min_element(v.begin(), v.end()) - v.begin());
  return p[b];
}

std::string yaml_duration(double ns) {
  if (ns >= 1e9) return fmt::format("{:.4g}s", ns / 1e9);
  if (ns >= 1e6) return fmt::format("{:.4g}ms", ns / 1e6);
  if (ns >= 1e3) return fmt::format("{:.4g}us", ns / 1e3);
  return fmt::format("{:.4g}ns", std::max(ns, 1.0));
}

}  // namespace

const char* family_name(Family f) {
  switch (f) {
    case Family::Exponential: return "exponential";
    case Family::Lognormal: return "lognormal";
    case Family::Gamma: return "gamma";
    case Family::Weibull: return "weibull";
  }
  return "?";
}

double FamilyFit::cdf(double x) const { return x <= 0 ? 0 : -std::expm1(log_survival(*this, x)); }

double FamilyFit::logpdf(double x) const {
  if (x <= 0) return -kInf;
  double lx = std::log(x);
  switch (family) {
    case Family::Exponential: return -std::log(a) - x / a;
    case Family::Lognormal: return -lx - std::log(b) - 0.5 * std::log(2 * M_PI) - (lx - a) * (lx - a) / (2 * b * b);
    case Family::Gamma: return (a - 1) * lx - x / b - std::lgamma(a) - a * std::log(b);
    case Family::Weibull: return std::log(a / b) + (a - 1) * (lx - std::log(b)) - std::pow(x / b, a);
  }
  return -kInf;
}

double FamilyFit::median() const {
  switch (family) {
    case Family::Exponential: return a * M_LN2;
    case Family::Lognormal: return std::exp(a);
    case Family::Gamma: return b * boost::math::gamma_p_inv(a, 0.5);
    case Family::Weibull: return b * std::pow(M_LN2, 1 / a);
  }
  return 0;
}

std::string FamilyFit::yaml() const {
  switch (family) {
    case Family::Exponential: return fmt::format("{{exponential: {{mean: {}}}}}", yaml_duration(a));
    case Family::Lognormal: return fmt::format("{{lognormal: {{median: {}, sigma: {:.3g}}}}}", yaml_duration(std::exp(a)), b);
    case Family::Gamma: return fmt::format("{{gamma: {{shape: {:.4g}, scale: {}}}}}", a, yaml_duration(b));
    case Family::Weibull: return fmt::format("{{weibull: {{shape: {:.4g}, scale: {}}}}}", a, yaml_duration(b));
  }
  return "";
}

std::string FamilyFit::describe() const {
  return fmt::format("{:<11} {:<44} loglik {:.6g}  BIC {:.6g}  KS {:.4f}", family_name(family), yaml(), loglik, bic, ks);
}

FamilyFit fit_family(Family fam, const std::vector<double>& x, double lower) {
  const double n = double(x.size());
  double mean = 0, lmean = 0, var = 0, lvar = 0;
  for (double v : x) mean += v, lmean += std::log(v);
  mean /= n, lmean /= n;
  for (double v : x) var += (v - mean) * (v - mean), lvar += (std::log(v) - lmean) * (std::log(v) - lmean);
  var /= n, lvar /= n;
  FamilyFit f;
  f.family = fam;
  auto loglik = [&](const FamilyFit& g) {
    double s = 0;
    for (double v : x) s += g.logpdf(v);
    double ls = lower > 0 ? log_survival(g, lower) : 0;
    double r = s - n * ls;
    return std::isfinite(r) ? r : -kInf;
  };
  if (fam == Family::Exponential) {  // memoryless: the excess over `lower` is exponential
    f.a = std::max(mean - lower, 1e-9);
    f.parameters = 1;
    f.converged = true;
  } else {
    // Two coordinates, unconstrained: (mu, log sigma) or (log shape, log scale).
    std::array<double, 2> x0;
    if (fam == Family::Lognormal) {
      x0 = {lmean, 0.5 * std::log(std::max(lvar, 1e-6))};
    } else if (fam == Family::Gamma) {
      double k = std::max(mean * mean / std::max(var, 1e-30), 1e-3);
      x0 = {std::log(k), std::log(mean / k)};
    } else {
      double cv = std::sqrt(var) / mean, k = std::clamp(std::pow(std::max(cv, 1e-3), -1.086), 0.05, 50.0);
      x0 = {std::log(k), std::log(mean / std::tgamma(1 + 1 / k))};
    }
    auto set = [&](FamilyFit& g, std::array<double, 2> p) {
      if (fam == Family::Lognormal) g.a = p[0], g.b = std::exp(p[1]);
      else g.a = std::exp(p[0]), g.b = std::exp(p[1]);
    };
    auto objective = [&](std::array<double, 2> p) {
      FamilyFit g = f;
      set(g, p);
      double l = loglik(g);
      return std::isfinite(l) ? -l : kInf;
    };
    set(f, nelder_mead(objective, x0, f.converged));
    f.parameters = 2;
  }
  f.loglik = loglik(f);
  // BIC: the extra parameter of a two-parameter family must buy log(n) of log-likelihood, so a
  // family that nests another (Weibull and gamma of shape 1 are the exponential) wins only when the
  // values say so, not by chance at large n.
  f.bic = double(f.parameters) * std::log(n) - 2 * f.loglik;
  // KS against the truncated law: F_t(x) = 1 - S(x) / S(lower).
  double ls_lower = lower > 0 ? log_survival(f, lower) : 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double ft = -std::expm1(log_survival(f, x[i]) - ls_lower);
    f.ks = std::max({f.ks, std::fabs(ft - double(i) / n), std::fabs(ft - double(i + 1) / n)});
  }
  return f;
}

LawFit fit_law(std::vector<double> values, double lower, size_t quantile_count) {
  if (values.size() < 10) throw std::invalid_argument(fmt::format("a law needs at least 10 values to fit, got {}", values.size()));
  std::sort(values.begin(), values.end());
  if (values.front() <= lower || values.front() <= 0)
    throw std::invalid_argument(fmt::format("values must exceed the truncation point {} ns", lower));
  LawFit L;
  L.n = values.size();
  L.lower = lower;
  for (Family f : {Family::Exponential, Family::Lognormal, Family::Gamma, Family::Weibull})
    L.families.push_back(fit_family(f, values, lower));
  std::stable_sort(L.families.begin(), L.families.end(), [](const FamilyFit& a, const FamilyFit& b) { return a.bic < b.bic; });
  L.ks_critical = 1.36 / std::sqrt(double(L.n));
  for (size_t i = 0; i < quantile_count; ++i) {
    double q = (double(i) + 0.5) / double(quantile_count) * double(L.n - 1);
    size_t lo = size_t(q);
    double t = q - double(lo);
    L.quantiles.push_back(values[lo] + t * (values[std::min(lo + 1, L.n - 1)] - values[lo]));
  }
  return L;
}

std::string LawFit::yaml() const {
  if (parametric_fits()) return best().yaml();
  std::string s = "{empirical: [";
  for (size_t i = 0; i < quantiles.size(); ++i) s += (i ? ", " : "") + yaml_duration(quantiles[i]);
  return s + "]}";
}

}  // namespace racewin::calibrate

#include "calibrate/mm_fit.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace racewin::calibrate {
namespace {

constexpr size_t kStates = 2;

double normal_pdf(double x, double mu, double sigma) {
  double z = (x - mu) / sigma;
  return std::exp(-0.5 * z * z) / (sigma * std::sqrt(2 * M_PI));
}

}  // namespace

MmFit fit_markov_modulated(const std::vector<std::vector<double>>& sequences) {
  MmFit f;
  std::vector<std::vector<double>> xs;  // log running times
  std::vector<double> all;
  for (const auto& s : sequences) {
    auto& x = xs.emplace_back();
    for (double v : s)
      if (v > 0) x.push_back(std::log(v)), all.push_back(x.back());
  }
  f.n = all.size();
  if (f.n < 100) return f;
  // One lognormal: the renewal alternative.
  double m = 0, v = 0;
  for (double x : all) m += x;
  m /= double(f.n);
  for (double x : all) v += (x - m) * (x - m);
  double sd = std::max(std::sqrt(v / double(f.n)), 1e-3);
  for (double x : all) f.renewal_loglik += std::log(normal_pdf(x, m, sd));
  f.renewal_bic = -2 * f.renewal_loglik + 2 * std::log(double(f.n));
  // Start: the lower and upper halves of the values; a chain that mostly stays.
  std::vector<double> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  double med = sorted[f.n / 2];
  f.mu.assign(kStates, 0), f.sigma.assign(kStates, 0);
  for (size_t s = 0; s < kStates; ++s) {
    double sum = 0, sq = 0, cnt = 0;
    for (double x : all)
      if ((x < med) == (s == 0)) sum += x, sq += x * x, ++cnt;
    f.mu[s] = sum / cnt;
    f.sigma[s] = std::max(std::sqrt(std::max(sq / cnt - f.mu[s] * f.mu[s], 0.0)), 1e-2);
  }
  f.transitions = {{0.9, 0.1}, {0.1, 0.9}};
  std::vector<double> start = {0.5, 0.5};
  double prev = -INFINITY;
  for (f.iterations = 0; f.iterations < 500; ++f.iterations) {
    double ll = 0;
    std::vector<double> g_sum(kStates, 0), g_x(kStates, 0), g_xx(kStates, 0), start_acc(kStates, 0);
    std::vector<std::vector<double>> xi(kStates, std::vector<double>(kStates, 0));
    for (const auto& x : xs) {
      const size_t T = x.size();
      if (T == 0) continue;
      std::vector<std::array<double, kStates>> a(T), b(T), e(T);
      std::vector<double> c(T);
      for (size_t t = 0; t < T; ++t)
        for (size_t s = 0; s < kStates; ++s) e[t][s] = std::max(normal_pdf(x[t], f.mu[s], f.sigma[s]), 1e-300);
      for (size_t t = 0; t < T; ++t) {  // forward, scaled so that each step sums to 1
        double sum = 0;
        for (size_t s = 0; s < kStates; ++s) {
          double p = 0;
          if (t == 0) p = start[s];
          else
            for (size_t r = 0; r < kStates; ++r) p += a[t - 1][r] * f.transitions[r][s];
          a[t][s] = p * e[t][s], sum += a[t][s];
        }
        c[t] = sum;
        for (size_t s = 0; s < kStates; ++s) a[t][s] /= sum;
        ll += std::log(sum);
      }
      for (size_t s = 0; s < kStates; ++s) b[T - 1][s] = 1;
      for (size_t t = T - 1; t-- > 0;)  // backward, with the forward pass's scales
        for (size_t s = 0; s < kStates; ++s) {
          double p = 0;
          for (size_t r = 0; r < kStates; ++r) p += f.transitions[s][r] * e[t + 1][r] * b[t + 1][r];
          b[t][s] = p / c[t + 1];
        }
      for (size_t t = 0; t < T; ++t)
        for (size_t s = 0; s < kStates; ++s) {
          double g = a[t][s] * b[t][s];
          g_sum[s] += g, g_x[s] += g * x[t], g_xx[s] += g * x[t] * x[t];
          if (t == 0) start_acc[s] += g;
          if (t + 1 < T)
            for (size_t r = 0; r < kStates; ++r) xi[s][r] += a[t][s] * f.transitions[s][r] * e[t + 1][r] * b[t + 1][r] / c[t + 1];
        }
    }
    for (size_t s = 0; s < kStates; ++s) {
      f.mu[s] = g_x[s] / g_sum[s];
      f.sigma[s] = std::max(std::sqrt(std::max(g_xx[s] / g_sum[s] - f.mu[s] * f.mu[s], 0.0)), 1e-2);
      double row = 0;
      for (size_t r = 0; r < kStates; ++r) row += xi[s][r];
      for (size_t r = 0; r < kStates; ++r) f.transitions[s][r] = row > 0 ? xi[s][r] / row : 1.0 / kStates;
      double st = 0;
      for (double x : start_acc) st += x;
      start[s] = start_acc[s] / st;
    }
    f.loglik = ll;
    if (ll - prev < 1e-9 * double(f.n)) break;
    prev = ll;
  }
  // State 0 the shorter running times (the burst).
  if (f.mu[0] > f.mu[1]) {
    std::swap(f.mu[0], f.mu[1]), std::swap(f.sigma[0], f.sigma[1]);
    f.transitions = {{f.transitions[1][1], f.transitions[1][0]}, {f.transitions[0][1], f.transitions[0][0]}};
  }
  double p01 = f.transitions[0][1], p10 = f.transitions[1][0];
  f.stationary = p01 + p10 > 0 ? std::vector<double>{p10 / (p01 + p10), p01 / (p01 + p10)} : std::vector<double>{0.5, 0.5};
  f.bic = -2 * f.loglik + 6 * std::log(double(f.n));  // two means, two sds, two transition probabilities
  f.fitted = true;
  return f;
}

}  // namespace racewin::calibrate

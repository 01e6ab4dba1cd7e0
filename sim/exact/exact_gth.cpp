// Sparse GTH elimination (Grassmann, Taksar and Heyman 1985): Gaussian elimination in which every
// pivot is recomputed as a sum of rates (what leaves the state) instead of by subtraction, so that
// it involves no cancellation. Each component is then accurate to a few rounding errors however the
// rates are scaled: a hazard of probability 1e-12 per iteration, whose chain mixes rates of 1e-1 and
// 1e-16 per ns, is solved as exactly as one of 1e-1, where LU's answer is only normwise accurate
// (the small components, and the mean time to a rare first hazard, come out wrong or fail the
// residual check).
#include "exact/exact_gth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/machine.hpp"

namespace racewin {

std::vector<double> gth_stationary(Rates q) {
  const size_t n = q.row.size();
  std::vector<std::pair<uint32_t, double>> outof;
  for (size_t k = n; k-- > 1;) {
    double total = 0;  // what leaves k for the states still there
    outof.clear();
    for (const auto& [j, r] : q.row[k])
      if (j < k && r > 0) outof.emplace_back(j, r);
    std::sort(outof.begin(), outof.end());  // a fixed order of the sums, whatever the hash table's
    for (const auto& [j, r] : outof) total += r;
    if (!(total > 0)) throw ModelError("the chain's closed class is not irreducible (GTH elimination found a trap)");
    for (uint32_t i : q.col[k]) {
      if (i >= k) continue;
      double& qik = q.row[i][uint32_t(k)];
      qik /= total;
      const double f = qik;
      for (const auto& [j, r] : outof)
        if (j != i) q.add(i, j, f * r);
    }
  }
  std::vector<double> pi(n, 0.0);
  pi[0] = 1;
  double sum = 1;
  for (size_t k = 1; k < n; ++k) {
    double x = 0;
    for (uint32_t i : q.col[k])
      if (i < k) x += pi[i] * q.at(i, k);
    pi[k] = x, sum += x;
  }
  for (double& x : pi) x /= sum;
  return pi;
}

std::vector<double> gth_absorbing(Rates o, std::vector<double> e, std::vector<double> b, const char* what) {
  const size_t n = o.row.size();
  std::vector<double> d(n);
  std::vector<std::vector<std::pair<uint32_t, double>>> upper(n);  // row j beyond j, for the back substitution
  for (size_t j = 0; j < n; ++j) {
    double dj = e[j];
    auto& outof = upper[j];
    for (const auto& [t, r] : o.row[j])
      if (t > j && r > 0) outof.emplace_back(t, r);
    std::sort(outof.begin(), outof.end());  // a fixed order of the sums, whatever the hash table's
    for (const auto& [t, r] : outof) dj += r;
    if (!(dj > 0))
      throw ModelError(fmt::format("the chain's {} system is singular: a state never gets absorbed", what));
    d[j] = dj;
    for (uint32_t i : o.col[j]) {
      if (i <= j) continue;
      double& oij = o.row[i][uint32_t(j)];
      if (!(oij > 0)) continue;
      const double f = oij / dj;
      oij = 0;
      for (const auto& [t, r] : outof)
        if (t != i) o.add(i, t, f * r);
      e[i] += f * e[j];
      b[i] += f * b[j];
    }
    o.row[j].clear();  // what is left of it is in upper[j]
  }
  std::vector<double> x(n, 0.0);
  for (size_t j = n; j-- > 0;) {
    double s = b[j];
    for (const auto& [t, r] : upper[j]) s += r * x[t];
    x[j] = s / d[j];
  }
  return x;
}

double backward_error(const std::vector<std::vector<std::pair<size_t, double>>>& o, const std::vector<double>& e,
                      const std::vector<double>& b, const std::vector<double>& x) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    long double diag = e[i], off = 0;  // every term is non-negative
    for (const auto& [t, r] : o[i])
      if (t != i) diag += r, off += (long double)r * x[t];
    long double lhs = diag * x[i], err = std::fabs(lhs - off - b[i]), scale = lhs + off + b[i];
    if (scale > 0) worst = std::max(worst, double(err / scale));
  }
  return worst;
}

}  // namespace racewin

// Rare-event forcing: the option string and the batch-means estimator (rare_event.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "rare/rare_event.hpp"

namespace racewin {

namespace {
constexpr size_t kMaxBatches = 64;
}  // namespace

ForceOptions ForceOptions::parse(const std::string& method) {
  ForceOptions o;
  if (method == "force") return o;
  const std::string pre = "force:";
  if (method.rfind(pre, 0) == 0) {
    size_t used = 0;
    try {
      o.arrivals = std::stod(method.substr(pre.size()), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == method.size() - pre.size() && o.arrivals > 0 && std::isfinite(o.arrivals)) return o;
  }
  throw std::invalid_argument("--rare-event " + method +
                              ": expected 'force' or 'force:X' with X > 0, the forced arrivals per iteration");
}

BatchMeans::BatchMeans(size_t hazards) : h_(hazards), sum_(hazards), sumsq_(hazards), cur_(hazards), nonzero_(hazards) {}

void BatchMeans::add(const std::vector<double>& y) {
  ++n_;
  for (size_t h = 0; h < h_; ++h) {
    sum_[h] += y[h], sumsq_[h] += y[h] * y[h], cur_[h] += y[h];
    if (y[h] != 0) ++nonzero_[h];
  }
  if (++in_cur_ < size_) return;
  for (size_t h = 0; h < h_; ++h) batches_.push_back(cur_[h] / double(size_)), cur_[h] = 0;
  in_cur_ = 0;
  if (batches_.size() < kMaxBatches * h_) return;
  for (size_t b = 0; b < kMaxBatches / 2; ++b)  // full: pairs of batches become one, twice as long
    for (size_t h = 0; h < h_; ++h) batches_[b * h_ + h] = (batches_[2 * b * h_ + h] + batches_[(2 * b + 1) * h_ + h]) / 2;
  batches_.resize(kMaxBatches / 2 * h_);
  size_ *= 2;
}

double BatchMeans::mean(size_t h) const {
  size_t b = batches_.size() / std::max<size_t>(h_, 1);
  if (b < 2) return n_ ? sum_[h] / double(n_) : 0;
  double s = 0;
  for (size_t i = 0; i < b; ++i) s += batches_[i * h_ + h];
  return s / double(b);
}

double BatchMeans::variance(size_t h) const {
  if (n_ < 2) return 0;
  double m = sum_[h] / double(n_);
  return std::max(0.0, (sumsq_[h] - double(n_) * m * m) / double(n_ - 1));
}

Interval BatchMeans::interval(size_t h) const {
  size_t b = batches_.size() / std::max<size_t>(h_, 1);
  double m = mean(h);
  if (b < 2) return {0, std::numeric_limits<double>::infinity()};
  double bm = 0, ss = 0;
  for (size_t i = 0; i < b; ++i) bm += batches_[i * h_ + h];
  bm /= double(b);
  for (size_t i = 0; i < b; ++i) ss += std::pow(batches_[i * h_ + h] - bm, 2);
  double half = t_quantile(double(b - 1)) * std::sqrt(ss / double(b - 1) / double(b));
  return {std::max(0.0, m - half), m + half};
}

}  // namespace racewin

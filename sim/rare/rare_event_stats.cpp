// Rare-event forcing: the option string and the batch-means estimator (rare_event.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "base/rng.hpp"
#include "rare/rare_event.hpp"

namespace racewin {

namespace {
constexpr size_t kMaxBatches = 64;
}  // namespace

namespace {
// The whole of `text` as a finite number, or nothing.
std::optional<double> number(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}
}  // namespace

ForceOptions ForceOptions::parse(const std::string& method) {
  ForceOptions o;
  std::string head = method, tail;
  if (size_t comma = method.find(','); comma != std::string::npos) head = method.substr(0, comma), tail = method.substr(comma + 1);
  bool ok = head == "force" && (method.empty() || method.back() != ',');
  if (head.rfind("force:", 0) == 0) {
    auto x = number(head.substr(6));
    ok = x && *x > 0 && method.back() != ',';
    if (ok) o.arrivals = *x;
  }
  while (ok && !tail.empty()) {  // ,defensive=D ,fallback=no
    size_t comma = tail.find(',');
    std::string opt = tail.substr(0, comma);
    tail = comma == std::string::npos ? "" : tail.substr(comma + 1);
    if (opt == "fallback=no") {
      o.fallback = false;
      continue;
    }
    auto d = opt.rfind("defensive=", 0) == 0 ? number(opt.substr(10)) : std::nullopt;
    ok = d && *d >= 0 && *d <= 1;  // 1: every branch nominal, a check of the branches themselves
    if (ok) o.defensive = *d;
  }
  if (ok) return o;
  throw std::invalid_argument("--rare-event " + method +
                              ": expected 'force' or 'force:X' with X > 0, the forced arrivals per iteration, optionally followed by "
                              "',defensive=D' with 0 <= D <= 1 (the nominal share of the branches; 1 checks the branches themselves) and ',fallback=no' (keep forcing "
                              "where its gain is below 1)");
}

BatchMeans::BatchMeans(size_t hazards)
    : h_(hazards), sum_(hazards), sumsq_(hazards), cur_(hazards), cur_sq_(hazards), nonzero_(hazards), cur_nonzero_(hazards) {}

void BatchMeans::add(const std::vector<double>& y) {
  ++n_;
  for (size_t h = 0; h < h_; ++h) {
    cur_[h] += y[h], cur_sq_[h] += y[h] * y[h];
    if (y[h] != 0) ++cur_nonzero_[h];
  }
  if (++in_cur_ < size_) return;
  for (size_t h = 0; h < h_; ++h) {  // the batch completes: its records join the figures
    batches_.push_back(cur_[h] / double(size_));
    sum_[h] += cur_[h], sumsq_[h] += cur_sq_[h], nonzero_[h] += cur_nonzero_[h];
    cur_[h] = cur_sq_[h] = 0, cur_nonzero_[h] = 0;
  }
  used_ += in_cur_, in_cur_ = 0;
  if (batches_.size() < kMaxBatches * h_) return;
  for (size_t b = 0; b < kMaxBatches / 2; ++b)  // full: pairs of batches become one, twice as long
    for (size_t h = 0; h < h_; ++h) batches_[b * h_ + h] = (batches_[2 * b * h_ + h] + batches_[(2 * b + 1) * h_ + h]) / 2;
  batches_.resize(kMaxBatches / 2 * h_);
  size_ *= 2;
}

double BatchMeans::mean(size_t h) const { return used_ ? sum_[h] / double(used_) : 0; }

double BatchMeans::variance(size_t h) const {
  if (used_ < 2) return 0;
  double m = mean(h);
  return std::max(0.0, (sumsq_[h] - double(used_) * m * m) / double(used_ - 1));
}

double BatchMeans::batch_variance(size_t h) const {
  const size_t b = batches();
  if (b < 2) return 0;
  double m = mean(h), ss = 0;
  for (size_t i = 0; i < b; ++i) ss += std::pow(batches_[i * h_ + h] - m, 2);
  return double(size_) * ss / double(b - 1);
}

double BatchMeans::ess(size_t h) const {
  if (sumsq_[h] <= 0) return 0;
  double e = sum_[h] * sum_[h] / sumsq_[h], v = variance(h), bv = batch_variance(h);
  return v > 0 && bv > v ? e * v / bv : e;
}

Interval BatchMeans::interval_t(size_t h) const {
  const size_t b = batches();
  if (b < 2) return {0, std::numeric_limits<double>::infinity()};
  double m = mean(h), half = t_quantile(double(b - 1)) * std::sqrt(batch_variance(h) / double(used_));
  return {std::max(0.0, m - half), m + half};
}

// Bootstrap-t over the batch means (Efron and Tibshirani 1993, ch. 12; Hall 1992): the batch means
// are resampled with replacement, each resample's mean studentised by its own standard error, and
// the interval read off the quantiles of that t. A weighted estimator is right-skewed: most runs
// have not yet met the rare large weights, so their mean and their spread are both low, and
// Student's symmetric interval then misses low far more often than high (the statistical review:
// 41 to 18). The resamples' t has the long lower tail that situation produces (a resample short
// of the few large batch means is low with a small standard error), and so the interval reaches
// further up. The resamples come from a generator seeded by the batch count: the same records give
// the same interval. A resample with no spread at all (every batch mean equal) has t = +-inf unless
// its mean is the estimate: with so few nonzero batches the upper end may be unbounded, and P <= 1
// caps it.
Interval BatchMeans::interval(size_t h) const {
  const size_t b = batches();
  if (b < 2) return {0, std::numeric_limits<double>::infinity()};
  if (cache_used_.size() != h_) cache_used_.assign(h_, 0), cache_.assign(h_, Interval{});
  if (cache_used_[h] == used_) return cache_[h];
  std::vector<double> x(b);
  double m = 0, ss = 0;
  for (size_t i = 0; i < b; ++i) x[i] = batches_[i * h_ + h], m += x[i];
  m /= double(b);
  for (double v : x) ss += (v - m) * (v - m);
  const double se = std::sqrt(ss / double(b - 1) / double(b));
  Interval r{m, m};
  if (se > 0) {
    constexpr int R = 1999;  // (R + 1) * 0.025 = 50: the 2.5% and 97.5% points are order statistics
    Rng rng(0x62617463686d6561ULL, b);
    std::vector<double> t(R);
    for (int k = 0; k < R; ++k) {
      double s1 = 0, s2 = 0;
      for (size_t i = 0; i < b; ++i) {
        double v = x[rng.next() % b];
        s1 += v, s2 += v * v;
      }
      double mk = s1 / double(b), vk = std::max(0.0, (s2 - double(b) * mk * mk) / double(b - 1));
      double sek = std::sqrt(vk / double(b));
      const double inf = std::numeric_limits<double>::infinity();
      t[k] = sek > 0 ? (mk - m) / sek : mk > m ? inf : mk < m ? -inf : 0.0;
    }
    std::sort(t.begin(), t.end());
    double lo_q = t[49], hi_q = t[R - 50];
    r = {std::max(0.0, m - hi_q * se), std::min(1.0, m - lo_q * se)};
  }
  cache_used_[h] = used_, cache_[h] = r;
  return r;
}

}  // namespace racewin

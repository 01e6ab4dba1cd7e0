// Rare-event forcing: the option string and the batch-means estimator (rare_event.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

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

Interval BatchMeans::interval(size_t h) const {
  const size_t b = batches();
  if (b < 2) return {0, std::numeric_limits<double>::infinity()};
  double m = mean(h), half = t_quantile(double(b - 1)) * std::sqrt(batch_variance(h) / double(used_));
  return {std::max(0.0, m - half), m + half};
}

}  // namespace racewin

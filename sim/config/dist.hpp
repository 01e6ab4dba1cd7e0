#pragma once
// Duration distributions (nanoseconds) read from YAML:
//   250ns | {fixed: 250ns} | {exponential: {mean: 5ms}} | {lognormal: {median: 1ms, sigma: 0.5}}
//   {uniform: {min: 10ns, max: 50ns}} | {weibull: {shape: 1.5, scale: 2ms}}
//   {gamma: {shape: 2, scale: 1us}}
//   {empirical: [1ms, 2ms, 8ms]}   (each listed value equally likely)
#include <string>
#include <vector>

#include "base/rng.hpp"
#include "config/config.hpp"

namespace racewin {

class Dist {
 public:
  enum class Kind { Fixed, Exponential, Lognormal, Uniform, Weibull, Gamma, Empirical };

  static Dist fixed(double ns);
  static Dist exponential(double mean_ns);
  static Dist uniform(double lo_ns, double hi_ns);
  static Dist parse(const CNode& node);

  double sample(Rng& rng) const;
  double mean() const;
  Kind kind() const { return kind_; }
  bool is_zero() const { return kind_ == Kind::Fixed && a_ == 0; }
  std::string describe() const;

  // The cumulative hazard H(a) = -log P(X > a) and its inverse, for distributions with a density
  // (exponential, lognormal, uniform, weibull, gamma): what rare-event forcing needs to speed up an
  // arrival process by a factor and weigh the result (sim/model/machine_force.cpp).
  bool has_hazard() const;
  double cum_hazard(double a) const;
  double inv_cum_hazard(double h) const;  // the least a with H(a) >= h

 private:
  Kind kind_ = Kind::Fixed;
  double a_ = 0, b_ = 0;  // fixed: value; exp: mean; lognormal: mu, sigma; uniform: lo, hi; weibull, gamma: shape, scale
  std::vector<double> values_;
};

}  // namespace racewin

#pragma once
// Duration distributions (nanoseconds) read from YAML:
//   250ns | {fixed: 250ns} | {exponential: {mean: 5ms}} | {lognormal: {median: 1ms, sigma: 0.5}}
//   {uniform: {min: 10ns, max: 50ns}} | {weibull: {shape: 1.5, scale: 2ms}}
//   {empirical: [1ms, 2ms, 8ms]}   (each listed value equally likely)
#include <string>
#include <vector>

#include "config.hpp"
#include "rng.hpp"

namespace racewin {

class Dist {
 public:
  enum class Kind { Fixed, Exponential, Lognormal, Uniform, Weibull, Empirical };

  static Dist fixed(double ns);
  static Dist exponential(double mean_ns);
  static Dist parse(const CNode& node);

  double sample(Rng& rng) const;
  double mean() const;
  Kind kind() const { return kind_; }
  bool is_zero() const { return kind_ == Kind::Fixed && a_ == 0; }
  std::string describe() const;

 private:
  Kind kind_ = Kind::Fixed;
  double a_ = 0, b_ = 0;  // fixed: value; exp: mean; lognormal: mu, sigma; uniform: lo, hi; weibull: shape, scale
  std::vector<double> values_;
};

}  // namespace racewin

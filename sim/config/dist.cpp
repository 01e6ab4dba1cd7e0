#include "config/dist.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include <boost/math/special_functions/erf.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include "base/units.hpp"

namespace racewin {

Dist Dist::fixed(double ns) {
  Dist d;
  d.kind_ = Kind::Fixed;
  d.a_ = ns;
  return d;
}

Dist Dist::exponential(double mean_ns) {
  Dist d;
  d.kind_ = Kind::Exponential;
  d.a_ = mean_ns;
  return d;
}

Dist Dist::uniform(double lo_ns, double hi_ns) {
  Dist d;
  d.kind_ = Kind::Uniform;
  d.a_ = lo_ns, d.b_ = hi_ns;
  return d;
}

Dist Dist::parse(const CNode& node) {
  static const std::vector<std::string> kinds = {"fixed", "exponential", "lognormal", "uniform",
                                                 "weibull", "gamma", "empirical"};
  if (node.is_scalar()) return fixed(node.duration());
  if (!node.is_map() || node.raw().size() != 1)
    node.fail("expected a duration (e.g. 250ns) or a one-key map naming a distribution: "
              "fixed, exponential, lognormal, uniform, weibull, gamma, empirical");
  node.allow_keys(kinds);
  auto [name, p] = node.entries().front();
  Dist d;
  if (name == "fixed") return fixed(p.duration());
  if (name == "exponential") {
    p.allow_keys({"mean"});
    d.kind_ = Kind::Exponential;
    d.a_ = p.at("mean").duration();
    if (d.a_ <= 0) p.at("mean").fail("the mean must be positive");
  } else if (name == "lognormal") {
    p.allow_keys({"median", "sigma"});
    d.kind_ = Kind::Lognormal;
    double median = p.at("median").duration();
    if (median <= 0) p.at("median").fail("the median must be positive");
    d.a_ = std::log(median);
    d.b_ = p.at("sigma").number();
    if (d.b_ < 0) p.at("sigma").fail("sigma cannot be negative");
  } else if (name == "uniform") {
    p.allow_keys({"min", "max"});
    d.kind_ = Kind::Uniform;
    d.a_ = p.at("min").duration();
    d.b_ = p.at("max").duration();
    if (d.b_ < d.a_) p.at("max").fail("max must not be below min");
  } else if (name == "weibull") {
    p.allow_keys({"shape", "scale"});
    d.kind_ = Kind::Weibull;
    d.a_ = p.at("shape").number();
    d.b_ = p.at("scale").duration();
    if (d.a_ <= 0) p.at("shape").fail("the shape must be positive");
  } else if (name == "gamma") {
    p.allow_keys({"shape", "scale"});
    d.kind_ = Kind::Gamma;
    d.a_ = p.at("shape").number();
    d.b_ = p.at("scale").duration();
    if (d.a_ <= 0) p.at("shape").fail("the shape must be positive");
    if (d.b_ <= 0) p.at("scale").fail("the scale must be positive");
  } else {  // empirical
    d.kind_ = Kind::Empirical;
    for (const auto& v : p.items()) d.values_.push_back(v.duration());
    if (d.values_.empty()) p.fail("an empirical distribution needs at least one value");
  }
  return d;
}

namespace {
// A Gamma(shape, 1) variate: Marsaglia and Tsang, "A simple method for generating gamma
// variables" (ACM TOMS 26(3), 2000), with their boost U^(1/shape) for shape < 1.
double gamma_unit(double shape, Rng& rng) {
  if (shape < 1) return gamma_unit(shape + 1, rng) * std::pow(rng.uniform_open(), 1 / shape);
  const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x = rng.normal(), v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = rng.uniform_open();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}
}  // namespace

double Dist::sample(Rng& rng) const {
  switch (kind_) {
    case Kind::Fixed: return a_;
    case Kind::Exponential: return rng.exponential(a_);
    case Kind::Lognormal: return std::exp(a_ + b_ * rng.normal());
    case Kind::Uniform: return a_ + (b_ - a_) * rng.uniform();
    case Kind::Weibull: return b_ * std::pow(-std::log(rng.uniform_open()), 1.0 / a_);
    case Kind::Gamma: return b_ * gamma_unit(a_, rng);
    case Kind::Empirical: return values_[size_t(rng.uniform() * double(values_.size()))];
  }
  return 0;
}

double Dist::mean() const {
  switch (kind_) {
    case Kind::Fixed: return a_;
    case Kind::Exponential: return a_;
    case Kind::Lognormal: return std::exp(a_ + b_ * b_ / 2);
    case Kind::Uniform: return (a_ + b_) / 2;
    case Kind::Weibull: return b_ * std::tgamma(1 + 1 / a_);
    case Kind::Gamma: return a_ * b_;
    case Kind::Empirical: {
      double s = 0;
      for (double v : values_) s += v;
      return s / double(values_.size());
    }
  }
  return 0;
}

bool Dist::has_hazard() const {
  switch (kind_) {
    case Kind::Exponential: case Kind::Weibull: case Kind::Gamma: return true;
    case Kind::Lognormal: return b_ > 0;
    case Kind::Uniform: return b_ > a_;
    default: return false;
  }
}

double Dist::cum_hazard(double a) const {
  switch (kind_) {
    case Kind::Exponential: return std::max(a, 0.0) / a_;
    case Kind::Weibull: return a <= 0 ? 0 : std::pow(a / b_, a_);
    case Kind::Gamma: {
      if (a <= 0) return 0;
      double q = boost::math::gamma_q(a_, a / b_);
      return q > 0 ? -std::log(q) : std::numeric_limits<double>::infinity();
    }
    case Kind::Uniform: return a <= a_ ? 0 : a >= b_ ? std::numeric_limits<double>::infinity() : -std::log((b_ - a) / (b_ - a_));
    case Kind::Lognormal: {
      if (a <= 0) return 0;
      double z = (std::log(a) - a_) / (b_ * M_SQRT2);
      if (z < 20) return -std::log(0.5 * std::erfc(z));
      return z * z + std::log(2 * z * std::sqrt(M_PI));  // erfc(z) ~ exp(-z^2) / (z sqrt(pi))
    }
    default: return 0;
  }
}

double Dist::inv_cum_hazard(double h) const {
  switch (kind_) {
    case Kind::Exponential: return h * a_;
    case Kind::Weibull: return b_ * std::pow(h, 1 / a_);
    case Kind::Gamma: {
      double q = std::exp(-h);
      return q > 0 ? b_ * boost::math::gamma_q_inv(a_, q) : std::numeric_limits<double>::infinity();
    }
    case Kind::Uniform: return b_ - (b_ - a_) * std::exp(-h);
    case Kind::Lognormal: {
      double q = 2 * std::exp(-h);  // erfc(z) = 2 S
      double z = q > 1e-300 ? boost::math::erfc_inv(q) : std::sqrt(h);  // far tail: z^2 ~ h
      return std::exp(a_ + b_ * M_SQRT2 * z);
    }
    default: return 0;
  }
}

std::string Dist::describe() const {
  std::ostringstream o;
  switch (kind_) {
    case Kind::Fixed: o << format_duration(a_); break;
    case Kind::Exponential: o << "exponential(mean " << format_duration(a_) << ")"; break;
    case Kind::Lognormal: o << "lognormal(median " << format_duration(std::exp(a_)) << ", sigma " << b_ << ")"; break;
    case Kind::Uniform: o << "uniform(" << format_duration(a_) << ", " << format_duration(b_) << ")"; break;
    case Kind::Weibull: o << "weibull(shape " << a_ << ", scale " << format_duration(b_) << ")"; break;
    case Kind::Gamma: o << "gamma(shape " << a_ << ", scale " << format_duration(b_) << ")"; break;
    case Kind::Empirical: o << "empirical(" << values_.size() << " values)"; break;
  }
  return o.str();
}

}  // namespace racewin

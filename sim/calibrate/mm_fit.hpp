#pragma once
// A Markov-modulated renewal process fitted to bursty running times (the stalls that are neither
// periodic nor the tick): a hidden Markov chain over the stalls picks each running time's law,
// lognormal per state, by Baum-Welch (expectation-maximization with scaled forward-backward
// passes) on the log running times of each record in order. The model's steal process of the same
// shape is `model: markov_modulated` (docs/profiles.md).
#include <cstddef>
#include <vector>

namespace racewin::calibrate {

struct MmFit {
  bool fitted = false;
  size_t n = 0;                                 // running times
  std::vector<double> mu, sigma;                // per state: the log running time's mean and sd (ns)
  std::vector<std::vector<double>> transitions; // after a stall, from state i to state j
  std::vector<double> stationary;               // the chain's stationary law
  double loglik = 0, bic = 0;                   // of the log running times
  double renewal_loglik = 0, renewal_bic = 0;   // one lognormal law, independent draws
  int iterations = 0;
  // The chain explains the values better than a renewal process, by Schwarz's criterion.
  bool better() const { return fitted && bic < renewal_bic; }
};

// `sequences`: each record's running times in time order (ns, > 0). Two states.
MmFit fit_markov_modulated(const std::vector<std::vector<double>>& sequences);

}  // namespace racewin::calibrate

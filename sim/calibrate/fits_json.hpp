#pragma once
// The fitted laws as data for goodness-of-fit plots (racewin_analysis draws their QQ plots):
// each law's empirical quantiles beside the chosen family's at the same probabilities, with its
// KS distance and the 5% bound. `racewin calibrate --out DIR` writes it as DIR/fits.json.
#include <string>

#include "calibrate/flush_fit.hpp"
#include "calibrate/stall_fit.hpp"

namespace racewin::calibrate {

// The quantile of the best family's law truncated at f.lower: x with P(X <= x | X > lower) = q.
double fitted_quantile(const LawFit& f, double q);

std::string fits_json(const Probe& p, const StallFit& s, const FlushFit& flush);

}  // namespace racewin::calibrate

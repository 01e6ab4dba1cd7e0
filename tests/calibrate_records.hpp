#pragma once
// Gap records drawn from known processes for the calibration tests (test_calibrate_fit.cpp,
// test_calibrate_profiles.cpp): each with a fixed seed, so that each check is one draw.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "base/rng.hpp"
#include "calibrate/stall_fit.hpp"
#include "config/config.hpp"
#include "config/dist.hpp"

namespace racewin::test {

inline Dist law(const char* yaml) { return Dist::parse(CNode::parse(yaml, "test")); }

// n draws of `d` above `lower` (a probe sees only gaps above its threshold).
inline std::vector<double> draws(const Dist& d, size_t n, double lower, uint64_t seed) {
  Rng rng(seed, 7);
  std::vector<double> v;
  while (v.size() < n)
    if (double x = d.sample(rng); x > lower) v.push_back(x);
  return v;
}

// A spinner's record over `seconds`: gaps of a periodic source (period, phase, jitter, lengths) and
// of a renewal process (running time between gaps, lengths), above `threshold`.
inline calibrate::GapRecord synthetic(double seconds, double period, double phase, const Dist* tick_len, const Dist& running,
                    const Dist& length, double threshold, uint64_t seed) {
  Rng rng(seed, 3);
  std::vector<std::pair<double, double>> gaps;
  const double T = seconds * 1e9;
  if (tick_len)
    for (double t = phase; t < T; t += period) {
      double jitter = 300 * rng.normal();  // delivery jitter, 0.3 us
      gaps.push_back({t + jitter, tick_len->sample(rng)});
    }
  for (double t = running.sample(rng); t < T;) {
    double l = length.sample(rng);
    gaps.push_back({t, l});
    t += l + running.sample(rng);
  }
  std::sort(gaps.begin(), gaps.end());
  calibrate::GapRecord r;
  r.spun_ns = T;
  double end = -1;
  for (auto [s, l] : gaps) {
    if (l <= threshold || s < end) continue;  // unseen, or inside a gap already seen
    r.start.push_back(s), r.len.push_back(l);
    end = s + l;
  }
  return r;
}

// A 20 s record: `a`'s gaps and the (start, length) pairs `more`, in time order, a gap that starts
// inside an earlier one dropped (the spinning thread cannot see it).
inline calibrate::GapRecord merged(const calibrate::GapRecord& a, std::vector<std::pair<double, double>> more) {
  for (size_t i = 0; i < a.start.size(); ++i) more.push_back({a.start[i], a.len[i]});
  std::sort(more.begin(), more.end());
  calibrate::GapRecord r;
  r.spun_ns = 20e9;
  double end = -1;
  for (auto [s, l] : more)
    if (s >= end) r.start.push_back(s), r.len.push_back(l), end = s + l;
  return r;
}

// The guest's 250 Hz tick, a host source at 999.994 Hz (its period in guest time a little off
// 1 ms, so its phase drifts against the tick), and stalls at ~200/s, 20 s on 2 CPUs.
inline std::vector<calibrate::GapRecord> two_sources() {
  Dist tick = law("{lognormal: {median: 40us, sigma: 0.3}}"), host = law("{lognormal: {median: 30us, sigma: 0.15}}");
  Dist running = law("{exponential: {mean: 5ms}}"), length = law("{lognormal: {median: 6us, sigma: 0.5}}");
  std::vector<calibrate::GapRecord> recs;
  for (uint64_t seed : {21, 22}) {
    calibrate::GapRecord a = synthetic(20, 4e6, 1.5e6 + double(seed), &tick, running, length, 1000, seed);
    calibrate::GapRecord b = synthetic(20, 1.000006e6, 0.3e6, &host, law("{fixed: 1h}"), length, 1000, seed + 100);
    std::vector<std::pair<double, double>> g;
    for (size_t i = 0; i < b.start.size(); ++i) g.push_back({b.start[i], b.len[i]});
    recs.push_back(merged(a, g));
  }
  return recs;
}

// The fit of two_sources(), made once for the tests that read it.
inline const calibrate::StallFit& two_sources_fit() {
  static const calibrate::StallFit f = calibrate::fit_stalls(two_sources(), {}, 1000, 4e6);
  return f;
}

}  // namespace racewin::test

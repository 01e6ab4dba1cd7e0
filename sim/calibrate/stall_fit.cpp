#include "calibrate/stall_fit.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>
#include <tuple>

namespace racewin::calibrate {
namespace {

// Where in its period a time falls, centred: (t - phase) wrapped to [-P/2, P/2).
double wrapped(double t, double phase, double period) {
  double r = std::fmod(t - phase, period);
  if (r < -period / 2) r += period;
  if (r >= period / 2) r -= period;
  return r;
}

std::complex<double> resultant(const GapRecord& r, double period) {
  std::complex<double> s = 0;
  for (double t : r.start) s += std::polar(1.0, 2 * M_PI * std::fmod(t, period) / period);
  return s;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// A record's phase at period P: the circular mean of its gaps' starts is pulled off the source's by
// the other gaps (another source's, at a fixed offset, moves it by tens of microseconds, and by a
// different amount in each record), so it only says where to look: the phase is the densest 2 us
// of the record's starts within a tenth of a period of it, then their median. In [0, P).
double record_phase(const GapRecord& r, double P) {
  double ph = std::arg(resultant(r, P)) / (2 * M_PI) * P;
  std::vector<double> near;
  for (double t : r.start)
    if (double w = wrapped(t, ph, P); std::fabs(w) < P / 10) near.push_back(w);
  std::sort(near.begin(), near.end());
  size_t best = 0, best_n = 0;
  for (size_t i = 0, j = 0; i < near.size(); ++i) {
    while (near[i] - near[j] > 2000) ++j;
    if (i - j + 1 > best_n) best_n = i - j + 1, best = j;
  }
  auto from = near.begin() + std::ptrdiff_t(best);
  double centre = best_n ? median(std::vector<double>(from, from + std::ptrdiff_t(best_n))) : 0;
  return std::fmod(std::fmod(ph + centre, P) + P, P);
}

// The period near p0 (within 0.2%) with the largest Rayleigh z: a grid fine enough that the phase
// drifts by at most an eighth of a period over the longest record, then a golden-section step.
double refine_period(const std::vector<GapRecord>& recs, double p0, double& z_best) {
  double longest = 0;
  for (const auto& r : recs) longest = std::max(longest, r.spun_ns);
  double step = p0 * p0 / (8 * std::max(longest, p0));
  int n = std::min(20000, int(std::ceil(4e-3 * p0 / step)));
  step = 4e-3 * p0 / n;
  double best = p0;
  z_best = -1;
  for (int i = 0; i <= n; ++i) {
    double p = p0 * (1 - 2e-3) + i * step;
    double z = rayleigh_z(recs, p);
    if (z > z_best) z_best = z, best = p;
  }
  double lo = best - step, hi = best + step;
  const double g = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 40; ++i) {
    double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
    if (rayleigh_z(recs, a) > rayleigh_z(recs, b)) hi = b;
    else lo = a;
  }
  double p = (lo + hi) / 2, z = rayleigh_z(recs, p);
  if (z > z_best) z_best = z, best = p;
  return best;
}

// The records' gaps not yet taken by a periodic source.
std::vector<GapRecord> unassigned(const std::vector<GapRecord>& recs, const std::vector<std::vector<bool>>& taken) {
  std::vector<GapRecord> out(recs.size());
  for (size_t k = 0; k < recs.size(); ++k) {
    out[k].cpu = recs[k].cpu, out[k].spun_ns = recs[k].spun_ns;
    for (size_t i = 0; i < recs[k].start.size(); ++i)
      if (!taken[k][i]) out[k].start.push_back(recs[k].start[i]), out[k].len.push_back(recs[k].len[i]);
  }
  return out;
}

// How far from its phase a source's gaps start: the offsets within a tenth of a period, in bins
// (at least 250 ns); the background (other gaps, spread evenly) is the mean bin between a
// twentieth and a tenth of the period. The window is the peak around the phase: it ends at the
// first bin out from the centre, on both sides, whose count is within noise (3 standard
// deviations) of the background; at least 2 us. Another source's gaps further out are not in it.
// Returns the window and the background's gaps per nanosecond of offset.
std::pair<double, double> window_from_excess(const std::vector<double>& offsets, double P) {
  const double reach = P / 10, bin = std::max(P / 4000, 250.0);
  const int half = int(std::ceil(reach / bin));
  std::vector<double> count(size_t(2 * half + 1), 0);
  for (double w : offsets)
    if (std::fabs(w) < reach) count[size_t(std::clamp(int(std::floor(w / bin + 0.5)) + half, 0, 2 * half))] += 1;
  double bg = 0;
  int nbg = 0;
  for (int b = -half; b <= half; ++b)
    if (std::abs(b) * bin > P / 20) bg += count[size_t(b + half)], ++nbg;
  bg = nbg ? bg / nbg : 0;
  const double noise = bg + 3 * std::sqrt(std::max(bg, 1.0));
  int k = 1;
  for (; k < half; ++k)
    if (count[size_t(half + k)] <= noise && count[size_t(half - k)] <= noise) break;
  return {std::max((k - 0.5) * bin, 2000.0), bg / bin};
}

// A periodic source near p0 among the gaps not yet taken: its period (Rayleigh's z, then least
// squares over the gaps in its window), each record's phase, its window; found when z is far above
// chance and at least a tenth of its periods show a gap.
PeriodicFit locate(const std::vector<GapRecord>& recs, const std::vector<std::vector<bool>>& taken, double p0,
                   const std::string& origin) {
  PeriodicFit f;
  f.origin = origin;
  std::vector<GapRecord> free = unassigned(recs, taken);
  f.period_ns = refine_period(free, p0, f.rayleigh_z);
  size_t total = 0;
  for (const auto& r : free) total += r.start.size();
  if (f.rayleigh_z < 50 || total == 0) return f;
  const double P = f.period_ns;
  for (const auto& r : free) f.phase_ns.push_back(record_phase(r, P));
  // The Rayleigh peak is flat (z falls by a thousandth a nanosecond away from it), so the other
  // gaps move its top by about a nanosecond, and the phase at the record's start by microseconds.
  // The gaps in the window pin the line down: least squares of start against period number, one
  // slope for every record, each its own intercept; the window follows the line.
  double density = 0;
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<double> offsets;
    for (size_t j = 0; j < free.size(); ++j)
      for (double t : free[j].start) offsets.push_back(wrapped(t, f.phase_ns[j], f.period_ns));
    std::tie(f.window_ns, density) = window_from_excess(offsets, f.period_ns);
    if (pass == 2) break;
    double sxy = 0, sxx = 0;
    std::vector<std::pair<double, double>> means;  // per record: mean k, mean t
    std::vector<std::vector<std::pair<double, double>>> pts(free.size());
    for (size_t j = 0; j < free.size(); ++j) {
      double sk = 0, st = 0;
      for (double t : free[j].start) {
        if (std::fabs(wrapped(t, f.phase_ns[j], f.period_ns)) > f.window_ns) continue;
        double k = std::round((t - f.phase_ns[j]) / f.period_ns);
        pts[j].push_back({k, t});
        sk += k, st += t;
      }
      double n = double(pts[j].size());
      means.push_back(n > 0 ? std::make_pair(sk / n, st / n) : std::make_pair(0.0, 0.0));
      for (auto [k, t] : pts[j]) sxy += (k - means[j].first) * (t - means[j].second), sxx += (k - means[j].first) * (k - means[j].first);
    }
    if (sxx <= 0) break;
    f.period_ns = sxy / sxx;
    for (size_t j = 0; j < free.size(); ++j)
      if (!pts[j].empty()) f.phase_ns[j] = std::fmod(std::fmod(means[j].second - means[j].first * f.period_ns, f.period_ns) + f.period_ns, f.period_ns);
  }
  for (const auto& r : recs) f.expected += r.spun_ns / f.period_ns;
  f.chance_gaps = density * 2 * f.window_ns;  // per record's offsets pooled: gaps a window gathers by chance
  f.found = true;
  return f;
}

// The next periodic source's period, from the gaps not yet taken: the start-to-start intervals of
// successive gaps have a sharp peak at it (1% bins from 20 us to 50 ms, a peak holding a tenth of
// the intervals and five times its neighbours' mean). 0 if there is none.
double start_to_start_peak(const std::vector<GapRecord>& free) {
  const double lo = 2e4, hi = 5e7, step = std::log(1.01);
  const int bins = int(std::log(hi / lo) / step) + 1;
  auto in = std::vector<std::vector<double>>(size_t(bins));
  size_t n = 0;
  for (const auto& r : free)
    for (size_t i = 1; i < r.start.size(); ++i) {
      double d = r.start[i] - r.start[i - 1];
      ++n;
      if (d > lo && d < hi) in[size_t(std::log(d / lo) / step)].push_back(d);
    }
  size_t best = 0;
  for (size_t b = 0; b < in.size(); ++b)
    if (in[b].size() + (b + 1 < in.size() ? in[b + 1].size() : 0) > in[best].size() + (best + 1 < in.size() ? in[best + 1].size() : 0)) best = b;
  double peak = double(in[best].size() + (best + 1 < in.size() ? in[best + 1].size() : 0)), around = 0;
  int m = 0;
  for (int d = -12; d <= 12; ++d) {
    int b = int(best) + d;
    if (std::abs(d) < 3 || b < 0 || b >= bins) continue;
    around += double(in[size_t(b)].size()), ++m;
  }
  if (n == 0 || peak < 0.1 * double(n) || peak / 2 < 5 * (m ? around / m : 0)) return 0;
  std::vector<double> v = in[best];
  if (best + 1 < in.size()) v.insert(v.end(), in[best + 1].begin(), in[best + 1].end());
  return median(v);
}

// Marks the gaps of `recs` that start within the window of f's phase (taken[k][i]) and returns
// their lengths.
std::vector<double> take(const PeriodicFit& f, const std::vector<GapRecord>& recs, std::vector<std::vector<bool>>& taken) {
  std::vector<double> lengths;
  for (size_t k = 0; k < recs.size(); ++k)
    for (size_t i = 0; i < recs[k].start.size(); ++i)
      if (!taken[k][i] && std::fabs(wrapped(recs[k].start[i], f.phase_ns[k], f.period_ns)) <= f.window_ns)
        taken[k][i] = true, lengths.push_back(recs[k].len[i]);
  return lengths;
}

RenewalFit fit_rest(const std::vector<GapRecord>& recs, const std::vector<std::vector<bool>>& taken, double threshold) {
  RenewalFit R;
  std::vector<double> running, length, log_run_prev, log_run_next;
  std::vector<std::vector<double>> sequences;  // each record's running times in order
  double in_gaps = 0;
  for (size_t k = 0; k < recs.size(); ++k) {
    const auto& r = recs[k];
    auto& seq = sequences.emplace_back();
    R.seconds += r.spun_ns / 1e9;
    double prev_end = -1, prev_log = NAN;
    for (size_t i = 0; i < r.start.size(); ++i) {
      if (taken[k][i]) continue;
      ++R.gaps;
      length.push_back(r.len[i]);
      in_gaps += r.len[i];
      R.longest_ns = std::max(R.longest_ns, r.len[i]);
      if (prev_end >= 0 && r.start[i] > prev_end) {
        double run = r.start[i] - prev_end;
        running.push_back(run);
        seq.push_back(run);
        if (!std::isnan(prev_log)) log_run_prev.push_back(prev_log), log_run_next.push_back(std::log(run));
        prev_log = std::log(run);
      }
      prev_end = r.start[i] + r.len[i];
    }
  }
  R.rate_per_s = R.seconds > 0 ? double(R.gaps) / R.seconds : 0;
  R.time_fraction = R.seconds > 0 ? in_gaps / (R.seconds * 1e9) : 0;
  if (length.size() >= 10) R.length = fit_law(length, threshold);
  if (running.size() >= 10) {
    R.running = fit_law(running, 0);
    double m = std::accumulate(running.begin(), running.end(), 0.0) / double(running.size()), v = 0;
    for (double x : running) v += (x - m) * (x - m);
    R.cv = std::sqrt(v / double(running.size())) / m;
  }
  if (log_run_prev.size() >= 10) {
    size_t n = log_run_prev.size();
    double ma = std::accumulate(log_run_prev.begin(), log_run_prev.end(), 0.0) / double(n);
    double mb = std::accumulate(log_run_next.begin(), log_run_next.end(), 0.0) / double(n);
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; ++i) {
      double a = log_run_prev[i] - ma, b = log_run_next[i] - mb;
      sab += a * b, saa += a * a, sbb += b * b;
    }
    R.lag1 = saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
    R.bursty = R.lag1 > 3 / std::sqrt(double(n));
  }
  if (R.bursty) R.mm = fit_markov_modulated(sequences);
  return R;
}

// Of the gaps no periodic source took, how many of each record overlap (within 1 us) one of
// another record's, against the count expected if they were independent: a gap of length a meets
// one of n_b gaps of mean length b spread over T with probability about n_b (a + b + 2 us) / T.
Correlation correlate(const std::vector<GapRecord>& recs, const std::vector<std::vector<bool>>& taken) {
  Correlation c;
  const double slack = 1000;
  std::vector<std::vector<std::pair<double, double>>> gaps(recs.size());
  for (size_t k = 0; k < recs.size(); ++k)
    for (size_t i = 0; i < recs[k].start.size(); ++i)
      if (!taken[k][i]) gaps[k].push_back({recs[k].start[i], recs[k].start[i] + recs[k].len[i]});
  for (size_t a = 0; a < recs.size(); ++a)
    for (size_t b = 0; b < recs.size(); ++b) {
      if (a == b || gaps[b].empty()) continue;
      double T = std::max(recs[b].spun_ns, 1.0), mean_b = 0;
      for (auto& g : gaps[b]) mean_b += g.second - g.first;
      mean_b /= double(gaps[b].size());
      for (auto& g : gaps[a]) {
        ++c.gaps;
        c.expected += std::min(1.0, double(gaps[b].size()) * ((g.second - g.first) + mean_b + 2 * slack) / T);
        auto it = std::lower_bound(gaps[b].begin(), gaps[b].end(), std::make_pair(g.first - slack, 0.0),
                                   [](auto& x, auto& y) { return x.second < y.first; });
        if (it != gaps[b].end() && it->first <= g.second + slack) ++c.overlapping;
      }
    }
  return c;
}

std::vector<std::vector<bool>> none_taken(const std::vector<GapRecord>& recs) {
  std::vector<std::vector<bool>> t;
  for (const auto& r : recs) t.emplace_back(r.start.size(), false);
  return t;
}

// Takes f's gaps if it is found and shows in at least a tenth of its periods.
bool accept(PeriodicFit& f, const std::vector<GapRecord>& recs, std::vector<std::vector<bool>>& taken, double threshold) {
  if (!f.found) return false;
  auto trial = taken;
  std::vector<double> lengths = take(f, recs, trial);
  f.gaps = lengths.size();
  if (double(f.gaps) < 0.1 * f.expected || lengths.size() < 10) {
    f.found = false;
    return false;
  }
  taken = trial;
  f.length = fit_law(lengths, threshold);
  return true;
}

// The phases of the records spun together at f's period, and the largest offset between two.
void align(PeriodicFit& f, const std::vector<GapRecord>& together) {
  std::vector<double> ph;
  for (const auto& r : together) ph.push_back(record_phase(r, f.period_ns));
  f.max_phase_offset_ns = 0;
  for (size_t i = 0; i < ph.size(); ++i)
    for (size_t j = 0; j < i; ++j) f.max_phase_offset_ns = std::max(f.max_phase_offset_ns, std::fabs(wrapped(ph[i], ph[j], f.period_ns)));
  f.aligned_known = true;
}

}  // namespace

double rayleigh_z(const std::vector<GapRecord>& records, double period_ns) {
  double z = 0;
  for (const auto& r : records)
    if (!r.start.empty()) z += std::norm(resultant(r, period_ns)) / double(r.start.size());
  return z;
}

StallFit fit_stalls(const std::vector<GapRecord>& alone, const std::vector<GapRecord>& together, double threshold_ns,
                    double period_hint_ns) {
  StallFit s;
  s.threshold_ns = threshold_ns;
  auto taken = none_taken(alone);
  // The guest's tick first, near 1/HZ; without HZ, the candidates' longest period that is about
  // as periodic as the best (every divisor of a true period is as periodic as it; no multiple is).
  double p0 = period_hint_ns;
  if (p0 <= 0) {
    double zmax = 0;
    std::vector<std::pair<double, double>> found;
    for (double c : {1e7, 4e6, 1e9 / 300, 1e6}) {
      double z;
      double p = refine_period(alone, c, z);
      found.push_back({p, z});
      zmax = std::max(zmax, z);
    }
    for (const auto& [p, z] : found)
      if (z >= 0.5 * zmax && p > p0) p0 = p;
  }
  s.tick = locate(alone, taken, p0, period_hint_ns > 0 ? "the guest's tick (1/HZ)" : "the guest's tick (searched)");
  accept(s.tick, alone, taken, threshold_ns);
  // Then other periodic sources (a host's tick, a timer of the VMM), from the start-to-start
  // intervals of what is left, at most three.
  for (int i = 0; i < 3; ++i) {
    double p = start_to_start_peak(unassigned(alone, taken));
    if (p <= 0) break;
    PeriodicFit f = locate(alone, taken, p, "a start-to-start peak");
    if (!accept(f, alone, taken, threshold_ns)) break;
    s.other_periodic.push_back(f);
  }
  s.rest = fit_rest(alone, taken, threshold_ns);
  if (together.size() > 1) {
    auto t_taken = none_taken(together);
    std::vector<PeriodicFit*> sources;
    if (s.tick.found) sources.push_back(&s.tick);
    for (auto& f : s.other_periodic) sources.push_back(&f);
    for (PeriodicFit* f : sources) {
      align(*f, together);
      // Each together record's gaps in the window of its own phase are the source's.
      PeriodicFit g = *f;
      g.phase_ns.clear();
      for (const auto& r : together) g.phase_ns.push_back(record_phase(r, g.period_ns));
      take(g, together, t_taken);
    }
    s.together = correlate(together, t_taken);
  }
  return s;
}

}  // namespace racewin::calibrate

// Replications of a case: each a share of its limits with a seed of its own, merged into one result.
#include "run/run.hpp"

#include <algorithm>
#include <vector>

#include "base/rng.hpp"

namespace racewin {

CaseConfig replication_config(const CaseConfig& cfg, int k) {
  CaseConfig c = cfg;
  if (cfg.replications <= 1) return c;
  uint64_t x = cfg.seed + 0x5851f42d4c957f2dULL * uint64_t(k + 1);
  c.seed = splitmix64(x);
  c.limits.time_ns = cfg.limits.time_ns / cfg.replications;
  if (cfg.limits.iterations)
    c.limits.iterations = cfg.limits.iterations / uint64_t(cfg.replications) +
                          (uint64_t(k) < cfg.limits.iterations % uint64_t(cfg.replications) ? 1 : 0);
  c.replications = 1;
  return c;
}

CaseResult merge_replications(const CaseConfig& cfg, const std::vector<CaseResult>& reps) {
  if (reps.size() == 1) return reps.front();
  CaseResult r = reps.front();
  r.seed = cfg.seed;
  std::vector<HazardStats> raw(r.hazards.size());
  for (size_t h = 0; h < raw.size(); ++h) raw[h].name = r.hazards[h].name;
  double t0 = 0;
  uint64_t it0 = 0;
  std::vector<double> stolen(r.steal_fraction.size(), 0);
  for (size_t k = 0; k < reps.size(); ++k) {
    const CaseResult& x = reps[k];
    for (size_t h = 0; h < raw.size(); ++h) {
      const HazardResult& hr = x.hazards[h];
      if (hr.count && raw[h].count == 0) {
        raw[h].first_time = t0 + hr.first_time_s * 1e9;
        raw[h].first_iteration = it0 + hr.first_iteration;
        raw[h].first_detail = hr.first_detail;
        raw[h].reports.first_check = hr.reports.first_check, raw[h].reports.first_dump = hr.reports.first_dump;
      }
      raw[h].reports.written += hr.reports.written, raw[h].reports.fresh += hr.reports.fresh;
      raw[h].reports.dumped += hr.reports.dumped, raw[h].reports.locked_at_dump += hr.reports.locked_at_dump;
      raw[h].count += hr.count;
      raw[h].iterations_hit += hr.iterations_hit;
    }
    for (size_t v = 0; v < stolen.size(); ++v) stolen[v] += x.steal_fraction[v] * x.sim_time_ns;
    if (k == 0) {
      t0 = x.sim_time_ns;
      it0 = x.iterations;
      continue;
    }
    r.sim_time_ns += x.sim_time_ns;
    r.iterations += x.iterations;
    r.events += x.events;
    r.ipis += x.ipis;
    r.wall_seconds += x.wall_seconds;
    r.interrupted = r.interrupted || x.interrupted;
    if (r.failure.empty()) r.failure = x.failure;
    for (size_t t = 0; t < r.thread_iterations.size(); ++t) r.thread_iterations[t].second += x.thread_iterations[t].second;
    for (size_t w = 0; w < r.windows.size(); ++w) {
      WindowStats& a = r.windows[w].stats;
      const WindowStats& b = x.windows[w].stats;
      a.opened += b.opened, a.closed += b.closed, a.hit += b.hit, a.length_sum += b.length_sum;
      a.length_max = std::max(a.length_max, b.length_max);
      a.stretched_by_steal += b.stretched_by_steal, a.stretched_by_irq += b.stretched_by_irq;
      a.stretched_by_task += b.stretched_by_task;
      for (size_t bin = 0; bin < a.length_hist.size(); ++bin) a.length_hist[bin] += b.length_hist[bin];
    }
    for (size_t l = 0; l < r.locks.size(); ++l) {
      SpinLockStats& a = r.locks[l].second;
      const SpinLockStats& b = x.locks[l].second;
      a.acquisitions += b.acquisitions, a.contended += b.contended, a.hold_sum += b.hold_sum, a.wait_sum += b.wait_sum;
      a.hold_max = std::max(a.hold_max, b.hold_max), a.wait_max = std::max(a.wait_max, b.wait_max);
    }
    for (const FirstHit& f : x.first_hits)  // the first replication that hit, in their order
      if (std::none_of(r.first_hits.begin(), r.first_hits.end(), [&](const FirstHit& g) { return g.hazard == f.hazard; })) {
        r.first_hits.push_back(f);
        r.first_hits.back().replication = int(k);
      }
    t0 += x.sim_time_ns;
    it0 += x.iterations;
  }
  std::sort(r.first_hits.begin(), r.first_hits.end(), [](const FirstHit& a, const FirstHit& b) { return a.hazard < b.hazard; });
  for (size_t v = 0; v < stolen.size(); ++v) r.steal_fraction[v] = r.sim_time_ns > 0 ? stolen[v] / r.sim_time_ns : 0;
  for (size_t h = 0; h < raw.size(); ++h) r.hazards[h] = summarize_hazard(raw[h], r.iterations, r.sim_time_ns);
  for (auto& w : r.windows) w = summarize_window(w.stats);
  for (const CaseResult& x : reps) {  // per replication, for a paired ratio (ratio.hpp)
    r.replication_iterations.push_back(x.iterations);
    for (size_t h = 0; h < raw.size(); ++h) r.hazards[h].replication_hits.push_back(x.hazards[h].iterations_hit);
  }
  return r;
}

CaseResult run_case_replicated(const CaseConfig& cfg, EngineKind engine, RunControl& control) {
  std::vector<CaseResult> reps;
  for (int k = 0; k < std::max(1, cfg.replications) && !control.interrupted; ++k) {
    CaseConfig c = replication_config(cfg, k);
    reps.push_back(run_case(c, engine, control));
  }
  return merge_replications(cfg, reps);
}

}  // namespace racewin

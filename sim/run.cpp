#include "run.hpp"

#include <chrono>
#include <limits>

#include "native_engine.hpp"
#include "simgrid_engine.hpp"

namespace racewin {

const char* engine_name(EngineKind k) { return k == EngineKind::Native ? "native" : "simgrid"; }

HazardResult summarize_hazard(const HazardStats& h, uint64_t iterations, double time_ns) {
  HazardResult r;
  r.name = h.name;
  r.count = h.count;
  r.iterations_hit = std::min(h.iterations_hit, iterations);
  double secs = time_ns * 1e-9;
  r.p = iterations ? double(r.iterations_hit) / double(iterations) : 0;
  r.p_ci = binomial_interval(r.iterations_hit, iterations);
  r.rate = secs > 0 ? double(r.count) / secs : 0;
  r.rate_ci = poisson_rate_interval(r.count, secs);
  const double inf = std::numeric_limits<double>::infinity();
  Interval fail = poisson_rate_interval(r.iterations_hit, secs);
  r.mttf_s = r.iterations_hit ? secs / double(r.iterations_hit) : inf;
  r.mttf_ci = {fail.hi > 0 ? 1 / fail.hi : inf, fail.lo > 0 ? 1 / fail.lo : inf};
  if (h.count) {
    r.first_time_s = h.first_time * 1e-9;
    r.first_iteration = h.first_iteration;
    r.first_detail = h.first_detail;
  }
  return r;
}

WindowResult summarize_window(const WindowStats& w) {
  WindowResult r{w, w.closed ? double(w.hit) / double(w.closed) : 0, binomial_interval(w.hit, w.closed)};
  return r;
}

CaseResult run_case(const CaseConfig& cfg, EngineKind engine, RunControl& control, const std::string& paje_trace) {
  auto wall0 = std::chrono::steady_clock::now();
  CaseResult r;
  r.case_name = cfg.name;
  r.engine = engine;
  r.seed = cfg.seed;

  auto collect = [&](const Machine& m, double now) {
    r.sim_time_ns = now;
    r.iterations = m.iterations();
    for (size_t t = 0; t < cfg.threads.size(); ++t)
      r.thread_iterations.emplace_back(cfg.threads[t].name, m.thread_iterations(int(t)));
    r.events = m.events();
    for (const auto& h : m.hazards()) r.hazards.push_back(summarize_hazard(h, r.iterations, now));
    for (const auto& w : m.windows()) r.windows.push_back(summarize_window(w));
    for (size_t l = 0; l < cfg.names.spinlocks.size(); ++l)
      r.locks.emplace_back(cfg.names.spinlocks[l], m.spinlocks()[l].stats);
    for (int v = 0; v < cfg.vcpus; ++v) r.steal_fraction.push_back(now > 0 ? m.stolen_time(v) / now : 0);
  };

  auto drive = [&](auto& eng) {
    Machine m(cfg, cfg.seed, eng);
    try {
      eng.run(m, cfg.limits.time_ns, control);
      if (!m.finished() && !control.interrupted && eng.now() < cfg.limits.time_ns)
        r.failure = "every thread is blocked and nothing is left to happen at t=" + format_duration(eng.now());
    } catch (const DeadlockError& e) {
      r.failure = e.what();
    } catch (const ModelError& e) {
      r.failure = e.what();
    }
    collect(m, eng.now());
  };
  if (engine == EngineKind::Native) {
    NativeEngine eng(cfg.vcpus);
    drive(eng);
  } else {
    SimGridEngine eng(cfg.vcpus, paje_trace);
    drive(eng);
  }
  r.interrupted = control.interrupted;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return r;
}

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
      }
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
    }
    for (size_t l = 0; l < r.locks.size(); ++l) {
      SpinLockStats& a = r.locks[l].second;
      const SpinLockStats& b = x.locks[l].second;
      a.acquisitions += b.acquisitions, a.contended += b.contended, a.hold_sum += b.hold_sum, a.wait_sum += b.wait_sum;
      a.hold_max = std::max(a.hold_max, b.hold_max), a.wait_max = std::max(a.wait_max, b.wait_max);
    }
    t0 += x.sim_time_ns;
    it0 += x.iterations;
  }
  for (size_t v = 0; v < stolen.size(); ++v) r.steal_fraction[v] = r.sim_time_ns > 0 ? stolen[v] / r.sim_time_ns : 0;
  for (size_t h = 0; h < raw.size(); ++h) r.hazards[h] = summarize_hazard(raw[h], r.iterations, r.sim_time_ns);
  for (auto& w : r.windows) w = summarize_window(w.stats);
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

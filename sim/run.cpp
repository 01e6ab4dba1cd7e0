#include "run.hpp"

#include <chrono>
#include <limits>

#include "native_engine.hpp"
#include "simgrid_engine.hpp"

namespace racewin {

const char* engine_name(EngineKind k) { return k == EngineKind::Native ? "native" : "simgrid"; }

const std::vector<std::string>& builtin_hazards() {
  static const std::vector<std::string> h = {"bad_page_state",     "refcount_underflow", "use_after_free",
                                             "flags_changed_on_free_page", "mapcount_underflow",
                                             "unlock_page_not_locked"};
  return h;
}

namespace {

HazardResult summarize(const std::string& name, const HazardStats* h, uint64_t iterations, double time_ns) {
  HazardResult r;
  r.name = name;
  r.count = h ? h->count : 0;
  double secs = time_ns * 1e-9;
  r.p = iterations ? double(r.count) / double(iterations) : 0;
  r.p_ci = binomial_interval(r.count, iterations);
  r.rate = secs > 0 ? double(r.count) / secs : 0;
  r.rate_ci = poisson_rate_interval(r.count, secs);
  const double inf = std::numeric_limits<double>::infinity();
  r.mttf_s = r.count ? secs / double(r.count) : inf;
  r.mttf_ci = {r.rate_ci.hi > 0 ? 1 / r.rate_ci.hi : inf, r.rate_ci.lo > 0 ? 1 / r.rate_ci.lo : inf};
  if (h && h->count) {
    r.first_time_s = h->first_time * 1e-9;
    r.first_iteration = h->first_iteration;
    r.first_detail = h->first_detail;
  }
  return r;
}

}  // namespace

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
    std::vector<std::string> names = builtin_hazards();
    for (const auto& w : cfg.names.windows) names.push_back("window:" + w);
    for (const auto& h : m.hazards())
      if (std::find(names.begin(), names.end(), h.name) == names.end()) names.push_back(h.name);
    for (const auto& n : names) {
      const HazardStats* hs = nullptr;
      for (const auto& h : m.hazards())
        if (h.name == n) hs = &h;
      r.hazards.push_back(summarize(n, hs, r.iterations, now));
    }
    r.windows = m.windows();
    for (size_t l = 0; l < cfg.names.spinlocks.size(); ++l)
      r.locks.emplace_back(cfg.names.spinlocks[l], m.spinlocks()[l].stats);
    for (int v = 0; v < cfg.vcpus; ++v) r.steal_fraction.push_back(now > 0 ? m.stolen_time(v) / now : 0);
  };

  if (engine == EngineKind::Native) {
    NativeEngine eng(cfg.vcpus);
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
  } else {
    SimGridEngine eng(cfg.vcpus, paje_trace);
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
  }
  r.interrupted = control.interrupted;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return r;
}

}  // namespace racewin

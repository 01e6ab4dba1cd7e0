#include "run/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>

#include "engines/native_engine.hpp"
#include "engines/simgrid_engine.hpp"

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
  r.reports = h.reports;
  return r;
}

WindowResult summarize_window(const WindowStats& w) {
  WindowResult r{w, w.closed ? double(w.hit) / double(w.closed) : 0, binomial_interval(w.hit, w.closed)};
  return r;
}

std::string StoppingRule::describe() const {
  std::string s = rel_error > 0 ? fmt::format("rel-error {:g}", rel_error) : "";
  if (p_below > 0) s += fmt::format("{}p-below {:g}", s.empty() ? "" : " or ", p_below);
  return s;
}

std::vector<std::string> case_hazards(const CaseConfig& cfg) {
  std::vector<std::string> h = builtin_hazards();
  for (const auto& w : cfg.names.windows) h.push_back("window:" + w);
  return h;
}

std::vector<std::string> rule_hazards(const StoppingRule& rule, const CaseConfig& cfg) {
  if (!rule.hazards.empty()) return rule.hazards;
  std::vector<std::string> h = {"bad_page_state"}, can;
  for (const auto& w : cfg.names.windows) h.push_back("window:" + w);
  for (const auto& x : h)
    if (hazard_can_be_hit(cfg, x)) can.push_back(x);
  return can.empty() ? h : can;
}

std::vector<std::string> rule_left_out(const StoppingRule& rule, const CaseConfig& cfg) {
  std::vector<std::string> out;
  if (!rule.hazards.empty()) return out;
  std::vector<std::string> in = rule_hazards(rule, cfg);
  for (const auto& x : case_hazards(cfg))
    if ((x == "bad_page_state" || x.rfind("window:", 0) == 0) && std::find(in.begin(), in.end(), x) == in.end()) out.push_back(x);
  return out;
}

bool hazard_can_be_hit(const CaseConfig& cfg, const std::string& hazard) {
  if (hazard.rfind("window:", 0) != 0) {
    // A builtin hazard (a page freed locked, a refcount below zero, ...) needs a step that touches
    // a page or a PTE: paths of work, locks and windows alone (the validation scenarios) cannot
    // raise one. Any other step counts, so that this never calls a reachable hazard unreachable.
    for (const auto& t : cfg.threads)
      for (const auto& st : t.path.steps)
        switch (st.op) {
          case Op::Work: case Op::LocalIrqDisable: case Op::LocalIrqEnable: case Op::PreemptDisable:
          case Op::PreemptEnable: case Op::SpinLock: case Op::SpinUnlock: case Op::WindowOpen:
          case Op::WindowClose: case Op::WindowHit: case Op::Set: case Op::Goto: case Op::End: case Op::Nop:
            break;
          default:
            return true;
        }
    return false;
  }
  const std::string window = hazard.substr(7);
  for (const auto& t : cfg.threads)
    for (const auto& st : t.path.steps)
      if (st.op == Op::WindowHit && cfg.names.windows[size_t(st.obj)] == window) return true;
  return false;
}

HazardCheck check_hazard(const StoppingRule& rule, const std::string& name, uint64_t hit, uint64_t iterations) {
  hit = std::min(hit, iterations);
  return check_estimate(rule, name, hit, iterations ? double(hit) / double(iterations) : 0, binomial_interval(hit, iterations));
}

HazardCheck check_estimate(const StoppingRule& rule, const std::string& name, uint64_t hits, double p, Interval ci,
                           uint64_t min_hits) {
  HazardCheck c{name, hits, p, ci};
  // Clopper-Pearson is not symmetric: "half-width" is half the interval's width. No hit, no
  // relative precision; and never on p = 0 or an interval of no width, whatever the hit count says
  // (a count and an interval of different records once stopped a run at "0 [0, 0]": issue 27).
  c.rel_met = rule.rel_error > 0 && hits >= std::max<uint64_t>(min_hits, 1) && c.p > 0 && c.ci.hi > c.ci.lo &&
              (c.ci.hi - c.ci.lo) / 2 <= rule.rel_error * c.p;
  c.below_met = rule.p_below > 0 && c.ci.hi < rule.p_below;
  return c;
}

bool StopCheck::met() const {
  for (const auto& h : hazards)
    if (!h.met()) return false;
  return true;
}

double projected_events(const StoppingRule& rule, const StopCheck& c) {
  const double inf = std::numeric_limits<double>::infinity(), n = double(c.events);
  double worst = c.hazards.empty() ? inf : 0;
  for (const auto& h : c.hazards) {
    if (h.met()) continue;
    double rel = inf, below = inf;
    double half = (h.ci.hi - h.ci.lo) / 2;
    if (rule.rel_error > 0 && h.iterations_hit > 0) rel = n * std::pow(half / (rule.rel_error * h.p), 2);
    if (rule.p_below > 0 && h.iterations_hit == 0) below = n * h.ci.hi / rule.p_below;
    else if (rule.p_below > 0 && h.p < rule.p_below) below = n * std::pow((h.ci.hi - h.p) / (rule.p_below - h.p), 2);
    worst = std::max(worst, std::min(rel, below));
  }
  return worst;
}

double seconds_left(const StoppingRule& rule, const StopCheck& c, const RunLimits& limits) {
  const double inf = std::numeric_limits<double>::infinity();
  if (c.events == 0 || c.wall_s <= 0) return inf;
  double per_event = c.wall_s / double(c.events), left = inf;
  if (rule.has_rule()) left = std::max(0.0, projected_events(rule, c) - double(c.events)) * per_event;
  if (rule.max_events) left = std::min(left, std::max(0.0, double(rule.max_events) - double(c.events)) * per_event);
  if (rule.max_wall_s > 0) left = std::min(left, std::max(0.0, rule.max_wall_s - c.wall_s));
  if (limits.time_ns > 0 && c.now > 0) left = std::min(left, c.wall_s * std::max(0.0, limits.time_ns - c.now) / c.now);
  if (limits.iterations && c.iterations)
    left = std::min(left, c.wall_s * std::max(0.0, double(limits.iterations) - double(c.iterations)) / double(c.iterations));
  return left;
}

namespace {

// Why the rule was met: by one criterion for every hazard, or by a mix of them.
std::string met_reason(const StoppingRule& rule, const StopCheck& c) {
  bool all_rel = true, all_below = true;
  for (const auto& h : c.hazards) all_rel = all_rel && h.rel_met, all_below = all_below && h.below_met;
  StoppingRule one = rule;
  if (all_rel) one.p_below = 0;
  else if (all_below) one.rel_error = 0;
  return fmt::format("{} reached", one.describe());
}

}  // namespace

CaseResult run_case(const CaseConfig& cfg, EngineKind engine, RunControl& control, const std::string& paje_trace,
                    const StoppingRule* rule, const std::function<void(const StopCheck&)>& on_check,
                    const ForceOptions* force, const TimelineRequest* timeline) {
  if (force && (engine != EngineKind::Native || !rule))
    throw std::invalid_argument("rare-event forcing copies the run to branch it (native engine) and estimates the rule's hazards (a rule, if only budgets)");
  auto wall0 = std::chrono::steady_clock::now();
  CaseResult r;
  r.case_name = cfg.name;
  r.engine = engine;
  r.seed = cfg.seed;

  control.stopped = false;
  Stopping stop;
  std::vector<size_t> watched;  // indexes of the rule's hazards in Machine::hazards()
  const EngineOps* clock = nullptr;  // the engine driving the run, for its time
  std::unique_ptr<ForcingDriver> forced;
  // A rule looks at the forced estimate, trusted for relative precision from kMinEffectiveHits
  // effective hits on (a t interval on a few dominant weights is not).
  constexpr auto kForcedMinHits = uint64_t(kMinEffectiveHits);
  // A crude estimate inside a forced run (not a target, or forcing fell back) is checked as crude.
  auto check_forced = [&](const ForcedHazard& e) {
    return e.crude ? check_estimate(stop.rule, e.name, e.nonzero, e.p, e.ci) : check_estimate(stop.rule, e.name, uint64_t(e.ess), e.p, e.ci, kForcedMinHits);
  };
  auto check = [&](const HazardStats& h, size_t i, uint64_t iterations) {
    if (!forced) return check_hazard(stop.rule, h.name, h.iterations_hit, iterations);
    return check_forced(forced->estimate(i));
  };
  if (rule) {
    stop.rule = *rule;
    stop.rule.hazards = rule_hazards(*rule, cfg);
    stop.left_out = rule_left_out(*rule, cfg);
    stop.limits = cfg.limits;
    std::vector<std::string> all = case_hazards(cfg);
    for (const auto& h : stop.rule.hazards) {
      auto it = std::find(all.begin(), all.end(), h);
      if (it == all.end()) throw ModelError("case " + cfg.name + " has no hazard '" + h + "'");
      watched.push_back(size_t(it - all.begin()));
    }
    if (force) forced = std::make_unique<ForcingDriver>(cfg, *force, watched);
    control.should_stop = [&](const Machine& m) {
      StopCheck c{m.events(), m.iterations(), clock ? clock->now() : 0, 0, {}};
      c.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
      for (size_t i : watched) c.hazards.push_back(check(m.hazards()[i], i, c.iterations));
      if (on_check) on_check(c);
      if (stop.rule.has_rule() && c.met()) stop.reason = met_reason(stop.rule, c);
      else if (stop.rule.max_events && c.events >= stop.rule.max_events) stop.reason = "events budget spent";
      else if (stop.rule.max_wall_s > 0 && c.wall_s >= stop.rule.max_wall_s)
        stop.reason = "wall budget spent", stop.machine_dependent = true;
      return !stop.reason.empty();
    };
  }

  auto collect = [&](const Machine& m, double now) {
    r.sim_time_ns = now;
    r.iterations = m.iterations();
    for (size_t t = 0; t < cfg.threads.size(); ++t)
      r.thread_iterations.emplace_back(cfg.threads[t].name, m.thread_iterations(int(t)));
    r.events = m.events();
    r.ipis = m.ipis_sent();
    for (const auto& h : m.hazards()) r.hazards.push_back(summarize_hazard(h, r.iterations, now));
    for (const auto& w : m.windows()) r.windows.push_back(summarize_window(w));
    for (size_t l = 0; l < cfg.names.spinlocks.size(); ++l)
      r.locks.emplace_back(cfg.names.spinlocks[l], m.spinlocks()[l].stats);
    for (int v = 0; v < cfg.vcpus; ++v) r.steal_fraction.push_back(now > 0 ? m.stolen_time(v) / now : 0);
  };

  auto drive = [&](auto& eng) {
    Machine m(cfg, cfg.seed, eng);
    clock = &eng;
    std::optional<TimelineRecording> recording;
    if (timeline) recording.emplace(cfg, *timeline), recording->attach(m, forced.get());
    try {
      if constexpr (std::is_same_v<std::decay_t<decltype(eng)>, NativeEngine>) {
        if (forced) forced->run(m, eng, control);
        else eng.run(m, cfg.limits.time_ns, control);
      } else {
        eng.run(m, cfg.limits.time_ns, control);
      }
      if (!m.finished() && !control.interrupted && !control.stopped && eng.now() < cfg.limits.time_ns)
        r.failure = "every thread is blocked and nothing is left to happen at t=" + format_duration(eng.now());
    } catch (const DeadlockError& e) {
      r.failure = e.what();
    } catch (const ModelError& e) {
      r.failure = e.what();
    }
    collect(m, eng.now());
    if (recording) recording->finish(eng.now(), r.timeline, r.first_hits);
    if (forced) {
      r.forced = forced->result();
      // P is the forced estimate, and so is the time per hit iteration: the mean iteration time
      // over P (its interval from P's); events and rates stay the main run's own counts.
      const double per_iteration = r.iterations ? r.sim_time_ns * 1e-9 / double(r.iterations) : 0;
      const double inf = std::numeric_limits<double>::infinity();
      for (size_t h = 0; h < r.hazards.size(); ++h) {
        HazardResult& x = r.hazards[h];
        const ForcedHazard& e = r.forced->hazards[h];
        x.p = e.p, x.p_ci = e.ci;
        x.mttf_s = e.p > 0 ? per_iteration / e.p : inf;
        x.mttf_ci = {e.ci.hi > 0 ? per_iteration / e.ci.hi : inf, e.ci.lo > 0 ? per_iteration / e.ci.lo : inf};
      }
    }
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
  if (rule) {
    control.should_stop = nullptr;  // it refers to this frame
    if (!r.failure.empty()) stop.reason = "failed";
    else if (r.interrupted) stop.reason = "interrupted";
    else if (stop.reason.empty() && cfg.limits.iterations && r.iterations >= cfg.limits.iterations)
      stop.reason = "iterations budget spent";
    else if (stop.reason.empty()) stop.reason = "sim time budget spent";
    for (size_t i : watched) {
      const HazardResult& h = r.hazards[i];
      if (r.forced) {
        stop.hazards.push_back(check_forced(r.forced->hazards[i]));
      } else {
        stop.hazards.push_back(check_hazard(stop.rule, h.name, h.iterations_hit, r.iterations));
      }
    }
    stop.events = r.events;
    stop.sim_time_ns = r.sim_time_ns;
    r.stopping = std::move(stop);
  }
  return r;
}

}  // namespace racewin

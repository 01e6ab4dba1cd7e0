// Enumerating the chain: a third engine drives the same passive machine, reading every amount of
// work and every timer delay as the mean of an exponential clock. From each state, each running
// clock is a transition: the machine is copied, the clock fires, zero-time events settle in the
// native engine's order, and the result is looked up by its state key.
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>

#include "exact/exact.hpp"
#include "exact/exact_engine.hpp"
#include "model/machine.hpp"

namespace racewin {
namespace {

using namespace exact_detail;

Chain::Reward counts(const Machine& m) {
  Chain::Reward r;
  r.iterations = int64_t(m.iterations());
  for (const auto& h : m.hazards()) r.events.push_back(int64_t(h.count)), r.iterations_hit.push_back(int64_t(h.iterations_hit));
  for (const auto& w : m.windows()) r.closed.push_back(int64_t(w.closed)), r.hit.push_back(int64_t(w.hit));
  return r;
}

Chain::Reward minus(const Chain::Reward& x, const Chain::Reward& y) {
  Chain::Reward r = x;
  r.iterations -= y.iterations;
  for (size_t i = 0; i < r.events.size(); ++i) r.events[i] -= y.events[i], r.iterations_hit[i] -= y.iterations_hit[i];
  for (size_t i = 0; i < r.closed.size(); ++i) r.closed[i] -= y.closed[i], r.hit[i] -= y.hit[i];
  return r;
}

}  // namespace

Chain build_chain(const CaseConfig& case_cfg, const ExactOptions& opt) {
  check_exponential(case_cfg);
  CaseConfig cfg = case_cfg;
  cfg.limits = {};  // the chain runs forever; what it answers comes from solving it
  Chain chain;
  auto start = std::make_unique<Snap>(cfg.vcpus);
  start->m = std::make_unique<Machine>(cfg, cfg.seed, start->eng, Machine::Sampling::kMeans);
  start->m->start();
  settle(*start);
  for (const auto& h : start->m->hazards()) chain.hazards.push_back(h.name);
  for (const auto& w : start->m->windows()) chain.windows.push_back(w.name);
  Chain::Reward zero = minus(counts(*start->m), counts(*start->m));
  chain.rewards.push_back(zero);

  std::unique_ptr<PageSymmetry> sym;
  if (opt.symmetry) sym = std::make_unique<PageSymmetry>(page_symmetry(cfg, false));
  std::unordered_map<Hash128, uint32_t, Hash128Hasher> ids;
  std::string key;
  auto id_of = [&](const Snap& s, bool& fresh) {
    key.clear();
    if (sym) s.m->canonical_key(key, false, *sym);
    else s.m->state_key(key, false);
    engine_key(s.eng, key);
    auto [it, inserted] = ids.try_emplace(hash_key(key), uint32_t(ids.size()));
    fresh = inserted;
    if (inserted && ids.size() > opt.max_states)
      throw StateLimit("more than " + std::to_string(opt.max_states) + " reachable states (--max-states)", ids.size() - 1);
    return it->second;
  };
  bool fresh;
  id_of(*start, fresh);
  if (opt.progress) opt.progress(1, 1);  // the start state's size alone may not fit in memory
  Snap scratch(*start);  // each transition is tried on it; only new states are kept
  std::deque<std::unique_ptr<Snap>> queue;
  queue.push_back(std::move(start));
  chain.row.push_back(0);
  while (!queue.empty()) {
    std::unique_ptr<Snap> s = std::move(queue.front());
    queue.pop_front();
    Chain::Reward before = counts(*s->m);
    uint64_t row0 = chain.trans.size();
    auto add = [&](Snap& child, double mean) {
      settle(child);
      uint32_t to = id_of(child, fresh);
      Chain::Reward d = minus(counts(*child.m), before);
      uint32_t rw = 0;
      if (!(d == zero)) {
        auto it = std::find(chain.rewards.begin(), chain.rewards.end(), d);
        rw = uint32_t(it - chain.rewards.begin());
        if (it == chain.rewards.end()) chain.rewards.push_back(d);
      }
      bool merged = false;  // the same target and counts: one clock of the summed rate
      for (uint64_t i = row0; i < chain.trans.size() && !merged; ++i)
        if (chain.trans[i].to == to && chain.trans[i].reward == rw) chain.trans[i].rate += 1 / mean, merged = true;
      if (!merged) chain.trans.push_back({to, 1 / mean, rw});
      if (fresh) queue.push_back(std::make_unique<Snap>(child));
    };
    for (size_t v = 0; v < s->eng.work.size(); ++v) {
      if (!s->eng.runs(s->eng.work[v])) continue;
      scratch.assign(*s);
      scratch.eng.work[v].active = false;
      scratch.m->on_work_done(int(v));
      add(scratch, s->eng.work[v].mean);
    }
    for (size_t i = 0; i < s->eng.timers.size(); ++i) {
      scratch.assign(*s);
      Timer t = scratch.eng.timers[i].timer;
      scratch.eng.timers.erase(scratch.eng.timers.begin() + std::ptrdiff_t(i));
      scratch.m->on_timer(t);
      add(scratch, s->eng.timers[i].mean);
    }
    if (chain.trans.size() == row0)
      throw ModelError("state " + std::to_string(chain.row.size() - 1) +
                       ": nothing can happen (every thread is blocked and no clock runs)");
    chain.row.push_back(chain.trans.size());
    if (opt.progress && (chain.row.size() & 4095) == 0) opt.progress(ids.size(), queue.size());
  }
  return chain;
}

}  // namespace racewin

// Enumerating the chain: a third engine drives the same passive machine, reading every amount of
// work and every timer delay as the mean of an exponential clock. From each state, each running
// clock is a transition: the machine is copied, the clock fires, zero-time events settle in the
// native engine's order, and the result is looked up by its state key.
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>

#include "exact.hpp"
#include "machine.hpp"

namespace racewin {
namespace {

class ExactEngine final : public EngineOps {
 public:
  struct Work {
    bool active = false, stolen = false;
    double mean = 0;
  };
  struct Pending {
    Timer timer;
    double mean;
    uint64_t seq;
  };
  explicit ExactEngine(int vcpus) : work(size_t(vcpus)) {}
  Time now() const override { return 0; }  // the chain has no clock; the model reads time for statistics only
  void start_work(int v, double amount) override {
    work[size_t(v)].active = true;
    work[size_t(v)].mean = amount;
  }
  // Memoryless: what is left of an exponential amount is the same exponential.
  double stop_work(int v) override {
    work[size_t(v)].active = false;
    return work[size_t(v)].mean;
  }
  void set_stolen(int v, bool stolen) override { work[size_t(v)].stolen = stolen; }
  void schedule(Time at, const Timer& t) override { timers.push_back({t, at, seq++}); }

  bool runs(const Work& w) const { return w.active && !w.stolen && std::isfinite(w.mean); }
  std::vector<Work> work;
  std::vector<Pending> timers;
  uint64_t seq = 0;
};

struct Snap {
  ExactEngine eng;
  std::unique_ptr<Machine> m;
  explicit Snap(int vcpus) : eng(vcpus) {}
  Snap(const Snap& o) : eng(o.eng), m(std::make_unique<Machine>(*o.m, eng)) {}
  void assign(const Snap& o) {
    eng = o.eng;
    m->assign_state(*o.m);
  }
};

// Zero-time events, as the native engine orders them: work completions (lowest vCPU first), then
// timers in the order they were set. Then timers that would do nothing are dropped.
void settle(Snap& s) {
  for (int guard = 0;; ++guard) {
    if (guard > 1000000) throw ModelError("zero-time events never end");
    int v = -1;
    for (size_t i = 0; i < s.eng.work.size() && v < 0; ++i)
      if (s.eng.runs(s.eng.work[i]) && s.eng.work[i].mean <= 0) v = int(i);
    if (v >= 0) {
      s.eng.work[size_t(v)].active = false;
      s.m->on_work_done(v);
      continue;
    }
    size_t best = s.eng.timers.size();
    for (size_t i = 0; i < s.eng.timers.size(); ++i)
      if (s.eng.timers[i].mean <= 0 && (best == s.eng.timers.size() || s.eng.timers[i].seq < s.eng.timers[best].seq))
        best = i;
    if (best == s.eng.timers.size()) break;
    Timer t = s.eng.timers[best].timer;
    s.eng.timers.erase(s.eng.timers.begin() + std::ptrdiff_t(best));
    s.m->on_timer(t);
  }
  auto& ts = s.eng.timers;
  ts.erase(std::remove_if(ts.begin(), ts.end(), [&](const ExactEngine::Pending& p) { return !s.m->timer_live(p.timer); }),
           ts.end());
}

void engine_key(const ExactEngine& e, std::string& out) {
  auto put = [&](double x) { out.append(reinterpret_cast<const char*>(&x), sizeof x); };
  for (const auto& w : e.work) put(w.active ? (w.stolen ? -w.mean - 1 : w.mean) : -2.0);
  std::vector<std::tuple<int, int, int, double>> ts;  // pending clocks as a multiset
  for (const auto& p : e.timers) ts.emplace_back(int(p.timer.kind), p.timer.vcpu, p.timer.arg, p.mean);
  std::sort(ts.begin(), ts.end());
  for (const auto& [k, v, a, m] : ts) put(double(k)), put(double(v)), put(double(a)), put(m);
}

struct Hash128 {
  uint64_t a, b;
  bool operator==(const Hash128&) const = default;
};
struct Hash128Hasher {
  size_t operator()(const Hash128& h) const { return size_t(h.a ^ (h.b * 0x9e3779b97f4a7c15ULL)); }
};
// Two independent 64-bit hashes of the key, a word at a time (keys are made of 8-byte fields):
// states are told apart by 128 bits (a collision among a million states has a probability near 1e-27).
Hash128 hash_key(const std::string& s) {
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    a = (a ^ w) * 0x100000001b3ULL;
    a ^= a >> 32;
    b = (b + w) * 0xff51afd7ed558ccdULL;
    b ^= b >> 29;
  }
  for (; i < s.size(); ++i) a = (a ^ uint8_t(s[i])) * 0x100000001b3ULL, b = (b + uint8_t(s[i])) * 0xc4ceb9fe1a85ec53ULL;
  return {a, b};
}

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

  std::unordered_map<Hash128, uint32_t, Hash128Hasher> ids;
  std::string key;
  auto id_of = [&](const Snap& s, bool& fresh) {
    key.clear();
    s.m->state_key(key, false);
    engine_key(s.eng, key);
    auto [it, inserted] = ids.try_emplace(hash_key(key), uint32_t(ids.size()));
    fresh = inserted;
    if (inserted && ids.size() > opt.max_states)
      throw StateLimit("more than " + std::to_string(opt.max_states) + " reachable states (--max-states)", ids.size() - 1);
    return it->second;
  };
  bool fresh;
  id_of(*start, fresh);
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

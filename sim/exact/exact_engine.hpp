#pragma once
// The exact driver's engine and the machinery shared by the chain (exact_chain.cpp) and
// reachability (exact_reach.cpp): a state copied to try each clock, settled, keyed, hashed.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "model/machine.hpp"

namespace racewin::exact_detail {

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
inline void settle(Snap& s) {
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

inline void engine_key(const ExactEngine& e, std::string& out) {
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
inline Hash128 hash_key(const std::string& s) {
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

}  // namespace racewin::exact_detail

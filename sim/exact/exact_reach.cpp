// Reachability: the exact driver's states, breadth first, keyed up to a renaming of pages, free
// pages as a set, until a step raises the hazard or nothing new is left. A state's parent and the
// clock that led to it are kept, so that a hit is replayed from the start with its events.
#include <deque>
#include <unordered_map>

#include "exact/exact.hpp"
#include "exact/exact_engine.hpp"

namespace racewin {
namespace {

using namespace exact_detail;

struct Arc {        // how a state was first reached
  uint32_t parent;
  int32_t clock;    // >= 0: work done on that vCPU; < 0: pending timer -clock-1
  int32_t variant;  // which allocation choice (choices() of the parent)
};

using Moves = std::vector<std::pair<int, int>>;  // free page, vCPU: made the next one it allocates

// The allocation choices of a state, free pages as a set: an anonymous free page next on each
// vCPU that allocates (the pool's order and size then never matter), and each free page something
// still refers to, on each such vCPU. A deterministic function of the state, so a replay finds them again.
std::vector<Moves> choices(const Machine& m, int pages, const std::vector<int>& alloc_vcpus, const std::vector<int>& refd) {
  Moves base;
  for (int p = 0; p < pages && base.size() < alloc_vcpus.size(); ++p)
    if (m.page(p).state == Page::State::Free && std::find(refd.begin(), refd.end(), p) == refd.end())
      base.emplace_back(p, alloc_vcpus[base.size()]);
  std::vector<Moves> out{base};
  for (int p : refd)
    for (int v : alloc_vcpus) {
      Moves m2;
      for (auto [q, w] : base) if (w != v) m2.emplace_back(q, w);
      m2.emplace_back(p, v);
      out.push_back(m2);
    }
  return out;
}

void fire(Snap& s, int32_t clock) {
  if (clock >= 0) {
    s.eng.work[size_t(clock)].active = false;
    s.m->on_work_done(clock);
  } else {
    size_t i = size_t(-clock - 1);
    Timer t = s.eng.timers[i].timer;
    s.eng.timers.erase(s.eng.timers.begin() + std::ptrdiff_t(i));
    s.m->on_timer(t);
  }
  settle(s);
}

std::unique_ptr<Snap> start_of(const CaseConfig& cfg) {
  auto s = std::make_unique<Snap>(cfg.vcpus);
  s->m = std::make_unique<Machine>(cfg, cfg.seed, s->eng, Machine::Sampling::kMeans);
  return s;
}

}  // namespace

ReachResult reach(const CaseConfig& case_cfg, const ReachOptions& opt) {
  check_exponential(case_cfg);
  CaseConfig cfg = case_cfg;
  cfg.limits = {};
  PageSymmetry sym = page_symmetry(cfg, opt.pool_as_set);
  std::vector<int> alloc_vcpus;  // where a page may be allocated
  for (const ThreadSpec& t : cfg.threads)
    for (const auto& s : t.path.steps)
      if (s.op == Op::AllocPage && std::find(alloc_vcpus.begin(), alloc_vcpus.end(), t.vcpu) == alloc_vcpus.end())
        alloc_vcpus.push_back(t.vcpu);

  ReachResult r;
  auto start = start_of(cfg);
  start->m->start();
  settle(*start);
  size_t h = 0;
  for (; h < start->m->hazards().size() && start->m->hazards()[h].name != opt.hazard; ++h) {}
  if (h == start->m->hazards().size()) {
    std::string names;
    for (const auto& x : start->m->hazards()) names += (names.empty() ? "" : ", ") + x.name;
    throw ModelError("no hazard '" + opt.hazard + "' in case " + cfg.name + " (it has " + names + ")");
  }

  std::unordered_map<Hash128, uint32_t, Hash128Hasher> ids;
  std::vector<Arc> how;
  std::string key;
  std::vector<int> refd;
  auto discover = [&](const Snap& s, Arc st) {
    key.clear();
    s.m->canonical_key(key, false, sym);
    engine_key(s.eng, key);
    auto [it, fresh] = ids.try_emplace(hash_key(key), uint32_t(ids.size()));
    if (fresh) {
      if (ids.size() > opt.max_states) return false;
      how.push_back(st);
      r.max_pages_in_use = std::max(r.max_pages_in_use, s.m->pages_in_use());
    }
    return fresh;
  };
  discover(*start, {0, 0, 0});
  std::deque<std::pair<uint32_t, std::unique_ptr<Snap>>> queue;
  queue.emplace_back(0, std::move(start));
  Snap scratch(*queue.front().second), variant(scratch);
  uint32_t hit_from = 0;
  Arc hit{};
  bool full = false;
  while (!queue.empty() && !r.reached && !full) {
    auto [id, s] = std::move(queue.front());
    queue.pop_front();
    std::vector<Moves> moves{{}};
    if (opt.pool_as_set) {
      key.clear();
      s->m->canonical_key(key, false, sym, &refd);
      moves = choices(*s->m, cfg.pages, alloc_vcpus, refd);
      r.branched += !refd.empty();
    }
    size_t out = 0;
    for (size_t k = 0; k < moves.size(); ++k) {
      variant.assign(*s);
      for (auto [page, v] : moves[k]) variant.m->put_free_page_next(page, v);
      std::vector<int32_t> clocks;
      for (size_t w = 0; w < variant.eng.work.size(); ++w)
        if (variant.eng.runs(variant.eng.work[w])) clocks.push_back(int32_t(w));
      for (size_t i = 0; i < variant.eng.timers.size(); ++i) clocks.push_back(-int32_t(i) - 1);
      for (int32_t c : clocks) {
        scratch.assign(variant);
        fire(scratch, c);
        ++r.transitions, ++out;
        Arc st{id, c, int32_t(k)};
        if (scratch.m->hazards().at(h).count > 0) {
          r.reached = true, hit_from = id, hit = st, r.detail = scratch.m->hazards().at(h).first_detail;
          break;
        }
        if (ids.size() >= opt.max_states) full = true;
        if (discover(scratch, st)) queue.emplace_back(uint32_t(ids.size() - 1), std::make_unique<Snap>(scratch));
      }
      if (r.reached) break;
    }
    r.dead_ends += out == 0;
    if (opt.progress && (id & 4095) == 0) opt.progress(ids.size(), queue.size(), r.transitions);
  }
  r.states = ids.size();
  r.complete = queue.empty() && !r.reached && !full;
  if (!r.reached) return r;

  // Replay the path from the start, with the model's events.
  std::vector<Arc> path{hit};
  for (uint32_t x = hit_from; x != 0; x = how.at(x).parent) path.push_back(how[x]);
  std::reverse(path.begin(), path.end());
  r.depth = path.size();
  auto s = start_of(cfg);
  s->m->observe_text([&](const ModelEvent& e) { r.trace.push_back((e.vcpu < 0 ? std::string("   -") : "cpu" + std::to_string(e.vcpu)) + "  " + e.what); });
  s->m->start();
  settle(*s);
  for (const Arc& st : path) {
    if (opt.pool_as_set) {
      key.clear();
      s->m->canonical_key(key, false, sym, &refd);
      std::vector<Moves> ch = choices(*s->m, cfg.pages, alloc_vcpus, refd);  // kept: the loop reads into it
      for (auto [page, v] : ch.at(size_t(st.variant))) s->m->put_free_page_next(page, v);
    }
    fire(*s, st.clock);
  }
  return r;
}

}  // namespace racewin

// The exact driver's symmetry reduction: a state keyed up to a renaming of its pages, with the
// variables a thread will write before it reads them cleared. Both are exact (states with equal
// keys have the same future in law, up to the renaming) provided the model never looks at a page
// id but through equality and the page itself: page_symmetry() checks the paths for that, and the
// machine allocates from lists (their order), never by id. pool_as_set is not exact: see
// machine.hpp.
#include <algorithm>
#include <cstring>

#include "model/machine.hpp"

namespace racewin {
namespace {

struct Key {
  std::string& out;
  void i(int64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out.append(b, 8);
  }
  void d(double v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out.append(b, 8);
  }
};

std::vector<const Expr*> exprs_of(const Step& s) {
  std::vector<const Expr*> e;
  for (const auto* o : {&s.cond, &s.page, &s.value, &s.pte_index})
    if (*o) e.push_back(&**o);
  return e;
}

}  // namespace

PageSymmetry page_symmetry(const CaseConfig& cfg, bool pool_as_set) {
  if (pool_as_set && !cfg.kernel.debug_vm)
    throw ModelError("free pages as a set needs kernel.debug_vm (without it a freed page keeps its counts)");
  PageSymmetry sym;
  sym.pool_as_set = pool_as_set;
  for (const ThreadSpec& th : cfg.threads) {
    const auto& steps = th.path.steps;
    size_t nv = th.path.var_names.size(), n = steps.size();
    std::vector<bool> pv(nv, false);
    for (bool grew = true; grew;) {  // alloc_page writes a page id; `set` copies one
      grew = false;
      for (const Step& s : steps)
        if (s.into >= 0 && !pv[size_t(s.into)] &&
            (s.op == Op::AllocPage || (s.op == Op::Set && s.value->page_valued(pv))))
          pv[size_t(s.into)] = grew = true;
    }
    for (const Step& s : steps) {
      for (const Expr* e : exprs_of(s))
        if (!e->page_symmetric(pv))
          throw ModelError(s.loc.str() + ": '" + e->text() + "' does more with a page id than compare it");
      if (s.op == Op::Set && pv[size_t(s.into)] && !s.value->page_valued(pv))
        throw ModelError(s.loc.str() + ": '" + s.text + "' writes a number into a page variable");
    }
    // Liveness, backwards to a fixpoint: a step's guard and operands are read; its `into` is
    // written only if it has no guard (a false guard skips it).
    std::vector<std::vector<bool>> live(n, std::vector<bool>(nv, false));
    auto next = [&](size_t pc) { return pc + 1 < n ? pc + 1 : 0; };
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t pc = n; pc-- > 0;) {
        const Step& s = steps[pc];
        size_t exec = s.op == Op::Goto ? size_t(s.target) : s.op == Op::End ? 0 : next(pc);
        std::vector<bool> in = live[exec];
        if (s.into >= 0 && !s.cond) in[size_t(s.into)] = false;
        if (s.cond)
          for (size_t v = 0; v < nv; ++v) in[v] = in[v] || live[next(pc)][v];
        std::vector<int> used;
        for (const Expr* e : exprs_of(s)) e->vars_read(used);
        for (int v : used) in[size_t(v)] = true;
        if (in != live[pc]) live[pc] = in, changed = true;
      }
    }
    sym.page_var.push_back(std::move(pv));
    sym.live.push_back(std::move(live));
  }
  return sym;
}

void Machine::canonical_key(std::string& out, bool with_iterations, const PageSymmetry& sym,
                            std::vector<int>* referenced_free) const {
  const bool pool = sym.pool_as_set;
  std::vector<int> canon(pages_.size(), -1), order;
  auto ref = [&](int p) {
    if (p >= 0 && size_t(p) < pages_.size() && canon[size_t(p)] < 0) canon[size_t(p)] = int(order.size()), order.push_back(p);
  };
  auto var_page = [&](const Thread& t, size_t v) -> int {  // the page a live variable holds, or -1
    const Value& x = t.vars[v];
    if (!sym.live[size_t(t.id)][size_t(t.pc)][v]) return -1;
    return x.is_pte ? x.pte.page : sym.page_var[size_t(t.id)][v] ? int(x.i) : -1;
  };
  // First references, in the order the key lists them.
  for (const Thread& t : threads_) {
    for (size_t v = 0; v < t.vars.size(); ++v) ref(var_page(t, v));
    ref(t.waiting_page);
    for (int p : t.freeing) ref(p);
    for (int p : t.tlb.batch) ref(p);
  }
  for (const Vcpu& c : vcpus_) {
    for (auto* l : {&c.pagevec, &c.activate_pvec}) for (int p : *l) ref(p);
    if (!pool) for (int p : c.pcp) ref(p);
  }
  for (const PteVal& p : ptes_) ref(p.page);
  if (!pool) for (int p : free_pages_) ref(p);
  auto id = [&](int p) -> int64_t { return p >= 0 && size_t(p) < pages_.size() ? canon[size_t(p)] : p; };
  auto ids = [&](Key& k, const std::vector<int>& l) {
    k.i(int64_t(l.size()));
    for (int p : l) k.i(id(p));
  };
  auto pte = [&](Key& k, const PteVal& p) {
    k.i(p.present | p.writable << 1 | p.dirty << 2 | p.young << 3);
    k.i(id(p.page));
  };

  Key k{out};
  k.i(finished_);
  for (const Thread& t : threads_) {
    k.i(t.pc);
    for (size_t v = 0; v < t.vars.size(); ++v) {
      const Value& x = t.vars[v];
      bool live = sym.live[size_t(t.id)][size_t(t.pc)][v];
      k.i(live && x.is_pte);
      if (!live) k.i(0);
      else if (x.is_pte) pte(k, x.pte);
      else k.i(sym.page_var[size_t(t.id)][v] ? id(int(x.i)) : x.i);
    }
    k.i(int(t.state)), k.i(t.effect_pending), k.d(t.remaining), k.i(t.wait_acks), k.i(t.waiting_lock);
    k.i(id(t.waiting_page)), k.i(int(t.phase)), k.d(t.spun), k.i(t.page_lock_tries);
    ids(k, t.freeing);
    k.i(t.in_free), k.i(t.tlb.pending);
    ids(k, t.tlb.batch);
    for (size_t w = 0; w < t.window_open_at.size(); ++w) k.i((t.window_open_at[w] >= 0) | t.window_hit[w] << 1);
    if (with_iterations && t.id == cfg_.count_thread) k.i(int64_t(t.iterations));
  }
  for (const Vcpu& c : vcpus_) {
    k.i(c.irq_on), k.i(c.preempt), k.i(c.need_resched), k.i(c.stolen), k.i(c.steal_depth);
    for (int x : c.trace_pos) k.i(x);
    for (int x : c.steal_on) k.i(x);
    k.i(c.yielded);
    k.i(c.flush_deferred);
    k.i(int64_t(c.sync_flush_waiters.size()));
    for (int x : c.sync_flush_waiters) k.i(x);
    k.i(int64_t(c.handlers.size()));
    for (const Interrupt& h : c.handlers) k.i(int(h.kind)), k.i(h.arg), k.i(h.soft), k.d(h.remaining);
    k.i(int64_t(c.pending.size()));
    for (const Interrupt& h : c.pending) k.i(int(h.kind)), k.i(h.arg);
    for (int x : c.irq_pending) k.i(x);
    ids(k, c.pagevec);
    ids(k, c.activate_pvec);
    if (!pool) ids(k, c.pcp);
  }
  auto fields = [&](const Page& p) {
    std::string f;
    Key kf{f};
    kf.i(int(p.state)), kf.i(p.refcount), kf.i(p.mapcount);
    kf.i(p.locked | p.dirty << 1 | p.lru << 2 | p.anon << 3 | p.swapbacked << 4 | p.referenced << 5 | p.active << 6);
    kf.i(p.lock_owner);
    kf.i(int64_t(p.lock_waiters.size()));
    for (int w : p.lock_waiters) kf.i(w);
    return f;
  };
  if (referenced_free) referenced_free->clear();
  for (int p : order) {
    out += fields(pages_[size_t(p)]);
    if (referenced_free && pages_[size_t(p)].state == Page::State::Free) referenced_free->push_back(p);
  }
  // Pages nothing refers to and not free: leaked, or allocated and lost. Only their number and
  // contents can matter.
  std::vector<std::string> rest;
  for (size_t p = 0; p < pages_.size(); ++p)
    if (canon[p] < 0 && pages_[p].state != Page::State::Free) rest.push_back(fields(pages_[p]));
  std::sort(rest.begin(), rest.end());
  k.i(int64_t(rest.size()));
  for (const auto& r : rest) out += r;
  if (!pool) ids(k, free_pages_);
  for (const PteVal& p : ptes_) pte(k, p);
  for (const SpinLock& l : locks_) {
    k.i(l.owner), k.i(int64_t(l.waiters.size()));
    for (int w : l.waiters) k.i(w);
    k.i(l.steals);
  }
  k.i(int64_t(free_ipis_.size()));
  for (int x : free_ipis_) k.i(x);
  k.i(int64_t(ipis_.size()));
  for (size_t i = 0; i < ipis_.size(); ++i)
    if (std::find(free_ipis_.begin(), free_ipis_.end(), int(i)) == free_ipis_.end())
      k.i(ipis_[i].from_vcpu), k.i(ipis_[i].from_thread);
  for (uint8_t x : iteration_hits_) k.i(x);
}

void Machine::put_free_page_next(int p, int v) {
  for (Vcpu& c : vcpus_) c.pcp.erase(std::remove(c.pcp.begin(), c.pcp.end(), p), c.pcp.end());
  free_pages_.erase(std::remove(free_pages_.begin(), free_pages_.end(), p), free_pages_.end());
  vcpus_[size_t(v)].pcp.push_back(p);
}

int Machine::pages_in_use() const {
  return int(std::count_if(pages_.begin(), pages_.end(), [](const Page& p) { return p.state != Page::State::Free; }));
}

}  // namespace racewin

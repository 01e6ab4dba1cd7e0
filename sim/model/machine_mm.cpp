// Pages: references, the free path and its check, per-CPU free lists, LRU pagevecs.
#include <algorithm>
#include <functional>
#include <sstream>

#include "model/machine.hpp"

namespace racewin {

// ---- pages -----------------------------------------------------------------------------------

int64_t Machine::page_count(int p) const { return p < 0 ? 0 : pages_[size_t(p)].refcount; }
int64_t Machine::page_mapcount(int p) const { return p < 0 ? 0 : pages_[size_t(p)].mapcount; }
bool Machine::page_locked(int p) const { return p >= 0 && pages_[size_t(p)].locked; }

Page* Machine::live_page(int p, const char* op, Thread& t) {
  if (p < 0) throw ModelError(where(t) + ": " + op + " of no page");
  Page& pg = pages_[size_t(p)];
  if (pg.state != Page::State::Allocated) {
    hazard(t.vcpu, "use_after_free", where(t) + ": " + op + " on a freed page");
    return nullptr;
  }
  return &pg;
}

// A get_page() on a page whose count already reached 0 (it is being freed) still increments it,
// as the kernel does; check_free_page() then finds the count nonzero.
void Machine::get_page(int p, Thread& t) {
  if (Page* pg = live_page(p, "get_page", t)) ++pg->refcount;
}

// put_page_testzero(): the count drops now; the free itself (free_pages_prepare, then the check)
// runs as work of this thread after the step, so a concurrent try_get_page sees 0 meanwhile.
void Machine::put_page(int p, Thread& t) {
  Page* pg = live_page(p, "put_page", t);
  if (!pg) return;
  if (pg->refcount <= 0) {
    hazard(t.vcpu, "refcount_underflow", where(t));
    return;
  }
  if (--pg->refcount == 0) {
    if (t.freeing.empty()) t.free_pc = t.pc;
    t.freeing.push_back(p);
  }
}

// __page_cache_release, mem_cgroup_uncharge, free_unref_page up to free_pages_prepare(), for
// every page the step freed (release_pages drops all the counts first, then frees the list).
bool Machine::start_free(Thread& t) {
  double amount = 0;
  for (size_t i = 0; i < t.freeing.size(); ++i) amount += cost(t, free_cost_);
  t.in_free = 1;
  if (tracing()) emit(TraceEvent::Kind::FreeBegin, t.vcpu, t.id, -1, -1, int(t.freeing.size()));
  if (amount <= 0) return finish_free(t);
  free_work(t, amount);
  return true;
}

// The free's own work, a phase of it (t.in_free) rather than a step: no step effect follows it.
void Machine::free_work(Thread& t, double amount) {
  t.state = TState::Working;
  t.effect_pending = false;
  t.remaining = amount;
  if (on_top(t)) eng_.start_work(t.vcpu, amount);
}

bool Machine::finish_free(Thread& t) {
  if (t.in_free == 2) {
    t.in_free = 0;
    for (int p : t.dumping) dump_page(p);
    t.dumping.clear();
    return false;
  }
  t.in_free = 0;
  if (tracing()) emit(TraceEvent::Kind::FreeEnd, t.vcpu, t.id);
  drained_.swap(t.freeing);
  t.freeing.clear();
  double amount = 0;
  for (int p : drained_) {
    check_free_page(p, t);
    // free_pages_prepare() goes on past the check only for a good page (page_alloc.c:1205).
    if (pagealloc_cost_ >= 0 && pages_[size_t(p)].state == Page::State::Free) amount += cost(t, pagealloc_cost_);
  }
  for (size_t i = 0; i < t.dumping.size(); ++i) amount += cost(t, dump_cost_);
  if (amount <= 0) return false;
  t.in_free = 2;
  free_work(t, amount);
  return true;
}

// free_pages_prepare(): PAGE_FLAGS_CHECK_AT_FREE (of which only PG_locked can be set here: the
// free path clears PG_lru and PG_active and the mapping first), _mapcount and _refcount. With
// CONFIG_DEBUG_VM the check runs now; without it the flags are cleared unchecked and the counts
// are checked when the page leaves the pcp list for the buddy allocator.
// The flags a dump shows, in the kernel's order (include/trace/events/mmflags.h); uptodate is
// not modelled (every anonymous page here was filled by a copy, so a dump would show it).
std::string Machine::page_flags(const Page& pg) {
  std::string s;
  auto add = [&s](bool on, const char* n) {
    if (!on) return;
    if (!s.empty()) s += '|';
    s += n;
  };
  add(pg.locked, "locked"), add(pg.referenced, "referenced"), add(pg.dirty, "dirty"), add(pg.lru, "lru");
  add(pg.active, "active"), add(pg.swapbacked, "swapbacked");
  return s.empty() ? "none" : s;
}

// __dump_page() after bad_page()'s pr_alert: the flags as the report shows them.
void Machine::dump_page(int p) {
  BadPageReports& r = hazards_[0].reports;
  const Page& pg = pages_[size_t(p)];
  if (++r.dumped == 1) r.first_dump = page_flags(pg);
  r.locked_at_dump += pg.locked;
}

void Machine::check_free_page(int p, Thread& t) {
  Page& pg = pages_[size_t(p)];
  pg.lru = pg.active = false;  // __page_cache_release / release_pages
  if (cfg_.kernel.debug_vm) {
    std::string bad;
    if (pg.locked) bad += " PG_locked";
    if (pg.mapcount != 0) bad += " nonzero mapcount";
    if (pg.refcount != 0) bad += " nonzero _refcount";
    if (!bad.empty()) {
      BadPageReports& r = hazards_[0].reports;  // builtin_hazards() starts with bad_page_state
      (pg.dirty ? r.written : r.fresh) += 1;
      std::string flags = page_flags(pg);
      if (r.written + r.fresh == 1) r.first_check = flags;
      hazard(t.vcpu, "bad_page_state", where(t, t.free_pc) + ": page " + std::to_string(p) + " freed with" + bad +
                                            " (flags " + flags + ", a " + (pg.dirty ? "page a write() went through" : "fresh COW page") + ")");
      if (dump_cost_ >= 0) t.dumping.push_back(p);
      pg.state = Page::State::Leaked;  // bad_page() takes it out of circulation
      return;
    }
  }
  pcp_free(t.vcpu, p);
  if (tracing()) emit(TraceEvent::Kind::PageFreed, t.vcpu, t.id, p);
}

// free_unref_page_commit(): onto this CPU's list; once it holds pcp_high pages
// (`pcp->count >= pcp->high`, page_alloc.c v5.9), free_pcppages_bulk() returns pcp_batch of the
// coldest pages to the buddy allocator.
void Machine::pcp_free(int v, int p) {
  Page& pg = pages_[size_t(p)];
  if (cfg_.kernel.debug_vm) {
    pg = Page{};
  } else {  // page->flags &= ~PAGE_FLAGS_CHECK_AT_PREP: PG_locked among them, unchecked
    pg.locked = pg.dirty = pg.lru = pg.active = pg.referenced = false;
    pg.lock_owner = -1;
  }
  pg.state = Page::State::Free;
  auto& pcp = vcpus_[size_t(v)].pcp;
  pcp.push_back(p);
  if (int(pcp.size()) < cfg_.kernel.pcp_high) return;
  int n = std::min(cfg_.kernel.pcp_batch, int(pcp.size()));
  for (int i = 0; i < n; ++i) {
    int q = pcp[size_t(i)];
    Page& qg = pages_[size_t(q)];
    if (!cfg_.kernel.debug_vm && (qg.mapcount != 0 || qg.refcount != 0)) {  // bulkfree_pcp_prepare
      hazard(v, "bad_page_state", "page " + std::to_string(q) + " returned to the buddy allocator with a nonzero count");
      qg.state = Page::State::Leaked;
      continue;
    }
    free_pages_.push_back(q);
  }
  pcp.erase(pcp.begin(), pcp.begin() + n);
}

// The hottest page of this CPU's list; an empty list is refilled with pcp_batch pages from the
// buddy allocator (rmqueue_bulk).
int Machine::alloc_page(Thread& t) {
  auto& pcp = vcpus_[size_t(t.vcpu)].pcp;
  if (pcp.empty()) {
    for (int i = 0; i < cfg_.kernel.pcp_batch && !free_pages_.empty(); ++i) {
      pcp.insert(pcp.begin(), free_pages_.back());
      free_pages_.pop_back();
    }
  }
  if (pcp.empty())
    throw ModelError(where(t) + ": the page pool is exhausted (machine.pages is " +
                     std::to_string(pages_.size()) + "; pages leak when freed in a bad state, and per-CPU lists hold up to kernel.pcp_high each)");
  int p = pcp.back();
  pcp.pop_back();
  Page& pg = pages_[size_t(p)];
  pg = Page{};
  pg.state = Page::State::Allocated;
  pg.refcount = 1;
  pg.anon = pg.swapbacked = true;
  return p;
}



// mark_page_accessed() (mm/swap.c, v5.8 and v5.9): a second access of a referenced, inactive page
// activates it. A page on the LRU goes through this CPU's activate_page pagevec, which holds a
// reference until it is drained; one still in this CPU's lru_add pagevec is only marked active.
void Machine::mark_page_accessed(int p, Thread& t) {
  Page* pg = live_page(p, "mark_page_accessed", t);
  if (!pg) return;
  if (!pg->referenced) {
    pg->referenced = true;
    return;
  }
  if (pg->active) return;
  Vcpu& c = vcpus_[size_t(t.vcpu)];
  if (pg->lru) {  // activate_page()
    get_page(p, t);
    c.activate_pvec.push_back(p);
    if (int(c.activate_pvec.size()) >= cfg_.arch.lru_pagevec_size) drain_pagevec(c.activate_pvec, t, true);
  } else if (std::find(c.pagevec.begin(), c.pagevec.end(), p) != c.pagevec.end()) {
    pg->active = true;  // __lru_cache_activate_page()
  }
  pg->referenced = false;
}

// Drains one of this CPU's pagevecs, then release_pages() drops its references:
// __pagevec_lru_add() puts each page on the LRU; activate_page_drain() runs __activate_page().
void Machine::drain_pagevec(std::vector<int>& pvec, Thread& t, bool activate) {
  drained_.swap(pvec);
  pvec.clear();
  for (int q : drained_) {
    Page& pg = pages_[size_t(q)];
    if (pg.state == Page::State::Allocated) {
      if (!activate) pg.lru = true;   // __pagevec_lru_add_fn
      else if (pg.lru) pg.active = true;  // __activate_page
    }
    put_page(q, t);
  }
}

// The PTE a step acts on: an array element's index is read from the running thread's variables.
int Machine::pte_slot(const Step& s) const {
  if (!s.pte_index) return s.obj;
  Value v = s.pte_index->eval(*this);
  int64_t i = v.i;
  if (v.is_pte || i < 0 || i >= s.pte_count)
    throw ModelError(where(*cur_) + ": PTE index " + std::to_string(i) + " outside the array of " + std::to_string(s.pte_count));
  return s.obj + int(i);
}

// ptep_set_access_flags() writes only when the entry changes (pte_same() first, s390 and x86).
bool Machine::access_flags_change(const Step& s) const {
  const PteVal& e = ptes_[size_t(pte_slot(s))];
  return e.present && ((s.writable && !e.writable) || (s.dirty && !e.dirty) || (s.young && !e.young));
}

}  // namespace racewin

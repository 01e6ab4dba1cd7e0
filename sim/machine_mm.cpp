// Pages, the free check, spinlocks and deadlock detection.
#include <algorithm>
#include <functional>
#include <sstream>

#include "machine.hpp"

namespace racewin {

// ---- pages -----------------------------------------------------------------------------------

int64_t Machine::page_count(int p) const { return p < 0 ? 0 : pages_[size_t(p)].refcount; }
int64_t Machine::page_mapcount(int p) const { return p < 0 ? 0 : pages_[size_t(p)].mapcount; }
bool Machine::page_locked(int p) const { return p >= 0 && pages_[size_t(p)].locked; }

Page* Machine::live_page(int p, const char* op, Thread& t) {
  if (p < 0) throw ModelError(where(t) + ": " + op + " of no page");
  Page& pg = pages_[size_t(p)];
  if (pg.state != Page::State::Allocated) {
    hazard("use_after_free", where(t) + ": " + op + " on a freed page");
    return nullptr;
  }
  return &pg;
}

void Machine::get_page(int p, Thread& t) {
  if (Page* pg = live_page(p, "get_page", t)) ++pg->refcount;
}

void Machine::put_page(int p, Thread& t) {
  Page* pg = live_page(p, "put_page", t);
  if (!pg) return;
  if (pg->refcount <= 0) {
    hazard("refcount_underflow", where(t));
    return;
  }
  if (--pg->refcount == 0) free_page(p, t);
}

// free_pages_prepare(): the page must carry none of PAGE_FLAGS_CHECK_AT_FREE and no mappings.
void Machine::free_page(int p, Thread& t) {
  Page& pg = pages_[size_t(p)];
  pg.lru = false;  // __page_cache_release
  std::string bad;
  if (pg.locked) bad += " PG_locked";
  if (pg.mapcount != 0) bad += " nonzero mapcount";
  if (!bad.empty()) {
    hazard("bad_page_state", where(t) + ": page " + std::to_string(p) + " freed with" + bad);
    pg.state = Page::State::Leaked;  // bad_page() takes it out of circulation
    return;
  }
  pg = Page{};
  free_pages_.push_back(p);
  if (tracing()) emit(t.vcpu, "free page " + std::to_string(p));
}

int Machine::alloc_page(Thread& t) {
  if (free_pages_.empty())
    throw ModelError(where(t) + ": the page pool is exhausted (machine.pages is " +
                     std::to_string(pages_.size()) + "; pages leak when freed in a bad state)");
  int p = free_pages_.back();
  free_pages_.pop_back();
  Page& pg = pages_[size_t(p)];
  pg = Page{};
  pg.state = Page::State::Allocated;
  pg.refcount = 1;
  pg.anon = pg.swapbacked = true;
  return p;
}


// ---- locks -----------------------------------------------------------------------------------

void Machine::spin_unlock(Thread& t, int lock) {
  SpinLock& l = locks_[size_t(lock)];
  if (l.owner != t.id)
    throw ModelError(where(t) + ": spin_unlock of '" + cfg_.names.spinlocks[size_t(lock)] + "', which it does not hold");
  --vcpus_[size_t(t.vcpu)].preempt;
  double hold = eng_.now() - l.acquired_at;
  l.stats.hold_sum += hold;
  l.stats.hold_max = std::max(l.stats.hold_max, hold);
  l.owner = -1;
  if (l.waiters.empty()) return;
  Thread& w = threads_[size_t(l.waiters.front())];  // queued lock: the head waiter owns it now
  l.waiters.pop_front();
  l.owner = w.id;
  l.acquired_at = eng_.now();
  double waited = eng_.now() - w.wait_since;
  l.stats.wait_sum += waited;
  l.stats.wait_max = std::max(l.stats.wait_max, waited);
  wake(w, handoff_cost_->sample(w.cost_rng));
}

void Machine::check_deadlock(const Thread& start) {
  // Fast path, the common case: the lock's owner is running, so there is no cycle.
  int owner = start.state == TState::Spinning && start.waiting_lock >= 0 ? locks_[size_t(start.waiting_lock)].owner
              : start.state == TState::Sleeping && start.waiting_page >= 0 ? pages_[size_t(start.waiting_page)].lock_owner
                                                                            : -1;
  if (owner >= 0 && owner != start.id) {
    TState os = threads_[size_t(owner)].state;
    if (os == TState::Working || os == TState::Ready) return;
  }
  // Follow "waits for" edges; a cycle back to `start` is a deadlock.
  auto waits_for = [&](const Thread& t) -> std::vector<int> {
    if (t.state == TState::Spinning && t.waiting_lock >= 0) return {locks_[size_t(t.waiting_lock)].owner};
    if (t.state == TState::Sleeping && t.waiting_page >= 0) return {pages_[size_t(t.waiting_page)].lock_owner};
    if (t.state == TState::WaitingAcks) {  // a target with IRQs off that is itself stuck never acks
      std::vector<int> out;
      for (const auto& o : threads_)
        if (o.id != t.id && !vcpus_[size_t(o.vcpu)].irq_on && o.state != TState::Working && o.state != TState::Ready)
          out.push_back(o.id);
      return out;
    }
    return {};
  };
  std::vector<int> chain{start.id};
  std::vector<uint8_t> seen(threads_.size(), 0);
  std::function<bool(int)> dfs = [&](int id) -> bool {
    for (int n : waits_for(threads_[size_t(id)])) {
      if (n < 0) continue;
      if (n == start.id) return true;
      if (seen[size_t(n)]) continue;
      seen[size_t(n)] = 1;
      chain.push_back(n);
      if (dfs(n)) return true;
      chain.pop_back();
    }
    return false;
  };
  if (!dfs(start.id)) return;
  std::ostringstream o;
  o << "deadlock at t=" << format_duration(eng_.now()) << ":";
  for (int id : chain) {
    const Thread& t = threads_[size_t(id)];
    o << "\n  " << where(t);
    if (t.waiting_lock >= 0)
      o << " spins on '" << cfg_.names.spinlocks[size_t(t.waiting_lock)] << "' held by "
        << threads_[size_t(locks_[size_t(t.waiting_lock)].owner)].spec->name;
    else if (t.waiting_page >= 0)
      o << " sleeps on PG_locked of page " << t.waiting_page;
    else if (t.state == TState::WaitingAcks)
      o << " waits for IPI acks from vCPUs with IRQs off";
  }
  throw DeadlockError(o.str());
}

}  // namespace racewin

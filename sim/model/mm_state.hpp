#pragma once
// Memory-management state the paths act on: pages, PTEs, spinlocks, the mmu_gather.
#include <cstdint>
#include <deque>
#include <vector>

#include "base/units.hpp"
#include "base/value.hpp"

namespace racewin {

struct Page {
  enum class State : uint8_t { Free, Allocated, Leaked };  // Leaked: rejected by the free check
  State state = State::Free;
  int refcount = 0;
  int mapcount = 0;
  bool locked = false;  // PG_locked
  bool dirty = false, lru = false, anon = false, swapbacked = false;
  bool referenced = false, active = false;  // PG_referenced, PG_active (mark_page_accessed)
  int lock_owner = -1;            // thread, for reports only
  std::vector<int> lock_waiters;  // threads sleeping in lock_page(), first come first
};

struct SpinLockStats {
  uint64_t acquisitions = 0, contended = 0;
  double hold_sum = 0, hold_max = 0, wait_sum = 0, wait_max = 0;
};

struct SpinLock {
  int owner = -1;          // thread
  std::vector<int> waiters;  // in order of arrival (few: a vector copies cheaply)
  int steals = 0;           // queued model: free-lock steals past the waiters since the head last won
  Time acquired_at = 0;
  SpinLockStats stats;
};

struct MmuGather {
  bool pending = false;     // a range was recorded: a flush is due
  std::vector<int> batch;   // pages awaiting free after the flush
};

}  // namespace racewin

#include "engines/native_engine.hpp"

#include <cmath>

namespace racewin {

// Work completions live in one slot per vCPU (a vCPU runs one thing at a time), indexed by a
// tournament tree; timers in a heap.
// At equal times, work completions come first, lowest vCPU first; then timers in the order set.

NativeEngine::NativeEngine(int vcpus) {
  while (leaves_ < size_t(std::max(vcpus, 1))) leaves_ *= 2;
  work_.resize(leaves_);
  tree_.resize(2 * leaves_);
  for (size_t i = 0; i < leaves_; ++i) tree_[leaves_ + i] = int(i);
  for (size_t i = leaves_ - 1; i >= 1; --i) tree_[i] = first_of(tree_[2 * i], tree_[2 * i + 1]);
}

void NativeEngine::settle(Work& w) {
  if (w.active && !w.stolen && std::isfinite(w.remaining)) w.remaining = std::max(0.0, w.remaining - (now_ - w.since));
  w.since = now_;
}

void NativeEngine::update_done(int v) {
  Work& w = work_[size_t(v)];
  Time old = w.done_at;
  w.done_at = (w.active && !w.stolen && std::isfinite(w.remaining)) ? now_ + w.remaining : kForever;
  if (w.done_at == old) return;
  // Up the tree until nothing changes: a later v matters only where it was the winner, an
  // earlier one only where it wins now.
  const bool later = w.done_at > old;
  for (size_t i = (leaves_ + size_t(v)) / 2; i >= 1; i /= 2) {
    if (later && tree_[i] != v) break;
    int win = first_of(tree_[2 * i], tree_[2 * i + 1]);
    if (!later && win != v) break;
    tree_[i] = win;
  }
}

void NativeEngine::start_work(int v, double amount) {
  Work& w = work_[size_t(v)];
  w.active = true;
  w.remaining = amount;
  w.since = now_;
  update_done(v);
}

double NativeEngine::stop_work(int v) {
  Work& w = work_[size_t(v)];
  settle(w);
  w.active = false;
  update_done(v);
  return w.remaining;
}

void NativeEngine::set_stolen(int v, bool stolen) {
  Work& w = work_[size_t(v)];
  settle(w);
  w.stolen = stolen;
  update_done(v);
}

void NativeEngine::schedule(Time at, const Timer& t) { timers_.push({at, seq_++, t}); }

static_assert(kCheckpointEvents - 1 == 0xffff, "the checkpoint mask below");

bool NativeEngine::step(Machine& m, Time until) {
  int v_next = tree_[1];
  Time t_work = work_[size_t(v_next)].done_at;
  Time t_timer = timers_.empty() ? kForever : timers_.top().at;
  Time next = std::min(t_work, t_timer);
  if (next == kForever) return false;
  if (until > 0 && next > until) {
    now_ = until;
    return false;
  }
  now_ = next;
  if (t_work <= t_timer) {
    Work& w = work_[size_t(v_next)];
    w.active = false;
    w.remaining = 0;
    update_done(v_next);
    m.on_work_done(v_next);
  } else {
    Timer t = timers_.top().timer;
    timers_.pop();
    m.on_timer(t);
  }
  return true;
}

void NativeEngine::run(Machine& m, Time until, RunControl& control) {
  m.start();
  uint64_t n = 0;
  while (!m.finished() && step(m, until)) {
    if ((++n & 0xffff) == 0) {  // a checkpoint: off the hot path
      m.check_progress();
      if (control.progress) control.progress(now_);
      if (control.should_stop && control.should_stop(m)) {
        control.stopped = true;
        break;
      }
      if (control.stop_requested()) {
        control.interrupted = true;
        break;
      }
    }
  }
}

}  // namespace racewin

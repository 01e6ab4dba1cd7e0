#include "native_engine.hpp"

#include <cmath>

namespace racewin {

// Work completions live in one slot per vCPU (a vCPU runs one thing at a time), timers in a heap.
// At equal times, work completions come first, lowest vCPU first; then timers in the order set.

NativeEngine::NativeEngine(int vcpus) : work_(size_t(vcpus)) {}

void NativeEngine::settle(Work& w) {
  if (w.active && !w.stolen && std::isfinite(w.remaining)) w.remaining = std::max(0.0, w.remaining - (now_ - w.since));
  w.since = now_;
}

void NativeEngine::update_done(Work& w) {
  w.done_at = (w.active && !w.stolen && std::isfinite(w.remaining)) ? now_ + w.remaining : kForever;
}

void NativeEngine::start_work(int v, double amount) {
  Work& w = work_[size_t(v)];
  w.active = true;
  w.remaining = amount;
  w.since = now_;
  update_done(w);
}

double NativeEngine::stop_work(int v) {
  Work& w = work_[size_t(v)];
  settle(w);
  w.active = false;
  update_done(w);
  return w.remaining;
}

void NativeEngine::set_stolen(int v, bool stolen) {
  Work& w = work_[size_t(v)];
  settle(w);
  w.stolen = stolen;
  update_done(w);
}

void NativeEngine::schedule(Time at, const Timer& t) { timers_.push({at, seq_++, t}); }

static_assert(kCheckpointEvents - 1 == 0xffff, "the checkpoint mask below");

void NativeEngine::run(Machine& m, Time until, RunControl& control) {
  m.start();
  uint64_t n = 0;
  const int nv = int(work_.size());
  while (!m.finished()) {
    int v_next = -1;
    Time t_work = kForever;
    for (int v = 0; v < nv; ++v)
      if (work_[size_t(v)].done_at < t_work) t_work = work_[size_t(v)].done_at, v_next = v;
    Time t_timer = timers_.empty() ? kForever : timers_.top().at;
    Time next = std::min(t_work, t_timer);
    if (next == kForever) break;
    if (until > 0 && next > until) {
      now_ = until;
      break;
    }
    now_ = next;
    if (t_work <= t_timer) {
      Work& w = work_[size_t(v_next)];
      w.active = false;
      w.remaining = 0;
      w.done_at = kForever;
      m.on_work_done(v_next);
    } else {
      Timer t = timers_.top().timer;
      timers_.pop();
      m.on_timer(t);
    }
    if ((++n & 0xffff) == 0) {  // a checkpoint: off the hot path
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

#include "native_engine.hpp"

#include <cmath>

namespace racewin {

constexpr uint8_t kWorkDone = 255;

NativeEngine::NativeEngine(int vcpus) : work_(size_t(vcpus)) {}

void NativeEngine::settle(Work& w) {
  if (w.active && !w.stolen && std::isfinite(w.remaining)) w.remaining = std::max(0.0, w.remaining - (now_ - w.since));
  w.since = now_;
}

void NativeEngine::push_completion(int v) {
  Work& w = work_[size_t(v)];
  if (!w.active || w.stolen || !std::isfinite(w.remaining)) return;
  queue_.push({now_ + w.remaining, seq_++, Timer{Timer::Kind(kWorkDone), v, 0}, w.version});
}

void NativeEngine::start_work(int v, double amount) {
  Work& w = work_[size_t(v)];
  w.active = true;
  w.remaining = amount;
  w.since = now_;
  ++w.version;
  push_completion(v);
}

double NativeEngine::stop_work(int v) {
  Work& w = work_[size_t(v)];
  settle(w);
  w.active = false;
  ++w.version;
  return w.remaining;
}

void NativeEngine::set_stolen(int v, bool stolen) {
  Work& w = work_[size_t(v)];
  settle(w);
  w.stolen = stolen;
  ++w.version;
  push_completion(v);
}

void NativeEngine::schedule(Time at, const Timer& t) { queue_.push({at, seq_++, t, 0}); }

void NativeEngine::run(Machine& m, Time until, RunControl& control) {
  m.start();
  uint64_t n = 0;
  while (!m.finished() && !queue_.empty()) {
    Event e = queue_.top();
    if (until > 0 && e.at > until) {
      now_ = until;
      break;
    }
    queue_.pop();
    if (uint8_t(e.timer.kind) == kWorkDone) {
      Work& w = work_[size_t(e.timer.vcpu)];
      if (e.version != w.version || !w.active) continue;
      now_ = e.at;
      w.active = false;
      w.remaining = 0;
      m.on_work_done(e.timer.vcpu);
    } else {
      now_ = e.at;
      m.on_timer(e.timer);
    }
    if ((++n & 0xffff) == 0) {
      if (control.progress) control.progress(now_);
      if (control.stop_requested()) {
        control.interrupted = true;
        break;
      }
    }
  }
}

}  // namespace racewin

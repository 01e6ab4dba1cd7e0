#pragma once
// The native engine: a binary-heap event loop driving the model at full speed.
#include <queue>
#include <vector>

#include "base/run_control.hpp"
#include "model/engine.hpp"
#include "model/machine.hpp"

namespace racewin {

class NativeEngine final : public EngineOps {
 public:
  explicit NativeEngine(int vcpus);
  // Runs until the machine finishes, `until` is reached, or `control` asks to stop (a signal, or
  // should_stop at a checkpoint).
  void run(Machine& m, Time until, RunControl& control);
  // One event: false when nothing is left to happen, or the next event is past `until` (> 0),
  // which then becomes the time. Drivers that branch runs (rare-event forcing) step a copy.
  bool step(Machine& m, Time until = 0);

  Time now() const override { return now_; }
  void start_work(int vcpu, double amount) override;
  double stop_work(int vcpu) override;
  void set_stolen(int vcpu, bool stolen) override;
  void schedule(Time at, const Timer& timer) override;

 private:
  struct Work {
    bool active = false, stolen = false;
    double remaining = 0;
    Time since = 0;
    Time done_at = kForever;  // when it completes, if nothing changes
  };
  struct Event {
    Time at;
    uint64_t seq;
    Timer timer;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void settle(Work& w);
  void update_done(int v);
  // Work completions in a tournament tree over the vCPUs: each inner node holds the vCPU whose
  // work completes first below it, (done_at, vCPU) ordered, so the next is at the root and a change
  // of one vCPU's costs log2(vCPUs) branch-free steps (a scan of every vCPU did not scale).
  int first_of(int a, int b) const {
    Time x = work_[size_t(a)].done_at, y = work_[size_t(b)].done_at;
    return (y < x || (y == x && b < a)) ? b : a;
  }

  Time now_ = 0;
  uint64_t seq_ = 0;
  std::vector<Work> work_;  // plus padding vCPUs that never run, up to a power of two
  size_t leaves_ = 1;
  std::vector<int> tree_;   // tree_[1] is the root; leaf of vCPU v: tree_[leaves_ + v]
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> timers_;
};

}  // namespace racewin

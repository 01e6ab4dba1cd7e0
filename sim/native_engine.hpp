#pragma once
// The native engine: a binary-heap event loop driving the model at full speed.
#include <queue>
#include <vector>

#include "engine.hpp"
#include "machine.hpp"
#include "run_control.hpp"

namespace racewin {

class NativeEngine final : public EngineOps {
 public:
  explicit NativeEngine(int vcpus);
  // Runs until the machine finishes, `until` is reached, or `control` asks to stop (a signal, or
  // should_stop at a checkpoint).
  void run(Machine& m, Time until, RunControl& control);

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
  void update_done(Work& w);

  Time now_ = 0;
  uint64_t seq_ = 0;
  std::vector<Work> work_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> timers_;
};

}  // namespace racewin

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
  // Runs until the machine finishes, `until` is reached, or `control` asks to stop.
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
    uint32_t version = 0;
  };
  struct Event {
    Time at;
    uint64_t seq;
    Timer timer;        // kind == 255: a work completion
    uint32_t version;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void settle(Work& w);
  void push_completion(int vcpu);

  Time now_ = 0;
  uint64_t seq_ = 0;
  std::vector<Work> work_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
};

}  // namespace racewin

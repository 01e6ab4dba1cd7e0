#pragma once
// The SimGrid engine, the reference: vCPUs are SimGrid hosts, timed work is an Exec on its host,
// steal drops the host to a near-zero speed pstate. One SimGrid "second" is one nanosecond.
#include <simgrid/s4u.hpp>

#include <queue>
#include <string>
#include <vector>

#include "engine.hpp"
#include "machine.hpp"
#include "run_control.hpp"

namespace racewin {

class SimGridEngine final : public EngineOps {
 public:
  // `paje_trace`: write a Paje trace of this run there (only the first engine of a process can).
  SimGridEngine(int vcpus, const std::string& paje_trace = {});
  void run(Machine& m, Time until, RunControl& control);

  Time now() const override;
  void start_work(int vcpu, double amount) override;
  double stop_work(int vcpu) override;
  void set_stolen(int vcpu, bool stolen) override;
  void schedule(Time at, const Timer& timer) override;

 private:
  struct Pending {
    Time at;
    uint64_t seq;
    Timer timer;
    bool operator>(const Pending& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void drive(Machine& m, Time until, RunControl& control);

  std::vector<simgrid::s4u::Host*> hosts_;
  std::vector<simgrid::s4u::ExecPtr> execs_;
  double t0_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> timers_;
};

}  // namespace racewin

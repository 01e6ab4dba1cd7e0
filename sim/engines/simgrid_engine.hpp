#pragma once
// The SimGrid engine, the reference: vCPUs are SimGrid hosts, timed work is an Exec on its host,
// spinning is an endless Exec, steal drops the host to a near-zero speed pstate. Everything in
// flight (IPIs, acks, steal and interrupt arrivals) is an Exec on a "timers" host that is never
// stolen and has a core for each. One SimGrid "second" is one nanosecond.
#include <simgrid/s4u.hpp>

#include <string>
#include <vector>

#include "base/run_control.hpp"
#include "model/engine.hpp"
#include "model/machine.hpp"

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
    simgrid::s4u::ExecPtr exec;
    Time at;
    uint64_t seq;
    Timer timer;
  };
  void drive(Machine& m, Time until, RunControl& control);
  bool step_due(Machine& m);  // handles one thing due now, in the native engine's order

  std::vector<simgrid::s4u::Host*> hosts_;
  simgrid::s4u::Host* timer_host_ = nullptr;
  std::vector<simgrid::s4u::ExecPtr> execs_;
  // A zero-amount Exec completes at once even on a host of speed ~0: zero work given to a stolen
  // vCPU waits here for the vCPU to run again, as in the native engine.
  std::vector<uint8_t> stolen_, zero_deferred_;
  double t0_ = 0;
  uint64_t seq_ = 0;
  std::vector<Pending> timers_;
};

}  // namespace racewin

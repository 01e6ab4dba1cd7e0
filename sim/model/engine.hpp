#pragma once
// What the model asks of an engine. The model is passive: it reacts to work completions and
// timers, and tells the engine which work each vCPU now runs and when timers are due.
#include <cstdint>
#include <limits>

#include "base/units.hpp"

namespace racewin {

constexpr double kForever = std::numeric_limits<double>::infinity();  // spinning: burns the vCPU

struct Timer {
  // YieldEnd: a yielder's wait after a directed yield ends (machine_lock.cpp); ForceCap: forcing's
  // cap (machine_force.cpp); HvFlushArrive, HvFlushEnd: a remote flush by hypercall reaches its
  // target, and the host lets the target go (machine_irq.cpp).
  enum Kind : uint8_t { StealStart, StealEnd, IrqArrive, IpiArrive, AckArrive, ForceCap, YieldEnd, HvFlushArrive, HvFlushEnd };
  Kind kind;
  int vcpu;
  int arg;  // irq source, ipi id, steal source; AckArrive, HvFlush*: the waiting thread
  int gen = 0;  // StealEnd, YieldEnd: which steal it ends (a directed yield may end one early)
};

class EngineOps {
 public:
  virtual ~EngineOps() = default;
  virtual Time now() const = 0;
  // vCPU `vcpu` starts `amount` ns of work (kForever to spin); at most one work item per vCPU.
  virtual void start_work(int vcpu, double amount) = 0;
  // Stops the vCPU's work and returns what was left of it.
  virtual double stop_work(int vcpu) = 0;
  // A stolen vCPU makes no progress until it is given back.
  virtual void set_stolen(int vcpu, bool stolen) = 0;
  virtual void schedule(Time at, const Timer& timer) = 0;
};

}  // namespace racewin

#pragma once
// Shared between a run and whoever watches it: progress, a request to stop (Ctrl-C), and a
// stopping rule looked at on deterministic checkpoints.
#include <atomic>
#include <cstdint>
#include <functional>

#include "base/units.hpp"

namespace racewin {

class Machine;

// Engines look at `should_stop` after every kCheckpointEvents events they handled (each is one
// model event, Machine::events()), so a rule's stopping point depends on the run only.
constexpr uint64_t kCheckpointEvents = uint64_t(1) << 16;

struct RunControl {
  std::atomic<bool>* stop = nullptr;             // set by a signal handler
  std::function<void(Time now)> progress;        // called now and then with the simulated time
  std::function<bool(const Machine&)> should_stop;  // at each checkpoint: true ends the run there
  bool interrupted = false;
  bool stopped = false;  // should_stop ended the run
  bool stop_requested() const { return stop && stop->load(std::memory_order_relaxed); }
};

}  // namespace racewin

#pragma once
// Shared between a run and whoever watches it: progress and a request to stop (Ctrl-C).
#include <atomic>
#include <functional>

#include "units.hpp"

namespace racewin {

struct RunControl {
  std::atomic<bool>* stop = nullptr;             // set by a signal handler
  std::function<void(Time now)> progress;        // called now and then with the simulated time
  bool interrupted = false;
  bool stop_requested() const { return stop && stop->load(std::memory_order_relaxed); }
};

}  // namespace racewin

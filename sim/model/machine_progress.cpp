// Livelock detection: a run whose events no longer advance the clock. A step costing 0 in a loop is
// refused when it runs (run_thread); one costing 1e-10 ns is not, and a --time run of it would go on
// for ever, so the engines look at the clock on their checkpoints.
#include <fmt/format.h>

#include "model/machine.hpp"

namespace racewin {

void Machine::check_progress() {
  if (events_ - progress_events_ < kLivelockEvents) return;
  const Time now = eng_.now();
  if (now - progress_time_ < kLivelockNs) {
    std::string msg = fmt::format("livelock at t={}: {} events advanced the clock by {:.3g} ns (less than {} ns): a duration "
                                  "too small for the clock (a cost near 0?) keeps the run from making progress; the threads:",
                                  format_duration(now), events_ - progress_events_, now - progress_time_, kLivelockNs);
    for (const auto& t : threads_) {
      uint64_t before = t.id < int(progress_iterations_.size()) ? progress_iterations_[size_t(t.id)] : 0;
      msg += fmt::format("\n  {}: {} iterations in that time", where(t), t.iterations - before);
    }
    throw LivelockError(msg);
  }
  progress_events_ = events_;
  progress_time_ = now;
  progress_iterations_.clear();
  for (const auto& t : threads_) progress_iterations_.push_back(t.iterations);
}

}  // namespace racewin

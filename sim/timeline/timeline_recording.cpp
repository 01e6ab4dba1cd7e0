// What run_case keeps of a run for --timeline and --first-hit: an observer of the machine.
#include "model/machine.hpp"
#include "rare/rare_event.hpp"
#include "timeline/first_hit.hpp"

namespace racewin {

TimelineRecording::TimelineRecording(const CaseConfig& cfg, const TimelineRequest& req) : req_(req) {
  if (!req.first_hit) return;
  std::vector<std::string> names = builtin_hazards();
  for (const auto& w : cfg.names.windows) names.push_back("window:" + w);
  hits_ = std::make_unique<FirstHitRecorder>(cfg.vcpus, std::move(names));
}
TimelineRecording::~TimelineRecording() = default;

void TimelineRecording::attach(Machine& m, ForcingDriver* forced) {
  if (forced && hits_) forced->set_first_hits(hits_.get());
  m.on_trace = [this](const TraceEvent& e) {
    if (req_.full) {
      if (full_.events.size() < req_.max_events) full_.events.emplace_back(e, seq_++);
      else full_.truncated = true;
    }
    if (hits_) hits_->record(e);
  };
}

void TimelineRecording::finish(Time end, std::optional<RunTimeline>& timeline, std::vector<FirstHit>& first_hits) {
  if (req_.full) {
    full_.end = full_.truncated ? full_.events.back().ev.time : end;
    timeline = std::move(full_);
  }
  if (hits_) {
    hits_->finish(end);
    first_hits = hits_->take();
  }
}

}  // namespace racewin

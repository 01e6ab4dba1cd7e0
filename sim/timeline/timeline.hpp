#pragma once
// Timelines of a run from the model's structured events (docs/timeline.md): every event of a short
// run (--timeline), or the interleaving that led to each hazard's first hit (--first-hit), written
// as Chrome/Perfetto trace-event JSON and as ftrace-like text.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "model/trace_event.hpp"

namespace racewin {

class Machine;
class ForcingDriver;

// An event kept past its call: its detail copied, and its place in the run.
struct Recorded {
  TraceEvent ev;  // ev.detail is not kept (see detail)
  uint64_t seq = 0;
  std::string detail;
  Recorded() = default;
  Recorded(const TraceEvent& e, uint64_t s) : ev(e), seq(s) {
    if (e.detail) detail = *e.detail;
    ev.detail = nullptr;
  }
};

// What a timeline covers. `excerpt`: the last events of each vCPU only, so spans may have begun
// before its first one; they are drawn from there.
struct TimelineMeta {
  std::string title;   // "timeline", "first hit of bad_page_state"
  Time end = 0;        // spans still open then are closed there
  bool excerpt = false;
  nlohmann::json other = nlohmann::json::object();  // into otherData
};

// Trace Event Format: {"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}}.
nlohmann::json timeline_json(const CaseConfig& cfg, const std::vector<Recorded>& events, const TimelineMeta& meta);
// The file: one trace event per line, for diffs and grep.
std::string timeline_dump(const nlohmann::json& timeline);
// One line per event: "<time us>  cpuN  <thread>  <what>", after a few "# " header lines.
std::string timeline_text(const CaseConfig& cfg, const std::vector<Recorded>& events, const TimelineMeta& meta);

// Every event of a run (--timeline), up to a cap.
struct RunTimeline {
  std::vector<Recorded> events;
  Time end = 0;
  bool truncated = false;  // the cap was reached: the timeline ends at its last event
};

// The interleaving before (and just after) a hazard's first hit, in the main run or a forced branch.
struct FirstHit {
  size_t hazard = 0;  // index into Machine::hazards()
  std::string name, detail;
  Time time = 0;
  bool branch = false;  // found in a forced branch (a copy of the run): it counts with `weight`
  double weight = 1;
  int replication = 0;
  std::vector<Recorded> events;
  Time end = 0;
  TimelineMeta meta(const CaseConfig& cfg) const;
};

struct TimelineRequest {
  bool full = false;       // keep every event (a short run)
  bool first_hit = false;  // keep each vCPU's recent events and the first hit of each hazard
  size_t max_events = size_t(1) << 20;  // about 100 MB
};

class FirstHitRecorder;

// What run_case keeps for a request: it observes the machine (and the forcing driver's branches).
class TimelineRecording {
 public:
  TimelineRecording(const CaseConfig& cfg, const TimelineRequest& req);
  ~TimelineRecording();
  void attach(Machine& m, ForcingDriver* forced);
  // The run is over at `end`: pending first hits are completed with what they have.
  void finish(Time end, std::optional<RunTimeline>& timeline, std::vector<FirstHit>& first_hits);

 private:
  TimelineRequest req_;
  RunTimeline full_;
  uint64_t seq_ = 0;
  std::unique_ptr<FirstHitRecorder> hits_;
};

}  // namespace racewin

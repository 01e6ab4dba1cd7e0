#include "calibrate/model_probe.hpp"

#include <algorithm>

namespace racewin::calibrate {

std::vector<GapRecord> gaps_from_timeline(const RunTimeline& t, int vcpus, double threshold_ns) {
  std::vector<GapRecord> out(size_t(std::max(vcpus, 0)));
  std::vector<int> handlers(out.size(), 0);
  std::vector<bool> stolen(out.size(), false);
  std::vector<double> since(out.size(), -1);
  for (size_t v = 0; v < out.size(); ++v) out[v].cpu = int(v), out[v].spun_ns = t.end;
  for (const auto& r : t.events) {
    const TraceEvent& e = r.ev;
    if (e.vcpu < 0 || size_t(e.vcpu) >= out.size()) continue;
    size_t v = size_t(e.vcpu);
    bool off = handlers[v] > 0 || stolen[v];
    switch (e.kind) {
      case TraceEvent::Kind::HandlerBegin: ++handlers[v]; break;
      case TraceEvent::Kind::HandlerEnd: handlers[v] = std::max(handlers[v] - 1, 0); break;
      case TraceEvent::Kind::StealBegin: stolen[v] = true; break;
      case TraceEvent::Kind::StealEnd: stolen[v] = false; break;
      default: continue;
    }
    bool now_off = handlers[v] > 0 || stolen[v];
    if (!off && now_off) {
      since[v] = e.time;
    } else if (off && !now_off && since[v] >= 0) {
      double len = e.time - since[v];
      if (len > threshold_ns) out[v].start.push_back(since[v]), out[v].len.push_back(len);
      since[v] = -1;
    }
  }
  return out;
}

}  // namespace racewin::calibrate

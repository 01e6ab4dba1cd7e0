// Trace Event Format from model events: one process per vCPU, one track (tid) per concern, so
// that spans nest on every track by construction (docs/timeline.md).
#include <algorithm>
#include <map>

#include "model/machine.hpp"
#include "timeline/timeline.hpp"

namespace racewin {
namespace {

using nlohmann::json;
using K = TraceEvent::Kind;

double us(Time t) { return t / 1000.0; }

// Track k of vCPU v: tid (v+1)*1000 + k.
enum : int { kSteps = 0, kIrq = 1, kSteal = 2, kIrqOff = 3, kLock = 100, kWindow = 500 };

class Builder {
 public:
  Builder(const CaseConfig& cfg, bool excerpt) : cfg_(cfg), excerpt_(excerpt) {
    for (const auto& s : interrupt_sources(cfg)) irq_names_.push_back(s.name);
    hazard_names_ = builtin_hazards();
    for (const auto& w : cfg.names.windows) hazard_names_.push_back("window:" + w);
  }

  void add(const TraceEvent& e, const std::string& detail) {
    if (e.vcpu < 0) return;
    const int v = e.vcpu;
    if (!first_.count(v)) first_[v] = e.time;
    const Time t = e.time;
    switch (e.kind) {
      case K::StepBegin: seq_span(v, t, step(e).text, 's'); break;
      case K::StepDone: step_done(e); break;
      case K::FreeBegin:
        seq_span(v, t, "free_pages_prepare", 'f', {{"pages", e.id}});
        break;
      case K::FreeEnd: end_if(tid(v, kSteps), t, 'f'); break;
      case K::PageFreed: instant(tid(v, kSteps), t, "free page " + std::to_string(e.obj)); break;
      case K::SpinWait:
        seq_span(v, t, "spin on " + lock_name(e.obj), 'w');
        begin(tid(v, kLock + e.obj), t, "spin", 'w', "lock");
        break;
      case K::LockTaken:
        if (e.id) end_if(tid(v, kSteps), t, 'w');
        end_if(tid(v, kLock + e.obj), t, 'w');
        begin(tid(v, kLock + e.obj), t, "hold", 'h', "lock");
        break;
      case K::LockReleased: end(tid(v, kLock + e.obj), t, "hold", "lock"); break;
      case K::Sleep: seq_span(v, t, "sleep on PG_locked of page " + std::to_string(e.obj), 'w'); break;
      case K::WaitAcks: seq_span(v, t, "wait for " + std::to_string(e.id) + " TLB-flush ack(s)", 'w'); break;
      case K::Woken: end_if(tid(v, kSteps), t, 'w'); break;
      case K::AllAcks: instant(tid(v, kSteps), t, "all acks"); break;
      case K::Yield: instant(tid(v, kLock + e.obj), t, "yield to cpu" + std::to_string(e.peer)); break;
      case K::Halt: instant(tid(v, kLock + e.obj), t, "halt (pv_wait)"); break;
      case K::Kick: instant(tid(v, kLock + e.obj), t, "kicked (pv_kick)"); break;
      case K::IpiSend: sends_[e.id] = {t, tid(v, kSteps)}; break;
      case K::IpiArrive: instant(tid(v, kIrq), t, "ipi arrives"); break;
      case K::FlushDeferred: instant(tid(v, kIrq), t, "TLB flush deferred to VM entry"); break;
      case K::DeferredFlush: instant(tid(v, kIrq), t, "deferred TLB flush"); break;
      case K::RemoteFlush: instant(tid(v, kSteps), t, "remote flush of cpu" + std::to_string(e.peer) + " (hypercall)"); break;
      case K::HandlerBegin: handler_begin(e); break;
      case K::Softirq:
        end(tid(v, kIrq), t, "irq " + irq_names_[size_t(e.obj)], "irq");
        begin(tid(v, kIrq), t, "softirq " + irq_names_[size_t(e.obj)], 'i', "irq");
        break;
      case K::HandlerEnd: end(tid(v, kIrq), t, "handler", "irq"); break;
      case K::StealBegin: begin(tid(v, kSteal), t, "stolen", 'x', "steal"); break;
      case K::TaskBegin: begin(tid(v, kIrq), t, "guest task (thread switched out)", 'i', "sched"); break;
      case K::TaskEnd: end(tid(v, kIrq), t, "guest task (thread switched out)", "sched"); break;
      case K::StealEnd: end(tid(v, kSteal), t, "stolen", "steal"); break;
      case K::Hazard:
        instant(tid(v, kSteps), t, "HAZARD " + hazard_names_[size_t(e.obj)], {{"detail", detail}}, "hazard");
        break;
    }
  }

  json finish(const TimelineMeta& meta) {
    json out = json::array();
    for (auto& [id, tr] : tracks_) {
      while (!tr.open.empty()) push_end(tr, meta.end);
      const int v = id / 1000 - 1;
      if (!named_.count(v)) {
        named_[v] = 1;
        std::string who;
        for (const auto& th : cfg_.threads)
          if (th.vcpu == v) who += (who.empty() ? " " : ", ") + th.name;
        out.push_back(meta_event("process_name", v + 1, 0, {{"name", "cpu" + std::to_string(v) + who}}));
        out.push_back(meta_event("process_sort_index", v + 1, 0, {{"sort_index", v}}));
      }
      out.push_back(meta_event("thread_name", v + 1, id, {{"name", tr.name}}));
      out.push_back(meta_event("thread_sort_index", v + 1, id, {{"sort_index", id}}));
    }
    for (auto& [id, tr] : tracks_)
      for (auto& e : tr.events) out.push_back(std::move(e));
    for (auto& f : flows_) out.push_back(std::move(f));
    json other = meta.other;
    other["case"] = cfg_.name;
    other["seed"] = cfg_.seed;
    other["title"] = meta.title;
    other["end_us"] = us(meta.end);
    other["excerpt"] = meta.excerpt;
    return {{"traceEvents", std::move(out)}, {"displayTimeUnit", "ns"}, {"otherData", std::move(other)}};
  }

 private:
  struct Open {
    std::string name;
    char kind;  // s step, f free, w wait, h lock hold, i handler, x steal, o irqs off, W window
  };
  struct Track {
    int id;
    std::string name;
    std::vector<json> events;
    std::vector<Open> open;
  };

  const Step& step(const TraceEvent& e) const { return cfg_.threads[size_t(e.thread)].path.steps[size_t(e.obj)]; }
  std::string lock_name(int l) const { return cfg_.names.spinlocks[size_t(l)]; }
  static int tid(int v, int k) { return (v + 1) * 1000 + k; }
  static json meta_event(const char* name, int pid, int tid, json args) {
    return {{"name", name}, {"ph", "M"}, {"pid", pid}, {"tid", tid}, {"args", std::move(args)}};
  }

  Track& track(int id) {
    auto it = tracks_.find(id);
    if (it != tracks_.end()) return it->second;
    const int v = id / 1000 - 1, k = id % 1000;
    std::string name = k == kSteps ? "steps" : k == kIrq ? "interrupts" : k == kSteal ? "steal" : k == kIrqOff ? "irqs off"
                       : k >= kWindow ? "window " + cfg_.names.windows[size_t(k - kWindow)]
                                      : "lock " + lock_name(k - kLock);
    if (k == kSteps)
      for (const auto& th : cfg_.threads)
        if (th.vcpu == v) name = th.name;
    return tracks_[id] = Track{id, name, {}, {}};
  }
  json event(const char* ph, int id, Time t) const { return {{"ph", ph}, {"pid", id / 1000}, {"tid", id}, {"ts", us(t)}}; }

  void begin(int id, Time t, const std::string& name, char kind, const char* cat, json args = {}) {
    Track& tr = track(id);
    json e = event("B", id, t);
    e["name"] = name, e["cat"] = cat;
    if (!args.is_null()) e["args"] = std::move(args);
    tr.events.push_back(std::move(e));
    tr.open.push_back({name, kind});
  }
  void push_end(Track& tr, Time t) {
    tr.events.push_back(event("E", tr.id, t));
    tr.open.pop_back();
  }
  // Ends the innermost span; in an excerpt one that is not open began before the first event.
  void end(int id, Time t, const std::string& name, const char* cat) {
    Track& tr = track(id);
    if (!tr.open.empty()) {
      tr.events.push_back(event("E", id, t));
      tr.open.pop_back();
      return;
    }
    if (!excerpt_) return;
    json b = event("B", id, first_[id / 1000 - 1]);
    b["name"] = name, b["cat"] = cat, b["args"] = {{"begun", "before the excerpt"}};
    tr.events.insert(tr.events.begin(), std::move(b));
    tr.events.push_back(event("E", id, t));
  }
  void end_if(int id, Time t, char kind) {
    Track& tr = track(id);
    if (!tr.open.empty() && tr.open.back().kind == kind) push_end(tr, t);
  }
  // The steps track holds one thing at a time: what begins ends what ran.
  void seq_span(int v, Time t, const std::string& name, char kind, json args = {}) {
    Track& tr = track(tid(v, kSteps));
    while (!tr.open.empty()) push_end(tr, t);
    begin(tid(v, kSteps), t, name, kind, kind == 'w' ? "wait" : kind == 'f' ? "free" : "step", std::move(args));
  }
  void instant(int id, Time t, const std::string& name, json args = {}, const char* cat = "event") {
    json e = event("i", id, t);
    e["name"] = name, e["cat"] = cat, e["s"] = "t";
    if (!args.is_null()) e["args"] = std::move(args);
    track(id).events.push_back(std::move(e));
  }

  void step_done(const TraceEvent& e) {
    const Step& s = step(e);
    const int v = e.vcpu, id = tid(v, kSteps);
    Track& tr = track(id);
    if (!tr.open.empty() && tr.open.back().kind == 's' && tr.open.back().name == s.text) push_end(tr, e.time);
    else instant(id, e.time, s.text, {}, "step");
    switch (s.op) {
      case Op::LocalIrqDisable:
        if (track(tid(v, kIrqOff)).open.empty()) begin(tid(v, kIrqOff), e.time, "irqs off", 'o', "irq");
        break;
      case Op::LocalIrqEnable: end(tid(v, kIrqOff), e.time, "irqs off", "irq"); break;
      case Op::WindowOpen: {
        const int w = tid(v, kWindow + s.obj);
        end_if(w, e.time, 'W');
        begin(w, e.time, cfg_.names.windows[size_t(s.obj)], 'W', "window");
        break;
      }
      case Op::WindowClose: end(tid(v, kWindow + s.obj), e.time, cfg_.names.windows[size_t(s.obj)], "window"); break;
      default: break;
    }
  }

  void handler_begin(const TraceEvent& e) {
    const int id = tid(e.vcpu, kIrq);
    begin(id, e.time, e.obj < 0 ? "ipi: flush_tlb_func" : "irq " + irq_names_[size_t(e.obj)], 'i', "irq");
    if (e.obj >= 0) return;
    auto it = sends_.find(e.id);
    if (it == sends_.end()) return;  // sent before the excerpt
    json s = event("s", it->second.tid, it->second.at), f = event("f", id, e.time);
    for (json* x : {&s, &f}) (*x)["name"] = "TLB-flush IPI", (*x)["cat"] = "ipi", (*x)["id"] = next_flow_;
    f["bp"] = "e";
    flows_.push_back(std::move(s)), flows_.push_back(std::move(f));
    ++next_flow_;
    sends_.erase(it);
  }

  const CaseConfig& cfg_;
  bool excerpt_;
  std::vector<std::string> irq_names_, hazard_names_;
  std::map<int, Track> tracks_;
  std::map<int, Time> first_;  // per vCPU: its first event
  std::map<int, uint8_t> named_;
  struct Send {
    Time at;
    int tid;
  };
  std::map<int, Send> sends_;  // by IPI slot: sent, not yet handled
  std::vector<json> flows_;
  int next_flow_ = 1;
};

}  // namespace

std::string timeline_dump(const json& timeline) {
  std::string out = "{\"traceEvents\": [";
  const json& events = timeline.at("traceEvents");
  for (size_t i = 0; i < events.size(); ++i) out += (i ? ",\n  " : "\n  ") + events[i].dump();
  out += "\n],\n\"displayTimeUnit\": " + timeline.at("displayTimeUnit").dump();
  out += ",\n\"otherData\": " + timeline.at("otherData").dump(2) + "\n}\n";
  return out;
}

json timeline_json(const CaseConfig& cfg, const std::vector<Recorded>& events, const TimelineMeta& meta) {
  Builder b(cfg, meta.excerpt);
  for (const auto& r : events) b.add(r.ev, r.detail);
  return b.finish(meta);
}

}  // namespace racewin

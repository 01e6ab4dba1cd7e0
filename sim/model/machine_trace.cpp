// Model events to the observers: structured as they are, and as the text tests and traces read.
#include "model/machine.hpp"

namespace racewin {

void Machine::emit(TraceEvent::Kind kind, int vcpu, int thread, int obj, int peer, int id, const std::string* detail) {
  on_trace(TraceEvent{eng_.now(), kind, vcpu, thread, obj, peer, id, detail});
}

// One observer slot keeps the test on hot paths to one load.
void Machine::observe_text(std::function<void(const ModelEvent&)> f) {
  on_trace = [this, f = std::move(f), prev = std::move(on_trace)](const TraceEvent& e) {
    if (prev) prev(e);
    std::string what = describe(e);
    if (!what.empty()) f({e.time, e.kind == TraceEvent::Kind::Hazard ? -1 : e.vcpu, std::move(what)});
  };
}

std::string Machine::describe(const TraceEvent& e) const {
  using K = TraceEvent::Kind;
  const std::string who = e.thread >= 0 ? threads_[size_t(e.thread)].spec->name : "";
  switch (e.kind) {
    case K::StepDone: return who + " " + threads_[size_t(e.thread)].spec->path.steps[size_t(e.obj)].text;
    case K::PageFreed: return "free page " + std::to_string(e.obj);
    case K::WaitAcks: return who + " waits for " + std::to_string(e.id) + " TLB-flush ack(s)";
    case K::AllAcks: return who + " has all acks";
    case K::Yield: return who + " yields to vCPU " + std::to_string(e.peer);
    case K::Halt: return who + " halts (pv_wait)";
    case K::Kick: return who + " is kicked";
    case K::IpiArrive: return "ipi arrives";
    case K::FlushDeferred: return "TLB flush deferred to the next VM entry";
    case K::DeferredFlush: return "deferred TLB flush";
    case K::RemoteFlush: return who + " asks the host to flush vCPU " + std::to_string(e.peer) + "'s TLB";
    case K::HandlerBegin: return e.obj < 0 ? "ipi handler" : "irq " + irq_sources_[size_t(e.obj)].name;
    case K::Softirq: return "softirq " + irq_sources_[size_t(e.obj)].name;
    case K::HandlerEnd: return "handler done";
    case K::StealBegin: return "steal begins";
    case K::StealEnd: return "steal ends";
    case K::TaskBegin: return who + " is switched out: the guest task runs";
    case K::TaskEnd: return "the guest task sleeps; " + who + " is switched back in";
    case K::Hazard: return "HAZARD " + hazards_[size_t(e.obj)].name + ": " + (e.detail ? *e.detail : "");
    case K::StepBegin: case K::FreeBegin: case K::FreeEnd: case K::SpinWait: case K::LockTaken:
    case K::LockReleased: case K::Sleep: case K::Woken: case K::IpiSend: break;
  }
  return {};  // timeline only: no text event
}

}  // namespace racewin

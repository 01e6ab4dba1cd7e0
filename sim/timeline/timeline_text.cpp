// The same events as ftrace-like text: one line per event, for terminals and diffs.
#include <fmt/format.h>

#include <map>

#include "model/machine.hpp"
#include "timeline/timeline.hpp"

namespace racewin {
namespace {

using K = TraceEvent::Kind;

// What the line says; empty: no line (the JSON shows it as the end of a span).
std::string what(const CaseConfig& cfg, const std::vector<std::string>& irqs, const std::vector<std::string>& hazards,
                 const TraceEvent& e, const std::string& detail, std::map<int, Time>& stolen_since) {
  auto cpu = [](int v) { return "cpu" + std::to_string(v); };
  auto lock = [&](int l) { return cfg.names.spinlocks[size_t(l)]; };
  switch (e.kind) {
    case K::StepBegin: case K::FreeEnd: case K::LockReleased: case K::Woken: return {};
    case K::StepDone: return cfg.threads[size_t(e.thread)].path.steps[size_t(e.obj)].text;
    case K::FreeBegin: return fmt::format("free_pages_prepare ({} page(s))", e.id);
    case K::PageFreed: return fmt::format("check_free_page: page {} onto the per-CPU free list", e.obj);
    case K::SpinWait: return fmt::format("spins on {} (held on {})", lock(e.obj), e.peer >= 0 ? cpu(e.peer) : "no CPU");
    case K::LockTaken: return e.id ? "takes " + lock(e.obj) + " after spinning" : "";
    case K::Sleep: return fmt::format("sleeps on PG_locked of page {}", e.obj);
    case K::WaitAcks: return fmt::format("waits for {} TLB-flush ack(s)", e.id);
    case K::AllAcks: return "has all acks";
    case K::Yield: return "yields to " + cpu(e.peer);
    case K::Halt: return "halts (pv_wait)";
    case K::Kick: return "is kicked (pv_kick)";
    case K::IpiSend: return "sends a TLB-flush IPI to " + cpu(e.peer);
    case K::IpiArrive: return "TLB-flush IPI from " + cpu(e.peer) + " arrives";
    case K::FlushDeferred: return "TLB flush deferred to the next VM entry";
    case K::DeferredFlush: return "deferred TLB flush at VM entry";
    case K::RemoteFlush: return "asks the host to flush the TLB of " + cpu(e.peer) + " (hypercall)";
    case K::HandlerBegin: return e.obj < 0 ? "IPI handler (flush_tlb_func) for " + cpu(e.peer) : "irq " + irqs[size_t(e.obj)];
    case K::Softirq: return "softirq " + irqs[size_t(e.obj)];
    case K::HandlerEnd: return "handler done";
    case K::StealBegin: stolen_since[e.vcpu] = e.time; return "steal begins";
    case K::StealEnd: {
      auto it = stolen_since.find(e.vcpu);
      return it == stolen_since.end() ? "steal ends" : fmt::format("steal ends (stolen {:.3f} us)", (e.time - it->second) / 1000);
    }
    case K::TaskBegin: return "switched out for the guest task (preemption point)";
    case K::TaskEnd: return "the guest task sleeps: switched back in";
    case K::Hazard: return "HAZARD " + hazards[size_t(e.obj)] + ": " + detail;
  }
  return {};
}

}  // namespace

std::string timeline_text(const CaseConfig& cfg, const std::vector<Recorded>& events, const TimelineMeta& meta) {
  std::vector<std::string> irqs, hazards = builtin_hazards();
  for (const auto& s : interrupt_sources(cfg)) irqs.push_back(s.name);
  for (const auto& w : cfg.names.windows) hazards.push_back("window:" + w);
  size_t width = 6;
  for (const auto& t : cfg.threads) width = std::max(width, t.name.size());

  std::string out = fmt::format("# racewin {}: case {}, seed {}\n", meta.title, cfg.name, cfg.seed);
  if (meta.other.contains("summary")) out += "# " + meta.other["summary"].get<std::string>() + "\n";
  if (meta.excerpt) out += "# an excerpt: each vCPU's last events before the hit, and a few after\n";
  out += fmt::format("# {:>12}  {:<5} {:<{}}  event\n", "time (us)", "cpu", "thread", width);
  std::map<int, Time> stolen_since;
  for (const auto& r : events) {
    const TraceEvent& e = r.ev;
    std::string w = what(cfg, irqs, hazards, e, r.detail, stolen_since);
    if (w.empty()) continue;
    std::string who = e.thread >= 0 ? cfg.threads[size_t(e.thread)].name : "-";
    out += fmt::format("{:>14.3f}  cpu{:<2} {:<{}}  {}\n", e.time / 1000, e.vcpu, who, width, w);
  }
  out += fmt::format("# end at {:.3f} us\n", meta.end / 1000);
  return out;
}

}  // namespace racewin

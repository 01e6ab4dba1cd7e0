#include "profiles.hpp"

#include <optional>

namespace racewin {
namespace {

std::vector<IrqSource> parse_irqs(const CNode& list) {
  std::vector<IrqSource> out;
  for (const auto& n : list.items()) {
    n.allow_keys({"name", "interarrival", "handler", "first", "source"});
    out.push_back({n.at("name").str(), Dist::parse(n.at("interarrival")), Dist::parse(n.at("handler")),
                   n.has("first") ? n.at("first").duration() : -1.0});
    if (out.back().interarrival.mean() <= 0) n.at("interarrival").fail("the interarrival time must be positive");
  }
  return out;
}

std::map<std::string, Dist> parse_costs(const CNode& map) {
  std::map<std::string, Dist> out;
  for (auto& [k, v] : map.entries()) out.emplace(k, Dist::parse(v));
  return out;
}

// model: none | renewal (interarrival, duration) | trace (vcpus: {0: [[start, duration], ...]})
std::optional<StealProcess> parse_steal(const CNode& s, bool in_list) {
  s.allow_keys({"name", "model", "interarrival", "duration", "vcpus", "source"});
  StealProcess p;
  p.name = s.has("name") ? s.at("name").str() : std::string("steal");
  if (in_list && !s.has("name")) s.fail("each steal process in a list needs a name");
  std::string m = s.at("model").str();
  if (m == "none") return std::nullopt;
  if (m == "renewal") {
    p.kind = StealProcess::Kind::Renewal;
    p.interarrival = Dist::parse(s.at("interarrival"));
    p.duration = Dist::parse(s.at("duration"));
    if (p.interarrival.mean() <= 0) s.at("interarrival").fail("the interarrival time must be positive");
    return p;
  }
  if (m != "trace") s.at("model").fail("expected none, renewal or trace, got '" + m + "'");
  p.kind = StealProcess::Kind::Trace;
  for (auto& [k, list] : s.at("vcpus").entries()) {
    CNode key(YAML::Node(k), std::make_shared<const std::string>(list.file()), list.key_path());
    size_t v = size_t(key.integer(0, 1023));
    if (p.trace.size() <= v) p.trace.resize(v + 1);
    double end = 0;
    for (auto& iv : list.items()) {
      auto pair = iv.items();
      if (pair.size() != 2) iv.fail("expected [start, duration]");
      StealInterval si{pair[0].duration(), pair[1].duration()};
      if (si.start < end) iv.fail("steal intervals must be sorted and must not overlap");
      end = si.start + si.duration;
      p.trace[v].push_back(si);
    }
  }
  return p;
}

}  // namespace

ArchProfile parse_arch(const CNode& root) {
  root.allow_keys({"arch", "doc", "tlb", "ipi", "lru_pagevec_size", "interrupts", "costs"});
  ArchProfile a;
  a.name = root.at("arch").str();
  CNode tlb = root.at("tlb");
  tlb.allow_keys({"flush", "free"});
  std::string f = tlb.at("flush").str();
  if (f == "ipi_shootdown") a.tlb_flush = ArchProfile::TlbFlush::IpiShootdown;
  else if (f == "broadcast") a.tlb_flush = ArchProfile::TlbFlush::Broadcast;
  else tlb.at("flush").fail("expected ipi_shootdown or broadcast, got '" + f + "'");
  std::string fr = tlb.at("free").str();
  if (fr == "batched") a.page_free = ArchProfile::PageFree::Batched;
  else if (fr == "direct") a.page_free = ArchProfile::PageFree::Direct;
  else tlb.at("free").fail("expected batched or direct, got '" + fr + "'");
  CNode ipi = root.at("ipi");
  ipi.allow_keys({"latency", "handler", "ack_latency"});
  a.ipi_latency = Dist::parse(ipi.at("latency"));
  a.ipi_handler = Dist::parse(ipi.at("handler"));
  a.ipi_ack_latency = Dist::parse(ipi.at("ack_latency"));
  if (auto p = root.get("lru_pagevec_size")) a.lru_pagevec_size = int(p->integer(1, 1024));
  if (auto irqs = root.get("interrupts")) a.interrupts = parse_irqs(*irqs);
  a.costs = parse_costs(root.at("costs"));
  return a;
}

HypervisorProfile parse_hypervisor(const CNode& root) {
  root.allow_keys({"hypervisor", "doc", "steal", "ipi", "interrupts", "costs"});
  HypervisorProfile h;
  h.name = root.at("hypervisor").str();
  if (auto s = root.get("steal")) {
    if (s->is_seq()) {
      for (const auto& p : s->items())
        if (auto sp = parse_steal(p, true)) h.steal.push_back(*sp);
    } else if (auto sp = parse_steal(*s, false)) {
      h.steal.push_back(*sp);
    }
  }
  if (auto ipi = root.get("ipi")) {
    ipi->allow_keys({"extra_latency"});
    h.ipi_extra_latency = Dist::parse(ipi->at("extra_latency"));
  }
  if (auto irqs = root.get("interrupts")) h.interrupts = parse_irqs(*irqs);
  if (auto c = root.get("costs")) h.costs = parse_costs(*c);
  return h;
}

}  // namespace racewin

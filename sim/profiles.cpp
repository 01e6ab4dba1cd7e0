#include "profiles.hpp"

namespace racewin {
namespace {

std::vector<IrqSource> parse_irqs(const CNode& list) {
  std::vector<IrqSource> out;
  for (const auto& n : list.items()) {
    n.allow_keys({"name", "interarrival", "handler", "source"});
    out.push_back({n.at("name").str(), Dist::parse(n.at("interarrival")), Dist::parse(n.at("handler"))});
  }
  return out;
}

std::map<std::string, Dist> parse_costs(const CNode& map) {
  std::map<std::string, Dist> out;
  for (auto& [k, v] : map.entries()) out.emplace(k, Dist::parse(v));
  return out;
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
    s->allow_keys({"model", "interarrival", "duration"});
    std::string m = s->at("model").str();
    if (m == "renewal") {
      h.steal = true;
      h.steal_interarrival = Dist::parse(s->at("interarrival"));
      h.steal_duration = Dist::parse(s->at("duration"));
      if (h.steal_interarrival.mean() <= 0) s->at("interarrival").fail("the interarrival time must be positive");
    } else if (m != "none") {
      s->at("model").fail("expected none or renewal, got '" + m + "'");
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

#pragma once
// Architecture and hypervisor profiles (models/arch, models/hypervisor).
#include <map>
#include <string>
#include <vector>

#include "config.hpp"
#include "dist.hpp"

namespace racewin {

struct IrqSource {
  std::string name;
  Dist interarrival;  // renewal process per vCPU; held pending while IRQs are off
  Dist handler;       // time the handler occupies the vCPU
  double first = -1;  // first arrival; < 0: a random phase within one interarrival
};

struct StealInterval {
  double start, duration;
};

struct ArchProfile {
  enum class TlbFlush { IpiShootdown, Broadcast };
  enum class PageFree { Batched, Direct };
  std::string name;
  TlbFlush tlb_flush = TlbFlush::IpiShootdown;
  PageFree page_free = PageFree::Batched;
  Dist ipi_latency, ipi_handler, ipi_ack_latency;
  int lru_pagevec_size = 15;
  std::vector<IrqSource> interrupts;
  std::map<std::string, Dist> costs;
};

// One source of steal on every vCPU; a vCPU is stolen while any of its sources steals it.
struct StealProcess {
  enum class Kind { Renewal, Trace };
  std::string name;
  Kind kind = Kind::Renewal;
  Dist interarrival;  // renewal: running time between two steals
  Dist duration;
  std::vector<std::vector<StealInterval>> trace;  // trace: per vCPU, sorted, disjoint
};

struct HypervisorProfile {
  std::string name;
  std::vector<StealProcess> steal;
  Dist ipi_extra_latency = Dist::fixed(0);  // virtual IPI delivery on top of the arch figure
  std::vector<IrqSource> interrupts;        // e.g. host-side kicks, added to the arch's
  std::map<std::string, Dist> costs;        // override arch costs (e.g. VM exits)
};

ArchProfile parse_arch(const CNode& root);
HypervisorProfile parse_hypervisor(const CNode& root);

}  // namespace racewin

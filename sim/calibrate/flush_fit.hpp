#pragma once
// How this guest flushes another CPU's TLB, from the probe's zaps with a second thread of the mm
// running: by IPI (the flush shows on /proc/interrupts' TLB and CAL lines), or by the hypervisor
// at a hypercall (pv_ops.mmu.flush_tlb_others of Hyper-V, Xen PV, PVM guests: no guest interrupt;
// the second thread, spinning on the clock, finds itself stalled about once a flush instead).
#include <optional>
#include <string>

#include "calibrate/fit_dist.hpp"
#include "calibrate/probe_file.hpp"

namespace racewin::calibrate {

struct FlushFit {
  bool known = false;          // the file has the second thread's gaps and the run's interrupts
  bool by_hypercall = false;   // no flush IPI, and the second CPU stalled at least once every other flush
  double calls = 0;            // zaps of a present PTE with the second thread running (each flushes it)
  double irqs = 0;             // TLB and CAL interrupts over the run, every CPU
  double gaps = 0;             // the second CPU's gaps over the run
  double background = 0;       // of them, what its stall records predict over as long a spin
  double gaps_per_call = 0;    // (gaps - background) / calls
  std::optional<LawFit> stall; // the target's hold: the law of the second CPU's gaps
  double sender_extra_ns = 0;  // the zap's median with the second thread, less alone
  std::string why;             // the verdict in words
};

FlushFit fit_flush(const Probe& p);

}  // namespace racewin::calibrate

// TLB shootdown of the other CPUs: KVM's PV flush skipping preempted vCPUs (KERNEL-REVIEW.md M3,
// KERNEL-REVIEW-2 N1, N3) and the hypervisor's remote flush by hypercall, each on a deterministic
// input with times worked out by hand.
#include <algorithm>
#include <cmath>

#include "support.hpp"

using namespace racewin;
using namespace racewin::test;

namespace {
const char* const kFlusher =
    "  - tlb_gather_mmu\n  - tlb_remove_tlb_entry: map\n  - work: short\n  - tlb_flush_mmu_tlbonly\n  - work: idle\n";
std::string stolen_target(bool pv, bool preempts = true) {
  return std::string("hypervisor: kvm_test\ncpus: shared\npv_tlb_flush: ") + (pv ? "true" : "false") +
         "\nsteal: {model: trace, preempts: " + (preempts ? "true" : "false") +
         ", vcpus: {0: [[50ns, 2000ns]]}}\n";
}
}  // namespace

TEST_CASE("M3: a PV shootdown does not wait for a preempted vCPU, which flushes when it runs again") {
  TempDir d;
  auto pv = make_case(d, fixed_arch("ipi_shootdown", "batched"), stolen_target(true),
                      {{"victim", "  - work: long\n  - work: idle\n"}, {"flusher", kFlusher}});
  Log log = run_logged(pv, 5000);
  // The flush at 127 finds vCPU 0 preempted (50..2050): no IPI, no wait; its flush comes at entry.
  CHECK(log.at(0, "TLB flush deferred") == doctest::Approx(127));
  CHECK(log.at(1, "flusher idle") == doctest::Approx(127 + 1000));
  CHECK(log.at(0, "deferred TLB flush") == doctest::Approx(2050));
  // Its next flush, at 1254, is deferred too; IPIs and waits come only once vCPU 0 runs.
  CHECK(log.at(0, "TLB flush deferred", 1) == doctest::Approx(1254));
  CHECK(log.at(1, "waits for") > 2050);
  CHECK(log.at(0, "ipi") > 2050);
  // Without PV flush the IPI waits for the vCPU: handled at 2050, acked at 2050 + 200 + 30.
  TempDir d2;
  auto native = make_case(d2, fixed_arch("ipi_shootdown", "batched"), stolen_target(false),
                          {{"victim", "  - work: long\n  - work: idle\n"}, {"flusher", kFlusher}});
  Log log2 = run_logged(native, 5000);
  CHECK(log2.at(1, "has all acks") == doctest::Approx(2280));
}

// KERNEL-REVIEW-2 N1: kvm_flush_tlb_others skips only vCPUs with steal_time.preempted, which the
// host sets when it puts the vCPU, not for an exit handled inside the run loop.
TEST_CASE("N1: a PV shootdown waits for a vCPU in an exit that does not preempt it, as without PV flush") {
  TempDir d;
  auto exit = make_case(d, fixed_arch("ipi_shootdown", "batched"), stolen_target(true, false),
                        {{"victim", "  - work: long\n  - work: idle\n"}, {"flusher", kFlusher}});
  Log log = run_logged(exit, 5000);
  CHECK(log.at(0, "TLB flush deferred") < 0);
  // The IPI sent at 127 is taken when vCPU 0 runs again at 2050, acked 200 + 30 later.
  CHECK(log.at(1, "has all acks") == doctest::Approx(2280));
}

// KERNEL-REVIEW-2 N3: the sender's exit is paid once per shootdown that sends an IPI, and not at
// all when PV flush skipped every target.
TEST_CASE("N3: the IPI send exit delays a sent shootdown by its length and costs nothing when none is sent") {
  const std::string victim = "  - work: long\n  - work: idle\n";
  auto acks = [&](const std::string& hyp) {
    TempDir d;
    return run_logged(make_case(d, fixed_arch("ipi_shootdown", "batched"), hyp, {{"victim", victim}, {"flusher", kFlusher}}), 5000);
  };
  const std::string running = "hypervisor: kvm_test\ncpus: shared\npv_tlb_flush: true\n";
  Log plain = acks(running), exiting = acks(running + "ipi: {send_exit: 300ns}\n");
  REQUIRE(plain.at(1, "has all acks") > 0);
  CHECK(exiting.at(1, "has all acks") == doctest::Approx(plain.at(1, "has all acks") + 300));
  // vCPU 0 preempted from 50 to 2050: PV flush skips it, no IPI, no exit; the flusher goes on at once.
  Log skipped = acks(stolen_target(true) + "ipi: {send_exit: 300ns}\n");
  CHECK(skipped.at(0, "TLB flush deferred") == doctest::Approx(127));
  CHECK(skipped.at(1, "flusher idle") == doctest::Approx(127 + 1000));
}

// A remote flush by hypercall (Hyper-V, Xen PV, PVM guests; docs/calibrate.md): no IPI; the host
// holds the running target while it flushes, and the sender waits for it.
TEST_CASE("a remote flush by hypercall holds the running target in the host and the sender waits for it") {
  const std::string victim = "  - work: long\n  - work: idle\n";
  const std::string rf = "remote_flush: {send: 300ns, latency: 100ns, target_stall: 2000ns, ack_latency: 50ns}\n";
  auto run = [&](const std::string& hyp) {
    TempDir d;
    return run_logged(make_case(d, fixed_arch("ipi_shootdown", "batched"), hyp, {{"victim", victim}, {"flusher", kFlusher}}), 6000);
  };
  Log log = run("hypervisor: kvm_test\ncpus: shared\n" + rf);
  // The flush at 127: the kick reaches vCPU 0 after 300 + 100, the host holds it 2000 ns, the
  // sender hears 50 ns later. No guest interrupt anywhere.
  CHECK(log.at(1, "flusher asks the host to flush vCPU 0") == doctest::Approx(127));
  CHECK(log.at(0, "steal begins") == doctest::Approx(527));
  CHECK(log.at(0, "steal ends") == doctest::Approx(2527));
  CHECK(log.at(1, "has all acks") == doctest::Approx(2577));
  CHECK(log.at(0, "ipi") < 0);
  // vCPU 0 preempted from 50 to 2050: skipped (flushed at its entry); the hypercall is made all
  // the same, and the sender waits for it alone.
  Log skipped = run(stolen_target(false) + rf);
  CHECK(skipped.at(0, "TLB flush deferred") == doctest::Approx(127));
  CHECK(skipped.at(1, "has all acks") == doctest::Approx(427));
  // On an arch that broadcasts its flushes, a remote flush by hypercall means nothing: refused.
  TempDir d;
  CHECK_THROWS_WITH_AS(make_case(d, fixed_arch("broadcast", "direct"), "hypervisor: kvm_test\ncpus: shared\n" + rf, {{"victim", victim}}),
                       doctest::Contains("remote_flush"), ConfigError);
}

// QEMU TCG's IPTE (docs/profiles.md, models/hypervisor/qemu_tcg.yaml): on a broadcast arch the
// emulator stops every other running vCPU at a block boundary; a vCPU the host has off its CPU is
// still running in QEMU's sense, and the issuer waits until it runs again.
TEST_CASE("a synchronised broadcast flush (QEMU TCG's IPTE) holds the running target and waits for a stolen one") {
  const std::string victim = "  - work: long\n  - work: idle\n";
  // A zap of a present PTE: the IPTE is the ptep_get_and_clear of a valid entry.
  const std::string zapper = "  - alloc_page: {into: new}\n  - set_pte: {pte: map, page: new}\n  - work: short\n"
                             "  - ptep_get_and_clear: {pte: map, into: old}\n  - work: idle\n";
  const std::string rf = "broadcast_sync: {send: 300ns, latency: 100ns, target_stall: 2000ns, ack_latency: 50ns}\n";
  auto run = [&](const std::string& hyp) {
    TempDir d;
    return run_logged(make_case(d, fixed_arch("broadcast", "direct"), hyp, {{"victim", victim}, {"flusher", zapper}}),
                      6000);
  };
  // Running target: held 2000 ns from 300 + 100 after the IPTE, the issuer hears 50 ns after.
  Log log = run("hypervisor: tcg_test\ncpus: shared\n" + rf);
  double ipte = log.at(1, "flusher asks the host to flush vCPU 0");
  REQUIRE(ipte > 0);
  CHECK(log.at(0, "steal begins") == doctest::Approx(ipte + 400));
  CHECK(log.at(1, "has all acks") == doctest::Approx(ipte + 400 + 2000 + 50));
  // The target stolen from 50 to 2050 ns: the section waits for it, holds it from 2050, and the
  // issuer goes on 2000 + 50 ns after that (a hypercall flush would have deferred it).
  Log stolen = run(stolen_target(false) + rf);
  CHECK(stolen.at(0, "TLB flush deferred") < 0);
  CHECK(stolen.at(1, "has all acks") == doctest::Approx(2050 + 2000 + 50));
  // On a broadcast arch, a remote flush that does not wait for stolen vCPUs (a hypercall's) is refused.
  TempDir d;
  CHECK_THROWS_WITH_AS(make_case(d, fixed_arch("broadcast", "direct"), "hypervisor: tcg_test\ncpus: shared\nremote_flush: {send: 300ns, latency: 100ns, target_stall: 2000ns, ack_latency: 50ns}\n",
                                 {{"victim", victim}}),
                       doctest::Contains("broadcast_sync"), ConfigError);
  // On an IPI arch, broadcast_sync changes nothing: the shootdown is the guest's IPI.
  TempDir d2;
  Log ipi = run_logged(make_case(d2, fixed_arch("ipi_shootdown", "batched"), "hypervisor: tcg_test\ncpus: shared\n" + rf,
                                 {{"victim", victim}, {"flusher", kFlusher}}), 6000);
  CHECK(ipi.at(1, "flusher asks the host to flush vCPU 0") < 0);
  CHECK(ipi.at(0, "ipi") > 0);
}

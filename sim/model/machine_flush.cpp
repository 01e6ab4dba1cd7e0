// TLB shootdown of the other CPUs of an mm: by IPI (with KVM's PV flush skipping preempted
// vCPUs), or by the hypervisor at a hypercall (hypervisor.remote_flush); and a broadcast
// invalidation that an emulator synchronises (QEMU TCG's IPTE: remote_flush.waits_for_stolen).
#include "model/machine.hpp"

namespace racewin {

// Whose TLB a flush by `t` must reach: another thread of the mm on another vCPU, unless it sleeps
// (its CPU is in lazy-TLB mode, out of the mm's mask). One rule for IPIs and the host's flushes.
bool Machine::in_flush_mask(const Thread& t, const Thread& o) const { return o.vcpu != t.vcpu && o.state != TState::Sleeping; }

bool Machine::flush_others(Thread& t) {
  if (cfg_.arch.tlb_flush == ArchProfile::TlbFlush::Broadcast) return true;  // IPTE/IDTE: no IPIs; see broadcast_flush
  // broadcast_sync is the emulator's broadcast: on an IPI arch the flushes stay the guest's IPIs.
  if (cfg_.hypervisor.remote_flush.on && !cfg_.hypervisor.remote_flush.waits_for_stolen) return remote_flush_others(t);
  Vcpu& c = vcpus_[size_t(t.vcpu)];
  t.wait_acks = 0;
  double send = -1;  // the send exit, drawn at the first IPI: the IPIs leave after it
  for (const auto& o : threads_) {
    if (!in_flush_mask(t, o)) continue;
    Vcpu& target = vcpus_[size_t(o.vcpu)];
    if (cfg_.hypervisor.pv_tlb_flush && preempted(target)) {  // kvm_flush_tlb_others: KVM_VCPU_FLUSH_TLB
      target.flush_deferred = true;
      if (tracing()) emit(TraceEvent::Kind::FlushDeferred, o.vcpu);
      continue;
    }
    int id;
    if (!free_ipis_.empty()) id = free_ipis_.back(), free_ipis_.pop_back();
    else id = int(ipis_.size()), ipis_.push_back({});
    ipis_[size_t(id)] = {t.vcpu, t.id};
    if (send < 0) send = draw(cfg_.hypervisor.ipi_send_exit, c.ipi_send_rng);
    double lat = send + draw(cfg_.arch.ipi_latency, c.ipi_latency_rng) + draw(cfg_.hypervisor.ipi_extra_latency, c.ipi_extra_rng);
    if (halted(target)) lat += draw(cfg_.hypervisor.halt_wakeup, target.halt_wakeup_rng);  // kvm_vcpu_kick
    eng_.schedule(eng_.now() + lat, {Timer::IpiArrive, o.vcpu, id});
    if (tracing()) emit(TraceEvent::Kind::IpiSend, t.vcpu, t.id, -1, o.vcpu, id);
    ++t.wait_acks;
    ++ipis_sent_;
  }
  if (t.wait_acks == 0) return true;
  if (tracing()) emit(TraceEvent::Kind::WaitAcks, t.vcpu, t.id, -1, -1, t.wait_acks);
  block(t, TState::WaitingAcks);
  return false;
}

// The remote flush by hypercall: one exit for the whole mask, a kick to each running target, which
// the host holds while it flushes (a stall the guest's IRQs off cannot hold back: window_stretch
// counts it as steal), and the sender waits for them all. The hypercall is made whenever another
// CPU is in the mm's mask, even if every target is preempted or halted (flushed at its next entry,
// unwaited): the sender then waits for its own exit only.
bool Machine::remote_flush_others(Thread& t) {
  const auto& rf = cfg_.hypervisor.remote_flush;
  Vcpu& c = vcpus_[size_t(t.vcpu)];
  bool any = false;
  t.wait_acks = 0;
  double send = 0;
  for (const auto& o : threads_) {
    if (!in_flush_mask(t, o)) continue;
    if (!any) send = draw(rf.send, c.hv_flush_send_rng), any = true;
    Vcpu& target = vcpus_[size_t(o.vcpu)];
    if (halted(target) || (!rf.waits_for_stolen && preempted(target))) {
      target.flush_deferred = true;
      if (tracing()) emit(TraceEvent::Kind::FlushDeferred, o.vcpu);
      continue;
    }
    double lat = send + draw(rf.latency, c.hv_flush_latency_rng);
    eng_.schedule(eng_.now() + lat, {Timer::HvFlushArrive, o.vcpu, t.id});
    if (tracing()) emit(TraceEvent::Kind::RemoteFlush, t.vcpu, t.id, -1, o.vcpu);
    ++t.wait_acks;
  }
  if (!any) return true;
  if (t.wait_acks == 0) {  // every target flushes at its next entry: the hypercall alone
    eng_.schedule(eng_.now() + send, {Timer::AckArrive, t.vcpu, t.id});
    t.wait_acks = 1;
  }
  if (tracing()) emit(TraceEvent::Kind::WaitAcks, t.vcpu, t.id, -1, -1, t.wait_acks);
  block(t, TState::WaitingAcks);
  return false;
}

void Machine::remote_flush_arrive(int v, int sender) {
  Vcpu& c = vcpus_[size_t(v)];
  const auto& rf = cfg_.hypervisor.remote_flush;
  if (rf.waits_for_stolen && c.stolen) {  // off its CPU inside cpu_exec: the section waits for it (unsteal)
    c.sync_flush_waiters.push_back(sender);
    return;
  }
  if (halted(c) || (!rf.waits_for_stolen && preempted(c))) {  // went off its CPU meanwhile: flushed at its next entry
    c.flush_deferred = true;
    if (tracing()) emit(TraceEvent::Kind::FlushDeferred, v);
    eng_.schedule(eng_.now() + draw(rf.ack_latency, c.hv_flush_ack_rng), {Timer::AckArrive, threads_[size_t(sender)].vcpu, sender});
    return;
  }
  steal_begin(v);
  eng_.schedule(eng_.now() + draw(rf.target_stall, c.hv_flush_stall_rng), {Timer::HvFlushEnd, v, sender});
}

void Machine::remote_flush_end(int v, int sender) {
  Vcpu& c = vcpus_[size_t(v)];
  eng_.schedule(eng_.now() + draw(cfg_.hypervisor.remote_flush.ack_latency, c.hv_flush_ack_rng),
                {Timer::AckArrive, threads_[size_t(sender)].vcpu, sender});
  if (--c.steal_depth == 0) unsteal(v);
}

// s390's IPTE global (ptep_flush_direct, ptep_xchg_lazy with another CPU in the mm's mask) is
// broadcast by the hardware and waits for no CPU; under an emulator that synchronises it (QEMU
// TCG: every other running vCPU stopped at a block boundary, remote_flush.waits_for_stolen) it
// is a remote flush the issuer waits for. True when the step goes on at once.
bool Machine::broadcast_flush(Thread& t) {
  if (cfg_.arch.tlb_flush != ArchProfile::TlbFlush::Broadcast || !cfg_.hypervisor.remote_flush.on) return true;
  return remote_flush_others(t);
}

// A vCPU the host runs again: the synchronised flushes that waited for it hold it now.
void Machine::sync_flush_resume(int v) {
  Vcpu& c = vcpus_[size_t(v)];
  if (c.sync_flush_waiters.empty()) return;
  std::vector<int> senders;
  senders.swap(c.sync_flush_waiters);
  for (int sender : senders) remote_flush_arrive(v, sender);
}

}  // namespace racewin

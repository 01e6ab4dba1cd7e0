#pragma once
// A structured model event: ids instead of words. The model emits one where it changes something
// a reader of a timeline cares about; the text ModelEvent is derived from it (machine_trace.cpp).
#include <cstdint>
#include <string>

#include "base/units.hpp"

namespace racewin {

struct TraceEvent {
  enum class Kind : uint8_t {
    StepBegin,     // thread, obj: step; its work starts (steps that cost nothing have none)
    StepDone,      // thread, obj: step; its effect
    FreeBegin,     // thread, id: pages; free_pages_prepare starts
    FreeEnd,       // thread
    PageFreed,     // thread, obj: page; check_free_page passed, onto the per-CPU list
    SpinWait,      // thread, obj: lock, peer: the holder's vCPU; a contended spin_lock waits
    LockTaken,     // thread, obj: lock, id: 1 if it waited
    LockReleased,  // thread, obj: lock
    Sleep,         // thread, obj: page; lock_page sleeps on PG_locked
    WaitAcks,      // thread, id: acks awaited
    AllAcks,       // thread
    Woken,         // thread: a spin, sleep or ack wait is over
    Yield,         // thread, peer: the vCPU yielded to
    Halt,          // thread (pv_wait)
    Kick,          // thread (pv_kick)
    IpiSend,       // thread, vcpu: the sender's; peer: the target vCPU, id: the IPI's slot
    IpiArrive,     // vcpu, id: the slot, peer: the sender's vCPU
    FlushDeferred, // vcpu: the stolen target (KVM PV TLB flush)
    RemoteFlush,   // thread, vcpu: the sender's; peer: the target vCPU (a remote flush by hypercall)
    DeferredFlush, // vcpu
    HandlerBegin,  // vcpu, obj: interrupt source (-1: an IPI), id: the IPI's slot
    Softirq,       // vcpu, obj: interrupt source
    HandlerEnd,    // vcpu
    StealBegin,    // vcpu
    StealEnd,      // vcpu
    Hazard,        // vcpu and thread that found it, obj: hazard index, detail
    TaskBegin,     // vcpu, thread: switched out for the guest task (kernel.task)
    TaskEnd,       // vcpu: the task sleeps again, the thread is switched back in
  };
  Time time = 0;
  Kind kind = Kind::StepDone;
  int vcpu = -1;
  int thread = -1;
  int obj = -1;
  int peer = -1;
  int id = -1;
  const std::string* detail = nullptr;  // Hazard only; valid during the call
};

}  // namespace racewin

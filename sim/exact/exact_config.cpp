// Which cases the exact driver takes (every duration exponential or zero), and --exponential.
#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "base/units.hpp"
#include "exact/exact.hpp"

namespace racewin {
namespace {

bool memoryless(const Dist& d) { return d.kind() == Dist::Kind::Exponential || d.is_zero(); }

void need(const Dist& d, const std::string& what) {
  if (!memoryless(d))
    throw NotExponential(fmt::format("{} is {}: the exact driver needs exponential or zero durations "
                                     "(--exponential replaces each by an exponential of the same mean)",
                                     what, d.describe()));
}

// The model adds draws here (e.g. the arch's IPI latency and the hypervisor's extra): a sum of
// two exponentials is not exponential, so all but one of them must be zero.
void need_sum(std::initializer_list<std::pair<const Dist&, std::string>> terms) {
  const std::pair<const Dist&, std::string>* first = nullptr;
  for (const auto& t : terms) {
    need(t.first, t.second);
    if (t.first.is_zero()) continue;
    if (first)
      throw NotExponential(fmt::format("{} plus {}: a sum of two exponentials is not exponential; "
                                       "the exact driver needs one of them zero",
                                       first->second, t.second));
    first = &t;
  }
}

template <class F>
void each_dist(CaseConfig& c, F&& f) {
  for (auto& d : c.costs) f(d);
  for (auto* d : {&c.arch.ipi_latency, &c.arch.ipi_handler, &c.arch.ipi_ack_latency, &c.hypervisor.ipi_extra_latency,
                  &c.hypervisor.ipi_target_exit, &c.hypervisor.ipi_send_exit, &c.hypervisor.halt_wakeup})
    f(*d);
  for (auto* list : {&c.arch.interrupts, &c.hypervisor.interrupts})
    for (auto& s : *list) f(s.interarrival), f(s.handler), f(s.softirq);
  for (auto& [name, d] : c.hypervisor.irq_extra) f(d);
  for (auto& s : c.hypervisor.steal) f(s.interarrival), f(s.duration);
}

}  // namespace

void check_exponential(const CaseConfig& c) {
  const std::string where = "case " + c.name + ": ";
  if (c.kernel.task.on)
    throw NotExponential(where + "kernel.task (a second guest task and the scheduler's preemption points) is not in "
                                 "the exact driver; racewin run simulates it");
  if (c.hypervisor.remote_flush.on)
    throw NotExponential(where + (c.hypervisor.remote_flush.waits_for_stolen ? "hypervisor.broadcast_sync (an emulator's synchronised flush, "
                                                                               "its targets held) is not in the exact driver; racewin run simulates it"
                                                                             : "hypervisor.remote_flush (a TLB flush by hypercall, its targets held "
                                                                               "in the host) is not in the exact driver; racewin run simulates it"));
  if (c.kernel.debug)
    throw NotExponential(where + "kernel.config: debug adds lockdep's and the tracers' costs to steps that have a cost "
                                 "of their own: sums the exact driver cannot take; use --set kernel.config=production");
  for (const auto& t : c.threads)
    for (const auto& s : t.path.steps)
      if (s.cost_index >= 0)
        need(c.costs[size_t(s.cost_index)],
             fmt::format("{}cost '{}' of step '{}' [{}] of {}", where, s.cost_name, s.text, s.loc.str(), t.name));
  for (size_t i = 0; i < c.cost_names.size(); ++i)  // a sleeper's wakeup: the guest's, then the host's
    if (c.cost_names[i] == "lock_page_wakeup")
      need_sum({{c.costs[i], where + "cost 'lock_page_wakeup'"}, {c.hypervisor.halt_wakeup, "hypervisor.halt_wakeup"}});
  for (const char* n : {"spin_lock_handoff", "lock_page_wakeup", "free_pages_prepare", "pte_read",
                        "arch_vcpu_is_preempted", "smp_yield_cpu", "ple_exit", "pv_kick"})
    for (size_t i = 0; i < c.cost_names.size(); ++i)
      if (c.cost_names[i] == n) need(c.costs[i], fmt::format("{}cost '{}' (charged by the model)", where, n));
  if (c.arch.tlb_flush == ArchProfile::TlbFlush::IpiShootdown) {
    need_sum({{c.arch.ipi_latency, where + "arch.ipi_latency"},
              {c.hypervisor.ipi_extra_latency, "hypervisor.ipi.extra_latency"},
              {c.hypervisor.ipi_send_exit, "hypervisor.ipi.send_exit"},
              {c.hypervisor.halt_wakeup, "hypervisor.halt_wakeup"}});
    need_sum({{c.arch.ipi_handler, where + "arch.ipi_handler"}, {c.hypervisor.ipi_target_exit, "hypervisor.ipi.target_exit"}});
    need(c.arch.ipi_ack_latency, where + "arch.ipi_ack_latency");
  }
  for (const auto& s : interrupt_sources(c)) {
    std::string w = where + "interrupt source '" + s.name + "'";
    need(s.interarrival, w + " interarrival");
    auto x = c.hypervisor.irq_extra.find(s.name);
    if (x != c.hypervisor.irq_extra.end()) need_sum({{s.handler, w + " handler"}, {x->second, "its hypervisor exit"}});
    else need(s.handler, w + " handler");
    need(s.softirq, w + " softirq");
  }
  for (const auto& s : c.hypervisor.steal) {
    std::string w = where + "steal source '" + s.name + "'";
    if (s.kind == StealProcess::Kind::Trace) throw NotExponential(w + " is a trace: the exact driver needs a renewal process");
    if (s.kind == StealProcess::Kind::Periodic) throw NotExponential(w + " is periodic: the exact driver needs a renewal process");
    if (s.kind == StealProcess::Kind::MarkovModulated)
      throw NotExponential(w + " is Markov-modulated: the exact driver needs a renewal process");
    need(s.interarrival, w + " interarrival");
    need(s.duration, w + " duration");
  }
  // A yielder waits out the rest of the holder's steal: with two preempting sources on at once,
  // the longer of two exponentials, which is not exponential.
  if (c.hypervisor.yield_ends_slice && c.lock.kind != LockModel::Kind::Fifo && c.lock.spin_retry > 0 &&
      std::count_if(c.hypervisor.steal.begin(), c.hypervisor.steal.end(), [](const StealProcess& s) { return s.preempts; }) > 1)
    throw NotExponential(where + "two steal sources preempt and a directed yield ends the yielder's slice: its wait is the "
                                 "longer of two exponentials; the exact driver needs one preempting source (or "
                                 "hypervisor.yield_ends_slice: false)");
  if (!c.lock.exponential && c.lock.kind != LockModel::Kind::Fifo) {
    if (c.lock.spin_retry > 0)
      throw NotExponential(fmt::format("{}the spinlock's spin_retry is a fixed spin loop ({}): the exact driver "
                                       "needs exponential durations (--exponential)", where, format_duration(c.lock.spin_retry)));
    if (c.lock.kind == LockModel::Kind::PvQspinlock && c.lock.spin_threshold > 0)
      throw NotExponential(fmt::format("{}the pv-qspinlock spin_threshold is a fixed spin loop ({}) (--exponential)",
                                       where, format_duration(c.lock.spin_threshold)));
  }
}

void make_exponential(CaseConfig& c) {
  // Without IPIs (s390's broadcast flush) the host's halt wakeup is paid only after a sleeper's
  // lock_page_wakeup: one exponential of the two means stands for the pair.
  if (c.arch.tlb_flush == ArchProfile::TlbFlush::Broadcast && !c.hypervisor.halt_wakeup.is_zero())
    for (size_t i = 0; i < c.cost_names.size(); ++i)
      if (c.cost_names[i] == "lock_page_wakeup") {
        c.costs[i] = Dist::exponential(c.costs[i].mean() + c.hypervisor.halt_wakeup.mean());
        c.hypervisor.halt_wakeup = Dist::fixed(0);
      }
  each_dist(c, [](Dist& d) { d = d.mean() > 0 ? Dist::exponential(d.mean()) : Dist::fixed(0); });
  c.lock.exponential = true;
  c.lock.spin_retry_grow = 0;  // one exponential loop of mean spin_retry each time: no window to grow
  c.resolved["exponential"] = true;  // the outputs say the durations are not the shipped ones
}

}  // namespace racewin

// The `kernel:` section of a scenario, and the debug configuration's work laid over the paths.
#include "config/kernel_config.hpp"

#include <algorithm>

namespace racewin {

KernelConfig parse_kernel(const CNode& k, int vcpus) {
  KernelConfig out;
  k.allow_keys({"config", "preempt", "debug_pagealloc", "task", "debug_vm", "pcp_high", "pcp_batch", "skew_tick",
                 "page_lock_unfairness", "mmu_gather_batch"});
  if (auto cf = k.get("config")) {
    if (cf->str() != "debug" && cf->str() != "production") cf->fail("config is debug or production");
    out.debug = out.preempt = cf->str() == "debug";
  }
  if (auto pr = k.get("preempt")) out.preempt = pr->boolean();
  if (auto dp = k.get("debug_pagealloc")) out.debug_pagealloc = dp->boolean();
  if (auto tk = k.get("task"); tk && !tk->is_null()) {  // task: null takes a scenario's task away
    tk->allow_keys({"wakeup", "first", "run", "vcpus"});
    auto& w = out.task.wakeup;
    out.task.on = true;
    w.name = "task_wakeup";
    w.interarrival = Dist::parse(tk->at("wakeup"));
    if (!(w.interarrival.mean() > 0)) tk->at("wakeup").fail("the wakeups' interarrival time must be positive");
    out.task.run_cost = tk->at("run").str();
    if (auto f = tk->get("first")) w.first = f->duration();  // the first wakeup (tests); else a random phase
    if (auto vs = tk->get("vcpus")) {
      if (!vs->is_seq()) vs->fail("vcpus is a list of vCPU numbers, e.g. [0]");
      for (const auto& v : vs->items()) w.vcpus.push_back(int(v.integer(0, vcpus - 1)));
    }
  }
  if (auto mg = k.get("mmu_gather_batch")) out.mmu_gather_batch = int(mg->integer(1, 1 << 20));
  if (auto u = k.get("page_lock_unfairness")) out.page_lock_unfairness = int(u->integer(-1, 1 << 20));
  if (auto t = k.get("skew_tick")) out.skew_tick = t->boolean();
  if (auto d = k.get("debug_vm")) out.debug_vm = d->boolean();
  if (auto h = k.get("pcp_high")) out.pcp_high = int(h->integer(1, 1 << 20));
  if (auto b = k.get("pcp_batch")) out.pcp_batch = int(b->integer(1, 1 << 20));
  if (out.pcp_batch > out.pcp_high) k.fail("pcp_batch must not exceed pcp_high");
  return out;
}

const std::vector<std::string>& debug_kernel_costs() {
  static const std::vector<std::string> c = {"lockdep_acquire", "lockdep_release", "preempt_enable_traced", "trace_hardirqs"};
  return c;
}

// The debug configuration's work, where the kernel does it: lockdep's lock_acquire before the
// lock is taken and lock_release before the store that frees it (include/linux/spinlock_api_smp.h,
// __raw_spin_lock / __raw_spin_unlock), then preempt_enable, traced (trace_preempt_on), after the
// store; trace_hardirqs_off / _on in local_irq_disable / _enable (IRQSOFF_TRACER). The traced
// preempt_enable of a spin_unlock is a step of its own after it, so that a reschedule pending at
// the unlock is taken after it, as preempt_enable() does.
void debug_overlay(Path& p, const std::vector<std::string>& names) {
  auto index = [&](const char* n) { return int(std::find(names.begin(), names.end(), n) - names.begin()); };
  for (size_t i = 0; i < p.steps.size(); ++i) {
    Step& s = p.steps[i];
    switch (s.op) {
      case Op::SpinLock: s.extra_cost_index = index("lockdep_acquire"); break;
      case Op::PreemptEnable: s.extra_cost_index = index("preempt_enable_traced"); break;
      case Op::LocalIrqDisable: case Op::LocalIrqEnable: s.extra_cost_index = index("trace_hardirqs"); break;
      case Op::SpinUnlock: {
        s.extra_cost_index = index("lockdep_release");
        // After the markers at the unlock's instant (a window that opens with the unlock).
        size_t j = i + 1;
        while (j < p.steps.size() && (p.steps[j].op == Op::WindowOpen || p.steps[j].op == Op::WindowClose) && !p.steps[j].cond) ++j;
        Step traced;
        traced.op = Op::Work;
        traced.loc = s.loc;
        traced.text = "preempt_enable() (traced, after " + s.text + ")";
        traced.cost_name = "preempt_enable_traced";
        traced.cost_index = index("preempt_enable_traced");
        traced.cond = s.cond;
        traced.overlay = true;
        for (auto& o : p.steps)
          if (o.target >= int(j)) ++o.target;
        p.steps.insert(p.steps.begin() + std::ptrdiff_t(j), std::move(traced));
        i = j;
        break;
      }
      default: break;
    }
  }
}

}  // namespace racewin

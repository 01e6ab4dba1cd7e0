#include "config/profiles.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>

namespace racewin {
namespace {

std::vector<IrqSource> parse_irqs(const CNode& list) {
  std::vector<IrqSource> out;
  for (const auto& n : list.items()) {
    n.allow_keys({"name", "vcpus", "interarrival", "handler", "softirq", "priority", "first", "aligned", "source"});
    IrqSource src;
    src.name = n.at("name").str();
    src.interarrival = Dist::parse(n.at("interarrival"));
    src.handler = Dist::parse(n.at("handler"));
    if (auto sq = n.get("softirq")) src.softirq = Dist::parse(*sq);
    if (auto pr = n.get("priority")) src.priority = int(pr->integer(0, 255));
    if (auto f = n.get("first")) src.first = f->duration();
    if (auto al = n.get("aligned")) src.aligned = al->boolean();
    if (auto vs = n.get("vcpus")) {
      if (!vs->is_seq()) vs->fail("vcpus is a list of vCPU numbers, e.g. [0]");
      for (const auto& v : vs->items()) src.vcpus.push_back(int(v.integer(0, 1023)));
    }
    out.push_back(src);
    for (size_t i = 0; i + 1 < out.size(); ++i)
      if (out[i].name == out.back().name) n.at("name").fail("interrupt source '" + out.back().name + "' is declared twice");
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
// states: [{interarrival: LAW}, ...] and transitions: [[p00, p01, ...], ...], each row summing to 1.
void parse_markov_modulated(const CNode& s, StealProcess& p) {
  p.kind = StealProcess::Kind::MarkovModulated;
  for (const char* k : {"interarrival", "period", "show", "phase"})
    if (s.has(k)) s.at(k).fail(std::string("a markov_modulated steal source has no ") + k + " (its states have an interarrival)");
  const CNode states = s.at("states");
  if (!states.is_seq() || states.items().size() < 2) states.fail("expected a list of two or more states, each {interarrival: LAW}");
  for (const auto& st : states.items()) {
    st.allow_keys({"interarrival"});
    p.state_interarrival.push_back(Dist::parse(st.at("interarrival")));
    if (!(p.state_interarrival.back().mean() > 0)) st.at("interarrival").fail("the interarrival time must be positive");
  }
  const size_t n = p.state_interarrival.size();
  const CNode tr = s.at("transitions");
  if (!tr.is_seq() || tr.items().size() != n) tr.fail(fmt::format("expected {} rows, one per state", n));
  for (const auto& row : tr.items()) {
    if (!row.is_seq() || row.items().size() != n) row.fail(fmt::format("expected {} probabilities, one per state", n));
    double sum = 0;
    auto& out = p.transitions.emplace_back();
    for (const auto& x : row.items()) {
      double v = x.number();
      if (!(v >= 0 && v <= 1)) x.fail("expected a probability from 0 to 1");
      out.push_back(v), sum += v;
    }
    if (std::fabs(sum - 1) > 1e-6) row.fail(fmt::format("a row's probabilities sum to {:.6g}, not 1", sum));
  }
  // The chain's stationary law, by power iteration from the uniform one (a chain with a state it
  // never leaves or never reaches still has one; a periodic chain's average is taken).
  std::vector<double> pi(n, 1.0 / double(n)), avg(n, 0);
  for (int it = 0; it < 20000; ++it) {
    std::vector<double> next(n, 0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) next[j] += pi[i] * p.transitions[i][j];
    pi = next;
    if (it >= 10000)
      for (size_t j = 0; j < n; ++j) avg[j] += pi[j] / 10000;
  }
  p.stationary = avg;
}

std::optional<StealProcess> parse_steal(const CNode& s, bool in_list) {
  s.allow_keys({"name", "model", "interarrival", "duration", "vcpus", "preempts", "source", "period", "show", "phase",
                "states", "transitions"});
  StealProcess p;
  p.name = s.has("name") ? s.at("name").str() : std::string("steal");
  if (auto pr = s.get("preempts")) p.preempts = pr->boolean();
  if (in_list && !s.has("name")) s.fail("each steal process in a list needs a name");
  std::string m = s.at("model").str();
  if (m == "none") return std::nullopt;
  if (m == "renewal" || m == "periodic" || m == "markov_modulated") {
    p.duration = Dist::parse(s.at("duration"));
    if (m == "markov_modulated") {
      parse_markov_modulated(s, p);
    } else if (m == "renewal") {
      p.kind = StealProcess::Kind::Renewal;
      p.interarrival = Dist::parse(s.at("interarrival"));
      if (p.interarrival.mean() <= 0) s.at("interarrival").fail("the interarrival time must be positive");
      for (const char* k : {"period", "show", "phase", "states", "transitions"})
        if (s.has(k)) s.at(k).fail(std::string("a renewal steal source has no ") + k);
    } else {
      p.kind = StealProcess::Kind::Periodic;
      if (s.has("interarrival")) s.at("interarrival").fail("a periodic steal source has a period, not an interarrival");
      p.period = s.at("period").duration();
      if (!(p.period > 0)) s.at("period").fail("the period must be positive");
      if (auto q = s.get("show")) {
        p.show = q->number();
        if (!(p.show > 0 && p.show <= 1)) q->fail("expected a probability above 0 and at most 1");
      }
      if (auto ph = s.get("phase")) {
        p.phase = ph->duration();
        if (!(p.phase >= 0 && p.phase < p.period)) ph->fail("expected a duration from 0 to below the period");
      }
    }
    if (auto vs = s.get("vcpus")) {
      if (!vs->is_seq()) vs->fail("a " + m + " steal source's vcpus is a list of vCPU numbers, e.g. [1]");
      for (const auto& v : vs->items()) p.vcpus.push_back(int(v.integer(0, 1023)));
    }
    return p;
  }
  if (m != "trace") s.at("model").fail("expected none, renewal, periodic, markov_modulated or trace, got '" + m + "'");
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

// spinlock: {dedicated: {model: ...}, shared: {model: ...}}; absent: FIFO for both.
LockModel parse_lock(const CNode& n) {
  n.allow_keys({"model", "lock_steals", "spin_retry", "spin_threshold", "spin_retry_grow", "spin_retry_max"});
  LockModel m;
  std::string k = n.at("model").str();
  if (k == "fifo") m.kind = LockModel::Kind::Fifo;
  else if (k == "queued") m.kind = LockModel::Kind::Queued;
  else if (k == "classic") m.kind = LockModel::Kind::Classic;
  else if (k == "tas") m.kind = LockModel::Kind::Tas;
  else if (k == "pv_qspinlock") m.kind = LockModel::Kind::PvQspinlock;
  else n.at("model").fail("expected fifo, queued, classic, tas or pv_qspinlock, got '" + k + "'");
  if (auto s = n.get("lock_steals")) {
    if (m.kind != LockModel::Kind::Queued) s->fail("lock_steals applies to model: queued only");
    m.lock_steals = int(s->integer(0, 1 << 20));
  }
  if (auto r = n.get("spin_retry")) {
    if (m.kind == LockModel::Kind::Fifo) r->fail("spin_retry does not apply to model: fifo");
    m.spin_retry = r->duration();
  }
  if (auto g = n.get("spin_retry_grow")) {
    if (m.kind != LockModel::Kind::Tas && m.kind != LockModel::Kind::PvQspinlock)
      g->fail("spin_retry_grow is KVM's pause-loop window growth: model tas or pv_qspinlock only");
    m.spin_retry_grow = g->number();
    if (!(m.spin_retry_grow >= 1)) g->fail("spin_retry_grow is a factor of at least 1 (1: the window never grows)");
  }
  if (auto x = n.get("spin_retry_max")) {
    if (m.spin_retry_grow <= 1) x->fail("spin_retry_max caps a growing window: give spin_retry_grow above 1");
    m.spin_retry_max = x->duration();
    if (m.spin_retry_max < m.spin_retry) x->fail("spin_retry_max is below spin_retry");
  }
  if (auto t = n.get("spin_threshold")) {
    if (m.kind != LockModel::Kind::PvQspinlock) t->fail("spin_threshold applies to model: pv_qspinlock only");
    m.spin_threshold = t->duration();
  } else if (m.kind == LockModel::Kind::PvQspinlock) {
    n.fail("model: pv_qspinlock needs spin_threshold (how long the head spins before it halts)");
  }
  return m;
}

}  // namespace

ArchProfile parse_arch(const CNode& root) {
  root.allow_keys({"arch", "doc", "tlb", "ipi", "lru_pagevec_size", "spinlock", "interrupts", "costs", "debug_costs"});
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
  ipi.allow_keys({"latency", "handler", "ack_latency", "priority"});
  if (auto pr = ipi.get("priority")) a.ipi_priority = int(pr->integer(0, 255));
  a.ipi_latency = Dist::parse(ipi.at("latency"));
  a.ipi_handler = Dist::parse(ipi.at("handler"));
  a.ipi_ack_latency = Dist::parse(ipi.at("ack_latency"));
  if (auto p = root.get("lru_pagevec_size")) a.lru_pagevec_size = int(p->integer(1, 1024));
  if (auto sl = root.get("spinlock")) {
    sl->allow_keys({"dedicated", "shared"});
    a.lock_dedicated = parse_lock(sl->at("dedicated"));
    a.lock_shared = parse_lock(sl->at("shared"));
  }
  if (auto irqs = root.get("interrupts")) a.interrupts = parse_irqs(*irqs);
  a.costs = parse_costs(root.at("costs"));
  if (auto dc = root.get("debug_costs")) {
    a.debug_costs = parse_costs(*dc);
    for (const auto& [k, _] : a.debug_costs)
      if (!a.costs.count(k)) dc->at(k).fail("debug_costs." + k + " replaces no cost of costs:");
  }
  return a;
}

HypervisorProfile parse_hypervisor(const CNode& root) {
  root.allow_keys({"hypervisor", "doc", "cpus", "pv_tlb_flush", "spin_yield", "steal", "ipi", "interrupts",
                   "interrupt_exits", "costs", "yield_ends_slice", "halt_wakeup", "remote_flush", "broadcast_sync"});
  HypervisorProfile h;
  h.name = root.at("hypervisor").str();
  if (auto c = root.get("cpus")) {
    std::string v = c->str();
    if (v != "dedicated" && v != "shared") c->fail("expected dedicated or shared, got '" + v + "'");
    h.shared_cpus = v == "shared";
  }
  if (auto f = root.get("pv_tlb_flush")) h.pv_tlb_flush = f->boolean();
  if (auto y = root.get("spin_yield")) {
    std::string v = y->str();
    if (v == "always") h.spin_yield = HypervisorProfile::Yield::Always;
    else if (v != "if_preempted") y->fail("expected always or if_preempted, got '" + v + "'");
  }
  if (auto y = root.get("yield_ends_slice")) h.yield_ends_slice = y->boolean();
  if (auto w = root.get("halt_wakeup")) h.halt_wakeup = Dist::parse(*w);
  if (auto s = root.get("steal")) {
    if (s->is_seq()) {
      for (const auto& p : s->items())
        if (auto sp = parse_steal(p, true)) h.steal.push_back(*sp);
    } else if (auto sp = parse_steal(*s, false)) {
      h.steal.push_back(*sp);
    }
  }
  if (auto ipi = root.get("ipi")) {
    ipi->allow_keys({"extra_latency", "target_exit", "send_exit"});
    if (auto e = ipi->get("send_exit")) h.ipi_send_exit = Dist::parse(*e);
    if (auto e = ipi->get("extra_latency")) h.ipi_extra_latency = Dist::parse(*e);
    if (auto e = ipi->get("target_exit")) h.ipi_target_exit = Dist::parse(*e);
  }
  for (const char* key : {"remote_flush", "broadcast_sync"})
    if (auto rf = root.get(key)) {
      if (h.remote_flush.on) rf->fail("remote_flush (a hypercall's flush) and broadcast_sync (an emulator's) are two kinds of one flush: give one");
      rf->allow_keys({"send", "latency", "target_stall", "ack_latency"});
      auto& f = h.remote_flush;
      f.on = true;
      f.waits_for_stolen = std::string(key) == "broadcast_sync";
      f.send = Dist::parse(rf->at("send"));
      f.latency = Dist::parse(rf->at("latency"));
      f.target_stall = Dist::parse(rf->at("target_stall"));
      f.ack_latency = Dist::parse(rf->at("ack_latency"));
    }
  if (auto irqs = root.get("interrupts")) h.interrupts = parse_irqs(*irqs);
  if (auto x = root.get("interrupt_exits")) h.irq_extra = parse_costs(*x);
  if (auto c = root.get("costs")) h.costs = parse_costs(*c);
  return h;
}

}  // namespace racewin

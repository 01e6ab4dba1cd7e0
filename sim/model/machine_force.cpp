// Rare-event forcing: importance sampling of steal and interrupt arrivals inside race windows.
//
// A renewal process with interarrival hazard h(a) (a: the age of the current gap) is run, while
// its vCPU is in a forcing region, at intensity B h(a). A path's likelihood ratio, nominal law over
// forced law, is then  B^-n exp((B - 1) * sum over regions of [H(a_end) - H(a_start)])  for n
// forced arrivals, H the cumulative hazard: exact for any renewal process with a density, since
// the hazard is conditioned on the age. At each change of regime the pending arrival is redrawn
// from the gap's age under the new intensity (the residual of a hazard-driven process given no
// arrival so far), so the old timer is dropped by its generation.
//
// A vCPU is in a forcing region while its thread has a window open (or, for the guest task's
// wakeup under CONFIG_PREEMPT, preemption off in a thread that opens windows) and the process can
// matter there: the vCPU runs (not stolen, not halted); a steal source is not stealing; an interrupt
// source has none pending, IRQs are on and no handler runs. Left out: the one-nanosecond floor
// the model puts under an interrupt gap (forced draws ignore it: a bias of order 1 ns / mean gap).
#include <algorithm>
#include <cmath>

#include "model/machine.hpp"

namespace racewin {

const Dist& Machine::interarrival(size_t j) const {
  size_t k = cfg_.hypervisor.steal.size();
  return j < k ? cfg_.hypervisor.steal[j].interarrival : irq_sources_[j - k].interarrival;
}

bool Machine::forcible(size_t j) const {
  size_t k = cfg_.hypervisor.steal.size();
  if (j < k) return cfg_.hypervisor.steal[j].kind == StealProcess::Kind::Renewal && interarrival(j).has_hazard();
  const IrqSource& src = irq_sources_[j - k];
  if (src.aligned) return !phase_law_.empty() && tick_source(j - k);
  return src.first < 0 && src.interarrival.has_hazard();
}

void Machine::set_force(const std::vector<double>& factor, double cap, uint64_t max_arrivals, bool sample_nominal) {
  const size_t P = arrival_processes();
  if (P ? factor.empty() || factor.size() % P : !factor.empty()) throw std::invalid_argument("set_force: one factor per arrival process and stage");
  if (sampling_ != Sampling::kSample) throw std::invalid_argument("set_force: forcing needs sampled durations");
  force_ = factor;
  for (size_t i = 0; i < factor.size(); ++i) {
    if (!forcible(i % P) || factor[i % P] == 0) force_[i] = 0;
    else if (!(factor[i] > 0)) throw std::invalid_argument("set_force: a tracked process needs a positive factor in every stage");
  }
  exposure_.assign(factor.size(), 0);
  log_weight_ = 0;
  forced_arrivals_ = 0;
  forced_by_.clear();
  force_cap_ = cap;
  force_max_arrivals_ = max_arrivals;
  forced_h_ = 0;
  force_spent_ = false;
  force_nominal_ = sample_nominal;
  if (P) refresh_force();
}

// Back to the nominal law (a factor of 1 left the pending draws nominal already).
void Machine::clear_force() {
  for (size_t v = 0; v < vcpus_.size(); ++v)
    for (size_t j = 0; j < arrival_processes(); ++j) {
      Vcpu::Arrival& a = vcpus_[v].arrivals[j];
      if (a.forced && a.factor != 1 && !force_nominal_) rearm(int(v), j, 1, hazard_now(a, j));
      a.forced = false;
    }
  force_.clear();
}

double Machine::log_weight() const {
  double w = log_weight_;
  for (const Vcpu& c : vcpus_)
    for (size_t j = 0; j < c.arrivals.size(); ++j)
      if (c.arrivals[j].forced) w += (c.arrivals[j].factor - 1) * (hazard_now(c.arrivals[j], j) - c.arrivals[j].h0);
  return w;
}

std::vector<double> Machine::exposure() const {
  std::vector<double> e = exposure_;
  const size_t P = arrival_processes();
  for (const Vcpu& c : vcpus_)
    for (size_t j = 0; j < c.arrivals.size(); ++j)
      if (c.arrivals[j].forced) e[size_t(c.arrivals[j].stage) * P + j] += hazard_now(c.arrivals[j], j) - c.arrivals[j].h0;
  return e;
}

bool Machine::arrival_live(const Timer& t) const {
  size_t j = t.kind == Timer::StealStart ? size_t(t.arg) : cfg_.hypervisor.steal.size() + size_t(t.arg);
  return t.gen == vcpus_[size_t(t.vcpu)].arrivals[j].gen;
}

// The region's weight and exposure, at the factor and in the stage it ran.
void Machine::close_region(Vcpu::Arrival& a, size_t j, double h) {
  double dh = h - a.h0;
  exposure_[size_t(a.stage) * arrival_processes() + j] += dh;
  forced_h_ += a.factor * dh;
  log_weight_ += (a.factor - 1) * dh;
  a.forced = false;
}

// A live arrival: a forced region it came in ends with it (its age resets), and so does the stage.
void Machine::arrived(int v, size_t j) {
  Vcpu::Arrival& a = vcpus_[size_t(v)].arrivals[j];
  if (!a.forced) return;
  close_region(a, j, hazard_now(a, j));
  log_weight_ -= std::log(a.factor);
  ++forced_arrivals_;
  forced_by_.push_back(int(j));
}

bool Machine::want_force(int v, size_t j) const {
  const Vcpu& c = vcpus_[size_t(v)];
  if (force_spent_ || c.thread < 0 || c.stolen || halted(c)) return false;
  // A window open on this vCPU; for the deferred task wakeup (deferred_process()), also preemption
  // off in a thread that opens windows: its wakeup waits for a preemption point inside one.
  bool window = threads_[size_t(c.thread)].open_windows > 0;
  bool deferred = int(j) == deferred_process() && opens_window_[size_t(c.thread)] && c.preempt > 0;
  if (!window && !deferred) return false;
  size_t k = cfg_.hypervisor.steal.size();
  const std::vector<int>& only = j < k ? cfg_.hypervisor.steal[j].vcpus : irq_sources_[j - k].vcpus;
  if (!applies_to(only, v)) return false;  // not on this vCPU
  if (j < k) return c.steal_on[j] == 0;
  if (irq_sources_[j - k].aligned && !c.arrivals[j].rephased) return false;  // its phase is fixed
  return c.irq_on && c.handlers.empty() && !c.irq_pending[j - k];
}

// The pending arrival of process j on v, redrawn from the gap's age (cumulative hazard h) at
// `factor` times its hazard: the next arrival is where H has grown by Exp(1) / factor.
void Machine::rearm(int v, size_t j, double factor, double h) {
  Vcpu& c = vcpus_[size_t(v)];
  size_t k = cfg_.hypervisor.steal.size();
  Rng& r = j < k ? c.steal_gap_rngs[j] : c.irq_gap_rngs[j - k];
  double e = -std::log(r.uniform_open());
  Time from = c.arrivals[j].gap_from;
  double at = from + gap_law(c.arrivals[j], j).inv_cum_hazard(h + e / factor);
  ++c.arrivals[j].gen;
  eng_.schedule(std::max(at, eng_.now()), arrival_timer(v, j, from));
}

void Machine::refresh_force() {
  const size_t P = arrival_processes(), stage = std::min<size_t>(forced_arrivals_, force_.size() / P - 1);
  if (force_cap_ > 0 && !force_spent_) {
    double h = forced_h_;
    for (const Vcpu& c : vcpus_)
      for (size_t j = 0; j < P; ++j)
        if (c.arrivals[j].forced) h += c.arrivals[j].factor * (hazard_now(c.arrivals[j], j) - c.arrivals[j].h0);
    force_spent_ = h >= force_cap_ * (1 - 1e-9);  // the cap's timer fires at the crossing, up to rounding
  }
  if (force_max_arrivals_ && forced_arrivals_ >= force_max_arrivals_) force_spent_ = true;
  bool changed = false;
  for (size_t v = 0; v < vcpus_.size(); ++v) {
    Vcpu& c = vcpus_[v];
    for (size_t j = 0; j < P; ++j) {
      if (force_[j] == 0) continue;
      Vcpu::Arrival& a = c.arrivals[j];
      bool want = want_force(int(v), j);
      double b = force_[stage * P + j];
      if (want == a.forced && (!want || (a.factor == b && size_t(a.stage) == stage))) continue;
      changed = true;
      // The factor the pending draw was made at, and the one it needs now (1 throughout when the
      // path keeps the nominal law: only the bookkeeping changes).
      double h = hazard_now(a, j), armed = a.forced && !force_nominal_ ? a.factor : 1;
      if (a.forced) close_region(a, j, h);  // a new stage closes it at the old factor and reopens it
      if (want) a.forced = true, a.h0 = h, a.factor = b, a.stage = int(stage);
      double now = want && !force_nominal_ ? b : 1;
      if (now != armed) rearm(int(v), j, now, h);
    }
  }
  if (changed && force_cap_ > 0 && !force_spent_) schedule_cap();
}

// A timer where the forced arrivals expected reach the cap, with the regions open now; a change
// of regions schedules another (an early one finds the cap not reached, and does nothing).
void Machine::schedule_cap() {
  struct Open {
    const Vcpu::Arrival* a;
    size_t j;
  };
  std::vector<Open> open;
  double h = forced_h_;
  for (const Vcpu& c : vcpus_)
    for (size_t j = 0; j < c.arrivals.size(); ++j)
      if (c.arrivals[j].forced) {
        open.push_back({&c.arrivals[j], j});
        h += c.arrivals[j].factor * (hazard_now(c.arrivals[j], j) - c.arrivals[j].h0);
      }
  if (open.empty()) return;
  const double left = force_cap_ - h;
  // Each region alone reaching the cap bounds the crossing; with one region that is the crossing.
  double hi = kForever;
  for (const Open& o : open)
    hi = std::min(hi, o.a->gap_from + interarrival(o.j).inv_cum_hazard(hazard_now(*o.a, o.j) + left / o.a->factor));
  double lo = eng_.now();
  if (open.size() > 1 && std::isfinite(hi))
    for (int i = 0; i < 60 && hi - lo > 1e-6; ++i) {
      double mid = (lo + hi) / 2, g = forced_h_;
      for (const Open& o : open) g += o.a->factor * (interarrival(o.j).cum_hazard(mid - o.a->gap_from) - o.a->h0);
      (g >= force_cap_ ? hi : lo) = mid;
    }
  if (std::isfinite(hi)) eng_.schedule(std::max(hi, eng_.now()), Timer{Timer::ForceCap, 0, 0, 0});
}

}  // namespace racewin

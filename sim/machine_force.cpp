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
// A vCPU is in a forcing region while its thread has a window open and the process can matter
// there: the vCPU runs (not stolen, not halted); a steal source is not stealing; an interrupt
// source has none pending, IRQs are on and no handler runs. Left out: the one-nanosecond floor
// the model puts under an interrupt gap (forced draws ignore it: a bias of order 1 ns / mean gap).
#include <algorithm>
#include <cmath>

#include "machine.hpp"

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

void Machine::set_force(const std::vector<double>& factor, double cap, uint64_t max_arrivals) {
  if (factor.size() != arrival_processes()) throw std::invalid_argument("set_force: one factor per arrival process");
  if (sampling_ != Sampling::kSample) throw std::invalid_argument("set_force: forcing needs sampled durations");
  force_ = factor;
  for (size_t j = 0; j < factor.size(); ++j)
    if (!forcible(j)) force_[j] = 0;
  exposure_.assign(factor.size(), 0);
  log_weight_ = 0;
  forced_arrivals_ = 0;
  force_cap_ = cap;
  force_max_arrivals_ = max_arrivals;
  forced_h_ = 0;
  force_spent_ = false;
  refresh_force();
}

// Back to the nominal law (a factor of 1 left the pending draws nominal already).
void Machine::clear_force() {
  for (size_t v = 0; v < vcpus_.size(); ++v)
    for (size_t j = 0; j < force_.size(); ++j) {
      Vcpu::Arrival& a = vcpus_[v].arrivals[j];
      if (a.forced && force_[j] != 1) rearm(int(v), j, 1, hazard_now(a, j));
      a.forced = false;
    }
  force_.clear();
}

double Machine::log_weight() const {
  double w = log_weight_;
  for (const Vcpu& c : vcpus_)
    for (size_t j = 0; j < force_.size(); ++j)
      if (c.arrivals[j].forced) w += (force_[j] - 1) * (hazard_now(c.arrivals[j], j) - c.arrivals[j].h0);
  return w;
}

bool Machine::arrival_live(const Timer& t) const {
  size_t j = t.kind == Timer::StealStart ? size_t(t.arg) : cfg_.hypervisor.steal.size() + size_t(t.arg);
  return t.gen == vcpus_[size_t(t.vcpu)].arrivals[j].gen;
}

// A live arrival: a forced region it came in ends with it (its age resets).
void Machine::arrived(int v, size_t j) {
  Vcpu::Arrival& a = vcpus_[size_t(v)].arrivals[j];
  if (!a.forced) return;
  double dh = hazard_now(a, j) - a.h0;
  exposure_[j] += dh;
  forced_h_ += force_[j] * dh;
  log_weight_ += (force_[j] - 1) * dh - std::log(force_[j]);
  a.forced = false;
  ++forced_arrivals_;
}

bool Machine::want_force(int v, size_t j) const {
  const Vcpu& c = vcpus_[size_t(v)];
  if (force_spent_ || c.thread < 0 || threads_[size_t(c.thread)].open_windows == 0 || c.stolen || halted(c)) return false;
  size_t k = cfg_.hypervisor.steal.size();
  const std::vector<int>& only = j < k ? cfg_.hypervisor.steal[j].vcpus : irq_sources_[j - k].vcpus;
  if (!only.empty() && std::find(only.begin(), only.end(), v) == only.end()) return false;  // not on this vCPU
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
  if (force_cap_ > 0 && !force_spent_) {
    double h = forced_h_;
    for (const Vcpu& c : vcpus_)
      for (size_t j = 0; j < force_.size(); ++j)
        if (c.arrivals[j].forced) h += force_[j] * (hazard_now(c.arrivals[j], j) - c.arrivals[j].h0);
    force_spent_ = h >= force_cap_;
  }
  if (force_max_arrivals_ && forced_arrivals_ >= force_max_arrivals_) force_spent_ = true;
  for (size_t v = 0; v < vcpus_.size(); ++v) {
    Vcpu& c = vcpus_[v];
    for (size_t j = 0; j < force_.size(); ++j) {
      if (force_[j] == 0) continue;
      Vcpu::Arrival& a = c.arrivals[j];
      bool want = want_force(int(v), j);
      if (want == a.forced) continue;
      double h = hazard_now(a, j);
      if (a.forced) {
        double dh = h - a.h0;
        exposure_[j] += dh;
        forced_h_ += force_[j] * dh;
        log_weight_ += (force_[j] - 1) * dh;
        a.forced = false;
        if (force_[j] != 1) rearm(int(v), j, 1, h);
      } else {
        a.forced = true;
        a.h0 = h;
        if (force_[j] != 1) rearm(int(v), j, force_[j], h);
      }
    }
  }
}

}  // namespace racewin

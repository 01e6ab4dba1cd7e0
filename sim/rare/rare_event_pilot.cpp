// Rare-event forcing: the pilots that set the factors (sim/rare/rare_event.hpp, docs/rare-events.md).
// A nominal pilot measures each process's exposure inside windows (stage 0); forced pilots measure
// stage 1's exposure and which processes carry the weighted hits; where no process with a density
// reaches the windows, the periodic ticks are forced with their phase drawn afresh. None of the
// pilots' iterations is part of the estimate.
#include <algorithm>
#include <cmath>

#include "engines/native_engine.hpp"
#include "rare/rare_event.hpp"

namespace racewin {

// No process with a density reaches the windows: force the periodic ticks instead, their phase
// drawn afresh at each branch point (machine_tick_phase.cpp). A tick's exposure in a window
// iteration is its cumulative hazard over the windows, -log(1 - a/T) ~ a/T for the time a < T the
// windows were open: from the pilot's closed windows.
size_t ForcingDriver::tick_phase(Machine& m, std::vector<double>& e) {
  double open = 0;
  for (const WindowStats& w : m.windows()) open += w.length_sum;
  open /= double(out_.window_iterations);
  const size_t k = cfg_.hypervisor.steal.size();
  size_t live = 0;
  for (size_t j = k; j < e.size(); ++j)
    if (m.tick_source(j - k) && open > 0) {
      double period = m.interarrival(j).mean();
      e[j] = -std::log1p(-std::min(open, period / 2) / period);
      ++live;
    }
  if (live) {
    m.enable_tick_phase();
    out_.tick_phase = true;
  }
  return live;
}

void ForcingDriver::end_pilot(Machine& m) {
  out_.pilot = m.iterations();
  std::vector<double> e = m.exposure();
  m.clear_force();
  const size_t P = e.size();
  size_t live = 0;
  out_.stages = 1;
  out_.exposure.assign(P, 0);
  for (size_t j = 0; j < P; ++j) {
    out_.exposure[j] = out_.window_iterations ? e[j] / double(out_.window_iterations) : 0;
    if (out_.exposure[j] > 0) ++live;
  }
  if (pilot_windows_ && live == 0) live = tick_phase(m, out_.exposure);
  out_.factor.assign(P, 1);
  if (pilot_windows_ == 0)
    out_.note = "no window opened in the pilot's " + std::to_string(out_.pilot) + " iterations: crude Monte Carlo";
  else if (live == 0)
    out_.note = "no steal or interrupt process with a density can arrive inside a window: crude Monte Carlo";
  else {
    out_.stages = 2;
    out_.exposure.resize(2 * P, 0), out_.factor.resize(2 * P, 1);
    set_factors({});
    forcing_ = std::any_of(out_.factor.begin(), out_.factor.begin() + long(P), [](double f) { return f > 1; });
    if (!forcing_) out_.note = "windows see arrivals often enough already: nothing sped up (crude Monte Carlo)";
  }
  if (!forcing_) {
    out_.factor.resize(P), out_.exposure.resize(P), out_.stages = 1;
    phase_ = Phase::Estimate, pilot_done_ = true, main_events_at_pilot_ = m.events();
    return;
  }
  // Stage 1's exposure is measured with stage 1 nominal (tracked at a factor of 1).
  phase_ = Phase::Exposure;
  for (size_t j = 0; j < P; ++j) out_.factor[P + j] = 1;
  stage_exposure_.assign(2 * P, 0);
  hit_weight_.assign(2 * P, 0);
  start_phase(m);
}

// A forced pilot takes at most a twentieth of the iteration or time budget.
void ForcingDriver::start_phase(const Machine& m) {
  phase_branches_ = phase_arrivals_ = 0;
  phase_end_iteration_ = cfg_.limits.iterations ? m.iterations() + std::max<uint64_t>(cfg_.limits.iterations / 20, 1) : UINT64_MAX;
  phase_end_time_ = cfg_.limits.time_ns > 0 ? now_ + cfg_.limits.time_ns / 20 : kForever;
}

bool ForcingDriver::phase_over(const Machine& m) const {
  if (m.iterations() >= phase_end_iteration_ || now_ >= phase_end_time_) return true;
  if (phase_ == Phase::Exposure) return phase_arrivals_ >= opt_.stage_pilot || phase_branches_ >= 20 * opt_.stage_pilot;
  return phase_ == Phase::Shares && phase_branches_ >= opt_.share_pilot;
}

// Stage s gives process j a share of its `arrivals` forced arrivals: factor = arrivals x share /
// exposure. A stage whose exposure is unknown (no pilot branch reached it) keeps stage 0's factors.
void ForcingDriver::set_factors(const std::vector<double>& share) {
  const size_t P = out_.processes.size();
  for (size_t s = 0; s < out_.stages; ++s) {
    size_t live = 0;
    for (size_t j = 0; j < P; ++j) live += out_.exposure[s * P + j] > 0;
    for (size_t j = 0; j < P; ++j) {
      double e = out_.exposure[s * P + j], sh = share.empty() ? 1.0 / double(live) : share[s * P + j];
      out_.factor[s * P + j] = live == 0 ? out_.factor[j] : e > 0 ? std::max(1.0, opt_.arrivals * sh / e) : 1;
    }
  }
}

void ForcingDriver::next_phase(Machine& m) {
  const size_t P = out_.processes.size();
  auto live = [&](size_t s) {
    size_t n = 0;
    for (size_t j = 0; j < P; ++j) n += out_.exposure[s * P + j] > 0;
    return n;
  };
  if (phase_ == Phase::Exposure) {
    for (size_t j = 0; j < P; ++j) out_.exposure[P + j] = phase_arrivals_ ? stage_exposure_[P + j] / double(phase_arrivals_) : 0;
    set_factors({});
    phase_ = live(0) > 1 || live(1) > 1 ? Phase::Shares : Phase::Estimate;  // one process: its share is 1
  } else {
    std::vector<double> share(2 * P, 0);
    out_.hit_share.assign(2 * P, 0);
    for (size_t s = 0; s < 2; ++s) {
      double total = 0;
      for (size_t j = 0; j < P; ++j) total += hit_weight_[s * P + j];
      for (size_t j = 0; j < P; ++j) {
        if (out_.exposure[s * P + j] == 0) continue;
        out_.hit_share[s * P + j] = total > 0 ? hit_weight_[s * P + j] / total : 0;
        share[s * P + j] = total > 0 ? (1 - opt_.floor_share) * out_.hit_share[s * P + j] + opt_.floor_share / double(live(s))
                                     : 1.0 / double(live(s));
      }
    }
    set_factors(share);
    phase_ = Phase::Estimate;
  }
  start_phase(m);
  if (phase_ == Phase::Estimate) {
    pilot_done_ = true, out_.pilot = m.iterations(), main_events_at_pilot_ = m.events();
    // The defensive share: as asked, or the share pilot's weight of hits that needed no forced
    // arrival (the part of P forcing cannot speed up), within [0.1, 0.5].
    double nostall = pilot_hit_weight_ > 0 ? pilot_nostall_weight_ / pilot_hit_weight_ : 0;
    alpha_ = opt_.defensive >= 0 ? opt_.defensive : std::clamp(nostall, 0.1, 0.5);
  }
}

// What a forced pilot's branch tells: stage 1's exposure, or which processes a hit came through.
void ForcingDriver::pilot_branch(const Machine& b, bool hit) {
  const size_t P = out_.processes.size();
  ++phase_branches_;
  if (phase_ == Phase::Exposure && b.forced_arrivals() > 0) {
    ++phase_arrivals_;
    std::vector<double> e = b.exposure();
    for (size_t j = 0; j < P; ++j) stage_exposure_[P + j] += e[P + j];
  }
  if (phase_ == Phase::Shares && hit) {
    ++out_.pilot_hits;
    double w = std::exp(b.log_weight());
    pilot_hit_weight_ += w;
    if (b.forced_arrivals() == 0) pilot_nostall_weight_ += w;  // a hit that needed no forced arrival
    for (size_t s = 0; s < std::min<size_t>(2, b.forced_by().size()); ++s) hit_weight_[s * P + size_t(b.forced_by()[s])] += w;
  }
}

}  // namespace racewin

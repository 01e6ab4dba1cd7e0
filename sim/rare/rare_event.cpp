#include "rare/rare_event.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "base/rng.hpp"
#include "engines/native_engine.hpp"
#include "model/machine.hpp"

namespace racewin {

namespace {
constexpr uint64_t kMaxBranchEvents = uint64_t(1) << 28;  // a branch that long is a model error
constexpr uint64_t kCalibrationIterations = 64;  // window iterations with one branch each, to time them
constexpr uint64_t kMaxBranchesPerWindow = 64;
constexpr double kBranchWorkShare = 0.25;  // of the main run's work, at most, spent on extra branches
}  // namespace

ForcingDriver::ForcingDriver(const CaseConfig& cfg, const ForceOptions& opt, std::vector<size_t> targets)
    : cfg_(cfg), opt_(opt), targets_(std::move(targets)) {
  const size_t builtin = builtin_hazards().size();
  estimated_.assign(builtin + cfg.names.windows.size(), 0);
  for (size_t h : targets_) estimated_.at(h) = 1;
  std::vector<uint8_t> hittable(cfg.names.windows.size(), 0);
  for (const auto& t : cfg.threads)
    for (const auto& st : t.path.steps)
      if (st.op == Op::WindowHit) hittable[size_t(st.obj)] = 1;
  targets_.erase(std::remove_if(targets_.begin(), targets_.end(), [&](size_t h) { return h >= builtin && !hittable[h - builtin]; }),
                 targets_.end());
}
ForcingDriver::~ForcingDriver() = default;

// Runs one forced copy of `m` to the end of its iteration: a pilot's branch, or one whose
// contribution / k goes to y_. False if interrupted (then nothing is recorded for the iteration).
bool ForcingDriver::one_branch(Machine& m, NativeEngine& eng, RunControl& control, double k) {
  if (!bm_) {
    beng_ = std::make_unique<NativeEngine>(eng);
    bm_ = std::make_unique<Machine>(m, *beng_);
    if (first_hits_) bm_->on_trace = [r = first_hits_](const TraceEvent& e) { r->record(e); };
  } else {
    *beng_ = eng;
    bm_->assign_state(m);
  }
  Machine& b = *bm_;
  std::vector<double> factor = out_.factor;
  for (size_t j = 0; j < factor.size(); ++j)
    if (out_.exposure[j % out_.processes.size()] == 0) factor[j] = 0;  // cannot arrive in a window: not tracked
  uint64_t x = cfg_.seed ^ (0x7f4a7c159e3779b9ULL * (out_.branches + out_.pilot_branches + 1));
  b.reseed(splitmix64(x));  // the main run's streams hold its own future: a branch needs its own
  if (out_.tick_phase) b.rephase_ticks(b.window_vcpu());
  // The defensive mixture's draw: this branch keeps the nominal law, or is forced (a pilot's is).
  bool nominal = false;
  if (phase_ == Phase::Estimate && alpha_ > 0) {
    uint64_t y = x ^ 0x5bd1e9955bd1e995ULL;
    nominal = double(splitmix64(y) >> 11) * 0x1.0p-53 < alpha_;
  }
  b.set_force(factor, opt_.cap_factor * opt_.arrivals, opt_.max_arrivals, nominal);
  if (first_hits_) first_hits_->begin_branch();
  const size_t nh = m.hazards().size();
  std::vector<uint64_t> hits0(nh);
  for (size_t h = 0; h < nh; ++h) hits0[h] = b.hazards()[h].iterations_hit;
  const uint64_t it0 = b.iterations(), ev0 = b.events();
  auto all_hit = [&] {
    for (size_t h : targets_)
      if (!b.iteration_hit(h)) return false;
    return !targets_.empty();
  };
  while (b.iterations() == it0 && !b.finished() && !all_hit() && beng_->step(b)) {
    uint64_t ev = b.events() - ev0;
    if ((ev & 0xffff) == 0 && control.stop_requested()) {  // the iteration is not recorded
      control.interrupted = true;
      if (first_hits_) first_hits_->end_branch(std::exp(b.log_weight()), beng_->now());
      return false;
    }
    if (ev > kMaxBranchEvents) throw ModelError("a forced branch ran " + std::to_string(ev) + " events without ending its iteration");
  }
  // Nominal over proposal density: exp(log_weight) for pure forcing; for the mixture
  // alpha p + (1 - alpha) q, 1 / (alpha + (1 - alpha) q/p) whichever part drew the path.
  const double lw = b.log_weight();
  double w = phase_ == Phase::Estimate && alpha_ > 0 ? 1 / (alpha_ + (1 - alpha_) * std::exp(-lw)) : std::exp(lw);
  if (first_hits_) first_hits_->end_branch(w, beng_->now());
  bool ended = b.iterations() != it0, any = false;
  if (phase_ != Phase::Estimate) {
    ++out_.pilot_branches;
    out_.pilot_events += b.events() - ev0;
    bool hit = false;
    for (size_t h : targets_) hit = hit || (!m.iteration_hit(h) && (b.hazards()[h].iterations_hit > hits0[h] || (!ended && b.iteration_hit(h))));
    pilot_branch(b, hit);
    return true;
  }
  ++out_.branches;
  out_.branch_events += b.events() - ev0;
  if (b.forced_arrivals()) ++out_.forced_arrival_branches;
  for (size_t h = 0; h < nh; ++h) {
    bool hit = b.hazards()[h].iterations_hit > hits0[h] || (!ended && b.iteration_hit(h));
    if (m.iteration_hit(h)) y_[h] += 1 / k;  // hit before the branch point: no weight
    else if (hit) {
      y_[h] += w / k, any = true;
      if (!b.forced_arrivals()) y_unforced_[h] += w / k;
    }
  }
  if (any) weight_hit_sum_ += w, ++weight_hit_n_, max_weight_hit_ = std::max(max_weight_hit_, w);
  return true;
}

// k forced copies of the iteration from its first open window, their contributions averaged: a
// window iteration of the main run can cost far more events than a branch (it is rare), so each
// is used k times. k is 1 for the first kCalibrationIterations, then, from the costs so far, a
// quarter of the main run's events per window iteration over a branch's events (at most 25% more
// work; more pays only where the branch's own randomness, not the state at the window's opening,
// makes the variance), at most kMaxBranchesPerWindow. It depends on event counts only. A pilot's
// branch is one copy.
void ForcingDriver::branch(Machine& m, NativeEngine& eng, RunControl& control) {
  uint64_t k = 1;
  if (phase_ == Phase::Estimate) {
    if (window_branched_ >= kCalibrationIterations) {  // kept up to date: windows can come in bursts
      double main = double(m.events() - main_events_at_pilot_) / double(window_branched_);
      double one = double(out_.branch_events) / double(std::max<uint64_t>(out_.branches, 1));
      out_.branches_per_window = uint64_t(std::clamp(std::floor(kBranchWorkShare * main / std::max(one, 1.0)), 1.0, double(kMaxBranchesPerWindow)));
      k = out_.branches_per_window;
    }
    ++window_branched_;
    y_.assign(m.hazards().size(), 0);
    y_unforced_.assign(m.hazards().size(), 0);
  }
  for (uint64_t r = 0; r < k; ++r)
    if (!one_branch(m, eng, control, double(k))) return;
  branched_ = true;
}

void ForcingDriver::end_iteration(const Machine& m) {
  const size_t nh = m.hazards().size();
  std::vector<double> crude(nh);
  for (size_t h = 0; h < nh; ++h) {
    uint64_t now = m.hazards()[h].iterations_hit;
    crude[h] = now > hits_at_start_[h] ? 1 : 0;
    if (pilot_done_) main_hits_[h] += now > hits_at_start_[h] ? 1 : 0;
    hits_at_start_[h] = now;
  }
  if (pilot_done_) {  // the pilot is a warm-up: its iterations would mix crude and forced variances
    stats_.add(branched_ ? y_ : crude);
    if (branched_ && y_unforced_.size() == nh)
      for (size_t h = 0; h < nh; ++h) unforced_sum_[h] += y_unforced_[h], unforced_seen_[h] += y_unforced_[h] > 0;
    for (uint64_t k = iteration_ + 1; k < m.iterations(); ++k) stats_.add(std::vector<double>(nh, 0));  // ended at once
  }
  iteration_ = m.iterations();
  branched_ = false;
}

void ForcingDriver::run(Machine& m, NativeEngine& eng, RunControl& control) {
  const size_t nh = m.hazards().size();
  stats_ = BatchMeans(nh);
  main_hits_.assign(nh, 0);
  hits_at_start_.assign(nh, 0);
  unforced_sum_.assign(nh, 0), unforced_seen_.assign(nh, 0);
  for (size_t j = 0; j < m.arrival_processes(); ++j) {
    size_t k = cfg_.hypervisor.steal.size();
    out_.processes.push_back(j < k ? "steal:" + cfg_.hypervisor.steal[j].name : "irq:" + interrupt_sources(cfg_)[j - k].name);
  }
  for (const auto& h : m.hazards()) names_.push_back(h.name);
  m.start();
  m.set_force(std::vector<double>(m.arrival_processes(), 1));  // the pilot: measure, change nothing
  uint64_t pilot_end = opt_.pilot_iterations;
  if (cfg_.limits.iterations) pilot_end = std::min(pilot_end, std::max<uint64_t>(cfg_.limits.iterations / 10, 1));
  uint64_t n = 0;
  bool window_seen = false, real_seen = false;  // in this iteration (pilot): armed, a window open
  while (!m.finished() && eng.step(m, cfg_.limits.time_ns)) {
    if (m.iterations() != iteration_) {
      end_iteration(m);
      window_seen = real_seen = false;
      now_ = eng.now();
      if (phase_ == Phase::Nominal && m.iterations() >= pilot_end) end_pilot(m);
      else if (phase_ != Phase::Nominal && phase_ != Phase::Estimate && phase_over(m)) next_phase(m);
    }
    // The branch point: a window open, or (Machine::armed) the section before one where a
    // deferred wakeup can still switch its thread out inside it. Asked only while it matters:
    // once an iteration is counted or branched, not again on each of its events.
    const bool counting = phase_ == Phase::Nominal && !window_seen, branching = phase_ != Phase::Nominal && forcing_ && !branched_;
    if ((counting || branching) && m.armed()) {
      if (counting) window_seen = true, ++out_.window_iterations;
      else branch(m, eng, control);
    }
    if (phase_ == Phase::Nominal && !real_seen && m.open_windows() > 0) real_seen = true, ++pilot_windows_;
    if ((++n & 0xffff) == 0) {  // a checkpoint, as the native engine's
      m.check_progress();
      out_.main_events = m.events();
      if (pilot_done_ && forcing_) check_gain(false);
      if (control.progress) control.progress(eng.now());
      if (pilot_done_ && control.should_stop && control.should_stop(m)) {
        control.stopped = true;
        break;
      }
    }
    if (control.interrupted || ((n & 0xffff) == 0 && control.stop_requested())) {
      control.interrupted = true;
      break;
    }
  }
  if (phase_ == Phase::Nominal) end_pilot(m);
  out_.main_events = m.events();
  if (pilot_done_ && forcing_ && !control.stopped) check_gain(true);
}

// Forcing pays only if its variance per unit of work is below crude Monte Carlo's. Where most of P
// needs no stall (another thread's step lands in the open window), branches cost work and find
// little: the estimate's gain, measured from its batches, says so, and from then on the main run's
// own counts (a crude run throughout) are the estimate.
void ForcingDriver::check_gain(bool at_end) {
  if (!opt_.fallback) return;
  double worst = 0;
  for (size_t h : targets_) {
    ForcedHazard e = estimate(h);
    if (e.gain > 0 && (at_end || e.ess >= 3) && (worst == 0 || e.gain < worst)) worst = e.gain;
  }
  if (worst == 0 || worst >= 1) return;
  forcing_ = false;
  out_.fallback_gain = worst, out_.fallback_at = window_branched_;
  out_.note = fmt::format("forcing's gain over crude Monte Carlo measured {:.3g} after {} window iterations: crude Monte Carlo "
                          "from then on, the main run's own counts",
                          worst, window_branched_);
}

ForcedHazard ForcingDriver::estimate(size_t h) const {
  ForcedHazard r;
  r.name = h < names_.size() ? names_[h] : "";
  if (!forcing_ || !estimated_[h]) {  // crude, exact
    r.crude = true;
    r.p = stats_.n() ? double(main_hits_[h]) / double(stats_.n()) : 0;
    r.nonzero = main_hits_[h];
    r.ess = double(main_hits_[h]);
    r.ci = r.ci_t = binomial_interval(main_hits_[h], stats_.n());
    return r;
  }
  r.p = stats_.mean(h);
  r.nonzero = stats_.nonzero(h);
  r.ess = stats_.ess(h);
  // The variance per iteration as the batches show it (correlated contributions count as what
  // they are), the records' own before two batches exist.
  r.variance = stats_.batch_variance(h) > 0 ? stats_.batch_variance(h) : stats_.variance(h);
  // The main run is a crude run of the nominal law throughout (the pilots' iterations too): its own
  // bound holds for all of P (the interval where no branch was hit) and for any part of it
  // (unforced_hi below).
  const Interval crude = binomial_interval(hits_at_start_[h], iteration_);
  r.ci = r.nonzero ? stats_.interval(h) : crude;
  r.ci_t = r.nonzero ? stats_.interval_t(h) : r.ci;
  double iters = double(std::max<uint64_t>(stats_.n(), 1));
  r.unforced_p = unforced_sum_[h] / iters, r.unforced_seen = unforced_seen_[h];
  r.unforced_hi = std::min(crude.hi, alpha_ > 0 ? binomial_interval(unforced_seen_[h], stats_.n()).hi / alpha_ : 1.0);
  double crude_cost = double(out_.main_events) / iters, cost = double(out_.main_events + out_.branch_events) / iters;
  if (r.variance > 0 && cost > 0) r.gain = r.p * (1 - r.p) * crude_cost / (r.variance * cost);
  return r;
}

ForcedRun ForcingDriver::result() const {
  ForcedRun r = out_;
  for (size_t h = 0; h < names_.size(); ++h) r.hazards.push_back(estimate(h));
  r.mean_weight_hit = weight_hit_n_ ? weight_hit_sum_ / double(weight_hit_n_) : 0;
  r.defensive = alpha_;
  r.max_weight_hit = max_weight_hit_;
  return r;
}

}  // namespace racewin

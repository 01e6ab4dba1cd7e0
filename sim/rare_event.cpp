#include "rare_event.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "first_hit.hpp"
#include "native_engine.hpp"

namespace racewin {

namespace {
constexpr size_t kMaxBatches = 64;
constexpr uint64_t kMaxBranchEvents = uint64_t(1) << 28;  // a branch that long is a model error
constexpr uint64_t kCalibrationIterations = 64;  // window iterations with one branch each, to time them
constexpr uint64_t kMaxBranchesPerWindow = 64;
constexpr double kBranchWorkShare = 0.25;  // of the main run's work, at most, spent on extra branches
}  // namespace

ForceOptions ForceOptions::parse(const std::string& method) {
  ForceOptions o;
  if (method == "force") return o;
  const std::string pre = "force:";
  if (method.rfind(pre, 0) == 0) {
    size_t used = 0;
    try {
      o.arrivals = std::stod(method.substr(pre.size()), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == method.size() - pre.size() && o.arrivals > 0 && std::isfinite(o.arrivals)) return o;
  }
  throw std::invalid_argument("--rare-event " + method +
                              ": expected 'force' or 'force:X' with X > 0, the forced arrivals per iteration");
}

BatchMeans::BatchMeans(size_t hazards) : h_(hazards), sum_(hazards), sumsq_(hazards), cur_(hazards), nonzero_(hazards) {}

void BatchMeans::add(const std::vector<double>& y) {
  ++n_;
  for (size_t h = 0; h < h_; ++h) {
    sum_[h] += y[h], sumsq_[h] += y[h] * y[h], cur_[h] += y[h];
    if (y[h] != 0) ++nonzero_[h];
  }
  if (++in_cur_ < size_) return;
  for (size_t h = 0; h < h_; ++h) batches_.push_back(cur_[h] / double(size_)), cur_[h] = 0;
  in_cur_ = 0;
  if (batches_.size() < kMaxBatches * h_) return;
  for (size_t b = 0; b < kMaxBatches / 2; ++b)  // full: pairs of batches become one, twice as long
    for (size_t h = 0; h < h_; ++h) batches_[b * h_ + h] = (batches_[2 * b * h_ + h] + batches_[(2 * b + 1) * h_ + h]) / 2;
  batches_.resize(kMaxBatches / 2 * h_);
  size_ *= 2;
}

double BatchMeans::mean(size_t h) const {
  size_t b = batches_.size() / std::max<size_t>(h_, 1);
  if (b < 2) return n_ ? sum_[h] / double(n_) : 0;
  double s = 0;
  for (size_t i = 0; i < b; ++i) s += batches_[i * h_ + h];
  return s / double(b);
}

double BatchMeans::variance(size_t h) const {
  if (n_ < 2) return 0;
  double m = sum_[h] / double(n_);
  return std::max(0.0, (sumsq_[h] - double(n_) * m * m) / double(n_ - 1));
}

Interval BatchMeans::interval(size_t h) const {
  size_t b = batches_.size() / std::max<size_t>(h_, 1);
  double m = mean(h);
  if (b < 2) return {0, std::numeric_limits<double>::infinity()};
  double bm = 0, ss = 0;
  for (size_t i = 0; i < b; ++i) bm += batches_[i * h_ + h];
  bm /= double(b);
  for (size_t i = 0; i < b; ++i) ss += std::pow(batches_[i * h_ + h] - bm, 2);
  double half = t_quantile(double(b - 1)) * std::sqrt(ss / double(b - 1) / double(b));
  return {std::max(0.0, m - half), m + half};
}

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
  pilot_done_ = true;
  out_.pilot = m.iterations();
  main_events_at_pilot_ = m.events();
  std::vector<double> e = m.exposure();
  m.clear_force();
  size_t live = 0;
  for (size_t j = 0; j < e.size(); ++j) {
    e[j] = out_.window_iterations ? e[j] / double(out_.window_iterations) : 0;
    if (e[j] > 0) ++live;
  }
  if (out_.window_iterations && live == 0) live = tick_phase(m, e);
  out_.exposure = e;
  out_.factor.assign(e.size(), 1);
  if (out_.window_iterations == 0) {
    out_.note = "no window opened in the pilot's " + std::to_string(out_.pilot) + " iterations: crude Monte Carlo";
    return;
  }
  if (live == 0) {
    out_.note = "no steal or interrupt process with a density can arrive inside a window: crude Monte Carlo";
    return;
  }
  for (size_t j = 0; j < e.size(); ++j)
    if (e[j] > 0) out_.factor[j] = std::max(1.0, opt_.arrivals / double(live) / e[j]);
  forcing_ = std::any_of(out_.factor.begin(), out_.factor.end(), [](double f) { return f > 1; });
  if (!forcing_) out_.note = "windows see arrivals often enough already: nothing sped up (crude Monte Carlo)";
}

// Runs one forced copy of `m` to the end of its iteration and adds its contribution / k to y_;
// false if interrupted (then nothing is recorded for the iteration).
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
    if (out_.exposure[j] == 0) factor[j] = 0;  // cannot arrive in a window: not tracked
  uint64_t x = cfg_.seed ^ (0x7f4a7c159e3779b9ULL * (out_.branches + 1));
  b.reseed(splitmix64(x));  // the main run's streams hold its own future: a branch needs its own
  if (out_.tick_phase) b.rephase_ticks(b.window_vcpu());
  b.set_force(factor, opt_.cap_factor * opt_.arrivals, opt_.max_arrivals);
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
  ++out_.branches;
  out_.branch_events += b.events() - ev0;
  if (b.forced_arrivals()) ++out_.forced_arrival_branches;
  double w = std::exp(b.log_weight());
  if (first_hits_) first_hits_->end_branch(w, beng_->now());
  bool ended = b.iterations() != it0, any = false;
  for (size_t h = 0; h < nh; ++h) {
    bool hit = b.hazards()[h].iterations_hit > hits0[h] || (!ended && b.iteration_hit(h));
    if (m.iteration_hit(h)) y_[h] += 1 / k;  // hit before the branch point: no weight
    else if (hit) y_[h] += w / k, any = true;
  }
  if (any) weight_hit_sum_ += w, ++weight_hit_n_;
  return true;
}

// k forced copies of the iteration from its first open window, their contributions averaged: a
// window iteration of the main run can cost far more events than a branch (it is rare), so each
// is used k times. k is 1 for the first kCalibrationIterations, then, from the costs so far, a
// quarter of the main run's events per window iteration over a branch's events (at most 25% more
// work; more pays only where the branch's own randomness, not the state at the window's opening,
// makes the variance), at most kMaxBranchesPerWindow. It depends on event counts only.
void ForcingDriver::branch(Machine& m, NativeEngine& eng, RunControl& control) {
  if (window_branched_ >= kCalibrationIterations) {  // kept up to date: windows can come in bursts
    double main = double(m.events() - main_events_at_pilot_) / double(window_branched_);
    double one = double(out_.branch_events) / double(std::max<uint64_t>(out_.branches, 1));
    out_.branches_per_window = uint64_t(std::clamp(std::floor(kBranchWorkShare * main / std::max(one, 1.0)), 1.0, double(kMaxBranchesPerWindow)));
  }
  const uint64_t k = out_.branches_per_window ? out_.branches_per_window : 1;
  y_.assign(m.hazards().size(), 0);
  for (uint64_t r = 0; r < k; ++r)
    if (!one_branch(m, eng, control, double(k))) return;
  ++window_branched_;
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
  for (size_t j = 0; j < m.arrival_processes(); ++j) {
    size_t k = cfg_.hypervisor.steal.size();
    out_.processes.push_back(j < k ? "steal:" + cfg_.hypervisor.steal[j].name : "irq:" + (j - k < cfg_.arch.interrupts.size() ? cfg_.arch.interrupts[j - k].name : cfg_.hypervisor.interrupts[j - k - cfg_.arch.interrupts.size()].name));
  }
  for (const auto& h : m.hazards()) names_.push_back(h.name);
  m.start();
  m.set_force(std::vector<double>(m.arrival_processes(), 1));  // the pilot: measure, change nothing
  uint64_t pilot_end = opt_.pilot_iterations;
  if (cfg_.limits.iterations) pilot_end = std::min(pilot_end, std::max<uint64_t>(cfg_.limits.iterations / 10, 1));
  uint64_t n = 0;
  bool window_seen = false;  // in this iteration (pilot)
  while (!m.finished() && eng.step(m, cfg_.limits.time_ns)) {
    if (m.iterations() != iteration_) {
      end_iteration(m);
      window_seen = false;
      if (!pilot_done_ && m.iterations() >= pilot_end) end_pilot(m);
    }
    if (m.open_windows() > 0) {
      if (!pilot_done_ && !window_seen) window_seen = true, ++out_.window_iterations;
      else if (pilot_done_ && forcing_ && !branched_) branch(m, eng, control);
    }
    if ((++n & 0xffff) == 0) {  // a checkpoint, as the native engine's
      out_.main_events = m.events();
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
  if (!pilot_done_) end_pilot(m);
  out_.main_events = m.events();
}

ForcedHazard ForcingDriver::estimate(size_t h) const {
  ForcedHazard r;
  r.name = h < names_.size() ? names_[h] : "";
  if (!forcing_ || !estimated_[h]) {  // crude, exact
    r.p = stats_.n() ? double(main_hits_[h]) / double(stats_.n()) : 0;
    r.nonzero = main_hits_[h];
    r.ess = double(main_hits_[h]);
    r.ci = binomial_interval(main_hits_[h], stats_.n());
    return r;
  }
  r.p = stats_.mean(h);
  r.nonzero = stats_.nonzero(h);
  r.ess = stats_.ess(h);
  r.variance = stats_.variance(h);
  r.ci = r.nonzero ? stats_.interval(h) : binomial_interval(main_hits_[h], stats_.n());  // none: the crude bound
  double iters = double(std::max<uint64_t>(stats_.n(), 1));
  double crude_cost = double(out_.main_events) / iters, cost = double(out_.main_events + out_.branch_events) / iters;
  if (r.variance > 0 && cost > 0) r.gain = r.p * (1 - r.p) * crude_cost / (r.variance * cost);
  return r;
}

ForcedRun ForcingDriver::result() const {
  ForcedRun r = out_;
  for (size_t h = 0; h < names_.size(); ++h) r.hazards.push_back(estimate(h));
  r.mean_weight_hit = weight_hit_n_ ? weight_hit_sum_ / double(weight_hit_n_) : 0;
  return r;
}

}  // namespace racewin

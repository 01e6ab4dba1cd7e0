#pragma once
// Rare-event estimation by forcing: importance sampling of steal and interrupt arrivals while a
// race window is open, one branch per iteration (docs/rare-events.md).
//
// The main run goes on under the nominal law and gives iterations in their long-run mix. When an
// iteration of the counted thread first has a window open, the driver copies the machine and
// engine and runs the copy to the end of that iteration with forcing on (Machine::set_force).
// The iteration contributes, per hazard, 1 if the main run was hit before the branch point, else
// W = exp(log_weight) if the branch was hit, else 0; an iteration without a window contributes the
// main run's own indicator. Each contribution has the conditional mean P(hit | the iteration so
// far), so their average estimates P(iteration hit); the interval is Student's t on batch means.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/stats.hpp"
#include "base/units.hpp"

namespace racewin {

class Machine;
class NativeEngine;
struct CaseConfig;
struct RunControl;
struct TraceEvent;

// What a recorder of forced branches is told (timeline/first_hit.hpp implements it for
// --first-hit): each branch's trace events between begin and end, and the branch's weight. An
// interface here, so that forcing needs nothing from the layers above it.
class BranchRecorder {
 public:
  virtual ~BranchRecorder() = default;
  virtual void record(const TraceEvent& e) = 0;
  virtual void begin_branch() = 0;
  virtual void end_branch(double weight, Time now) = 0;  // the branch's hits count with `weight`
};

struct ForceOptions {
  // Forced arrivals expected per window-opening iteration in each stage (stage k: after k forced
  // arrivals), shared by the arrival processes that can fire inside windows. Near 0.5 the weights
  // stay small (for an exponential window of mean w and forced rate r, the second moment is
  // finite only for r w < 1).
  double arrivals = 0.5;
  uint64_t pilot_iterations = 10000;  // nominal iterations that measure the windows' exposure
  // Forced pilots, excluded from the estimate as the nominal one: branches forced in stage 0 only
  // measure the exposure of stage 1, until `stage_pilot` of them saw a forced arrival; then
  // `share_pilot` branches forced in both stages find which process carries the weighted hits in
  // each stage. Each process gets a share of a stage's forced arrivals proportional to its share
  // of the weighted hits, mixed with an equal share by `floor_share` so that no route gets a
  // vanishing proposal. Each forced pilot takes at most a twentieth of the iteration or time budget.
  uint64_t stage_pilot = 300, share_pilot = 4000;
  double floor_share = 0.2;
  // Forcing ends in a branch after `max_arrivals` forced arrivals, or once 8 x `arrivals` were
  // expected (Machine::set_force): a window held open by a stall would otherwise be forced into a
  // pile of arrivals whose weights vanish. Two arrivals cover a hit that needs a second stall.
  double cap_factor = 8;
  uint64_t max_arrivals = 2;
  // Defensive mixture: each of the estimate's branches keeps the nominal law with probability
  // `defensive` (its forced bookkeeping still kept) and is forced otherwise; a hit weighs
  // 1 / (defensive + (1 - defensive) q/p), at most 1 / defensive, so hits that need no stall are
  // seen at their natural rate with a bounded weight. Below 0: from the share pilot, the share of
  // its weighted hits that came without a forced arrival, kept within [0.1, 0.5] (0.1 without a
  // share pilot). 0: pure forcing.
  double defensive = -1;
  // Crude Monte Carlo instead, said so, once forcing's gain over it is measured below 1 (a
  // checkpoint's estimate on at least 3 effective hits, or the run's end): the main run is a crude
  // run throughout, so its own counts are the estimate.
  bool fallback = true;
  // "force" or "force:X" (X: arrivals); throws std::invalid_argument naming what was expected.
  static ForceOptions parse(const std::string& method);
};

// Per-iteration contributions, their mean and a 95% interval from batch means: at most 64 batches,
// merged pairwise when full, so that nearby iterations' correlation widens the interval. Every
// figure (mean, interval, variance, positive contributions, effective hits) is of the records in
// completed batches, the same records for all: a weight in the batch under way moves none of them,
// so that a count cannot say "hits" while the mean and interval still say 0 (issue 27's false stop).
class BatchMeans {
 public:
  explicit BatchMeans(size_t hazards = 0);
  void add(const std::vector<double>& y);
  uint64_t n() const { return n_; }        // every record
  uint64_t used() const { return used_; }  // those in completed batches: what the figures are of
  double mean(size_t h) const;
  // Effective number of positive contributions: (sum y)^2 / sum y^2, the count that a few large
  // weights make small, divided by the design effect the batches show (the batch means' variance,
  // scaled to one record, over the records' own variance, when larger): contributions that are
  // one event's consequence, seen by many consecutive branches, count about once.
  double ess(size_t h) const;
  double variance(size_t h) const;  // of one contribution, as if independent
  // Of one contribution as the batches show it (batch size x the batch means' variance): the
  // variance of the mean is this over used(). 0 with fewer than two batches.
  double batch_variance(size_t h) const;
  uint64_t nonzero(size_t h) const { return nonzero_[h]; }
  // 95%, bootstrap-t over the batch means (skew-aware: see the .cpp); [0, inf) with fewer than
  // two batches, [m, m] where every batch mean is m.
  Interval interval(size_t h) const;
  Interval interval_t(size_t h) const;  // Student's t on the batch means, symmetric (for comparison)

 private:
  size_t batches() const { return batches_.size() / std::max<size_t>(h_, 1); }
  size_t h_;
  uint64_t n_ = 0, used_ = 0, size_ = 1, in_cur_ = 0;
  std::vector<double> sum_, sumsq_, cur_, cur_sq_, batches_;  // batches_: per batch, per hazard: its mean
  std::vector<uint64_t> nonzero_, cur_nonzero_;
  mutable std::vector<uint64_t> cache_used_;  // interval(h) as of used() records
  mutable std::vector<Interval> cache_;
};

// A forced estimate carried by fewer effective hits than this is unreliable: a few weights make it,
// and its interval cannot be trusted (it never meets --rel-error; the outputs say so).
constexpr double kMinEffectiveHits = 30;

struct ForcedHazard {
  std::string name;
  double p = 0;
  Interval ci;
  Interval ci_t;  // Student's t on the same batches, symmetric: what ci was before issue 27 (coverage checks)
  uint64_t nonzero = 0;  // iterations with a positive contribution
  double ess = 0;        // their effective number (BatchMeans::ess)
  bool crude = false;     // the main run's own counts (not a target, or forcing fell back)
  bool unreliable() const { return !crude && nonzero && ess < kMinEffectiveHits; }
  double variance = 0;   // of one iteration's contribution, as the batches show it
  // The part of p from hits with no forced arrival (the route forcing does not speed up: another
  // thread's step landing in the open window, say), the iterations whose branches showed one, and
  // a 95% upper bound on that part: a branch is nominal with probability D and then shows such a hit
  // with the nominal probability, so an iteration shows one at a rate of at least D times that
  // part; the bound is the Clopper-Pearson bound of `unforced_seen` over the iterations, over D,
  // or the main run's own crude bound on all of P where that is lower (with D = 0, that alone).
  // The interval `ci` assumes every route was sampled; this says how much a route seen rarely, or
  // not yet, could still add.
  double unforced_p = 0, unforced_hi = 0;
  uint64_t unforced_seen = 0;
  // Work-normalised variance of crude Monte Carlo over this estimator's, work = model events:
  // p(1-p) * events per main iteration / (variance * events per iteration with branches).
  double gain = 0;
};

struct ForcedRun {
  std::vector<std::string> processes;  // "steal:NAME", "irq:NAME"
  // Per stage s (forced arrivals so far) and process j, at [s * processes + j]: the intensity
  // factor in windows (1: not sped up), the cumulative hazard in windows per window-opening
  // iteration (stage 0: nominal pilot) or per branch that reached the stage (stage 1: forced pilot),
  // and the share of the share pilot's weighted hits whose forced arrival of that stage was j's.
  size_t stages = 1;
  std::vector<double> factor, exposure, hit_share;
  // window_iterations: of the nominal pilot, those with a branch point (a window open, or the
  // section before one: Machine::armed), which the exposures are per.
  uint64_t pilot = 0, window_iterations = 0, branches = 0, forced_arrival_branches = 0;
  uint64_t branches_per_window = 0;  // forced copies of a window iteration, the last (0: still timing them)
  uint64_t pilot_branches = 0, pilot_events = 0, pilot_hits = 0;  // of the forced pilots
  uint64_t main_events = 0, branch_events = 0;
  double mean_weight_hit = 0, max_weight_hit = 0;  // of the estimate's branches that were hit
  double defensive = 0;        // the nominal share of the estimate's branches (ForceOptions::defensive)
  // Forcing's gain when it fell back to crude Monte Carlo (0: it did not), and the window
  // iterations branched by then.
  double fallback_gain = 0;
  uint64_t fallback_at = 0;
  std::vector<ForcedHazard> hazards;
  std::string note;  // why nothing was forced, if nothing was
  // Periodic ticks forced with their phase drawn afresh at each branch (no process with a density
  // reached the windows): the estimate takes the tick's phase as uniform (machine_tick_phase.cpp).
  bool tick_phase = false;
};

class ForcingDriver {
 public:
  // `targets`: indexes into Machine::hazards() of the hazards to estimate. A branch ends with its
  // iteration, or as soon as every target that can be hit was hit (a hit iteration of the buggy
  // writer may never end); other hazards get the main run's crude estimate. A window hazard of a
  // window no step hits (no window_hit in any path of the case) cannot be hit: it is 0.
  ForcingDriver(const CaseConfig& cfg, const ForceOptions& opt, std::vector<size_t> targets);
  ~ForcingDriver();
  // Runs `m` (on `eng`, not yet started) to the case's limits or until `control` stops it; it
  // calls control.should_stop every kCheckpointEvents main events once the pilot is over.
  void run(Machine& m, NativeEngine& eng, RunControl& control);
  // The estimate of hazard h (index into Machine::hazards()) so far.
  ForcedHazard estimate(size_t h) const;
  ForcedRun result() const;
  bool pilot_done() const { return pilot_done_; }
  // --first-hit: branches record into `r` too (their first hits count with their weight).
  void set_first_hits(BranchRecorder* r) { first_hits_ = r; }

 private:
  enum class Phase { Nominal, Exposure, Shares, Estimate };
  void end_pilot(Machine& m);
  size_t tick_phase(Machine& m, std::vector<double>& exposure);
  void set_factors(const std::vector<double>& share);  // per stage and process; empty: equal
  void next_phase(Machine& m);
  void start_phase(const Machine& m);
  bool phase_over(const Machine& m) const;
  void pilot_branch(const Machine& b, bool hit);
  void branch(Machine& m, NativeEngine& eng, RunControl& control);
  bool one_branch(Machine& m, NativeEngine& eng, RunControl& control, double k);
  void end_iteration(const Machine& m);
  void check_gain(bool at_end);  // ForceOptions::fallback

  const CaseConfig& cfg_;
  ForceOptions opt_;
  ForcedRun out_;
  BatchMeans stats_;
  bool pilot_done_ = false, forcing_ = false, branched_ = false;
  Phase phase_ = Phase::Nominal;
  uint64_t iteration_ = 0, phase_branches_ = 0, phase_arrivals_ = 0, phase_end_iteration_ = 0;
  double now_ = 0, phase_end_time_ = 0;  // simulated time at the last iteration's end
  std::vector<double> stage_exposure_, hit_weight_;  // forced pilots' sums, per stage and process
  uint64_t pilot_windows_ = 0;  // nominal pilot iterations with a window open (window_iterations: armed)
  uint64_t window_branched_ = 0, main_events_at_pilot_ = 0;  // estimate-phase window iterations; main events then
  std::vector<uint64_t> hits_at_start_;  // main's iterations_hit per hazard at this iteration's start
  // Per hazard: this iteration's contribution from hits without a forced arrival, their sum over
  // the estimate's iterations, and the iterations with one (ForcedHazard::unforced_p).
  std::vector<double> y_unforced_, unforced_sum_;
  std::vector<uint64_t> unforced_seen_;
  std::vector<double> y_;                // this iteration's contributions, if it branched
  std::vector<std::string> names_;
  std::vector<size_t> targets_;   // what a branch stops for
  std::vector<uint8_t> estimated_;  // per hazard: a target (forced estimate) or not (crude)
  std::vector<uint64_t> main_hits_;      // main's own hit iterations (a crude estimate beside)
  double weight_hit_sum_ = 0, max_weight_hit_ = 0;
  double alpha_ = 0;  // the defensive share in use (estimate phase)
  double pilot_hit_weight_ = 0, pilot_nostall_weight_ = 0;  // the share pilot's weighted hits, and those without a forced arrival
  uint64_t weight_hit_n_ = 0;
  std::unique_ptr<NativeEngine> beng_;
  std::unique_ptr<Machine> bm_;
  BranchRecorder* first_hits_ = nullptr;
};

}  // namespace racewin

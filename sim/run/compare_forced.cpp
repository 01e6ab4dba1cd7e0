#include "run/compare_forced.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/json_number.hpp"
#include "base/rng.hpp"

namespace racewin {
namespace {

constexpr double kZ = 1.959964;  // the normal 97.5% quantile: the per-side intervals are 95%

// Standard error of a side's estimate from its interval. The driver's interval is symmetric
// unless clipped at 0; the larger half is the unclipped one.
double se(const ForcedSide& s) { return std::max(s.ci.hi - s.p, s.p - s.ci.lo) / kZ; }

nlohmann::json pair(const Interval& i) { return nlohmann::json::array({json_number(i.lo), json_number(i.hi)}); }

}  // namespace

uint64_t forced_after_seed(uint64_t seed) {
  uint64_t x = seed ^ 0xbb67ae8584caa73bULL;  // any fixed constant: a stream the before side never uses
  return splitmix64(x);
}

CaseResult run_forced_side(const CaseConfig& cfg, const std::vector<std::string>& hazards, StoppingRule rule,
                           const ForceOptions& force, RunControl& control) {
  std::vector<std::string> known = case_hazards(cfg);
  rule.hazards.clear();
  for (const auto& h : hazards)
    if (std::find(known.begin(), known.end(), h) != known.end() && hazard_can_be_hit(cfg, h)) rule.hazards.push_back(h);
  if (rule.hazards.empty()) rule.hazards.push_back("bad_page_state");
  CaseConfig c = cfg;
  c.replications = 1;
  return run_case(c, EngineKind::Native, control, {}, &rule, {}, &force);
}

ForcedSide forced_side(const CaseConfig& cfg, const CaseResult& r, const std::string& hazard) {
  ForcedSide s;
  s.can_be_hit = hazard_can_be_hit(cfg, hazard);
  for (size_t i = 0; i < r.hazards.size(); ++i) {
    if (r.hazards[i].name != hazard) continue;
    s.p = r.hazards[i].p, s.ci = r.hazards[i].p_ci;  // the forced estimate where it was forced
    if (r.forced) {
      const ForcedHazard& f = r.forced->hazards[i];
      s.weighted_hits = f.nonzero, s.effective_hits = f.ess, s.unreliable = f.unreliable();
    } else {
      s.weighted_hits = r.hazards[i].iterations_hit, s.effective_hits = double(s.weighted_hits);
    }
    return s;
  }
  // A hazard the side's model lacks (a window it never opens): nothing can hit it there.
  s.can_be_hit = false;
  s.ci = {0, 0};
  return s;
}

ForcedComparison compare_forced(const ForcedSide& before, const ForcedSide& after) {
  const double inf = std::numeric_limits<double>::infinity();
  ForcedComparison c;
  c.before = before, c.after = after;
  c.difference = after.p - before.p;
  const bool hb = before.weighted_hits > 0 && before.p > 0, ha = after.weighted_hits > 0 && after.p > 0;
  if (hb && ha) {
    double sb = se(before) / before.p, sa = se(after) / after.p, f = std::exp(kZ * std::hypot(sa, sb));
    c.ratio = after.p / before.p;
    c.ratio_ci = {c.ratio / f, c.ratio * f};
    double h = kZ * std::hypot(se(before), se(after));
    c.difference_ci = {c.difference - h, c.difference + h};
  } else {
    // Bounds only on a side: each true value lies in its interval (with no hit, [0, the upper
    // bound]) with 97.5% confidence at the end that matters, so both do with at least 95%.
    c.difference_ci = {after.ci.lo - before.ci.hi, after.ci.hi - before.ci.lo};
    if (hb) {
      c.ratio = 0, c.ratio_ci = {0, before.ci.lo > 0 ? after.ci.hi / before.ci.lo : inf};
      c.note = after.can_be_hit ? "no weighted hit after: its upper bound over before's lower bound"
                                : "cannot be hit after (no window_hit step or no such window)";
    } else if (ha) {
      c.ratio = inf, c.ratio_ci = {before.ci.hi > 0 ? after.ci.lo / before.ci.hi : inf, inf};
      c.note = before.can_be_hit ? "no weighted hit before: the ratio is unbounded, its lower bound from the bounds"
                                 : "cannot be hit before (no window_hit step or no such window)";
    } else {
      c.ratio_ci = {0, inf};
      c.note = "no weighted hit on either side";
    }
  }
  c.significant = c.ratio_ci.lo > 1 || c.ratio_ci.hi < 1;
  if (before.unreliable || after.unreliable) {
    c.significant = false;
    c.note += fmt::format("{}UNRELIABLE {}: fewer than {:g} effective hits, no significance claimed",
                          c.note.empty() ? "" : "; ",
                          before.unreliable && after.unreliable ? "both sides" : before.unreliable ? "before" : "after",
                          kMinEffectiveHits);
  }
  return c;
}

nlohmann::json forced_comparison_json(const ForcedComparison& c) {
  auto side = [](const ForcedSide& s) {
    return nlohmann::json{{"p", s.p}, {"p_ci95", pair(s.ci)}, {"weighted_hits", s.weighted_hits},
                          {"effective_hits", s.effective_hits}, {"unreliable", s.unreliable}, {"can_be_hit", s.can_be_hit}};
  };
  return {{"before", side(c.before)},
          {"after", side(c.after)},
          {"ratio", json_number(c.ratio)},
          {"ratio_unbounded", std::isinf(c.ratio)},
          {"ratio_ci95", pair(c.ratio_ci)},
          {"difference", c.difference},
          {"difference_ci95", pair(c.difference_ci)},
          {"significant", c.significant},
          {"method", "independent forced runs; ratio: delta method on log P; difference: normal"},
          {"note", c.note}};
}

// The batch comparison's columns (so that one reader takes both), those that only batches have
// left empty, and the forced ones before the note.
std::string forced_comparison_csv_header() {
  return "case,hazard,measure,counted_before,counted_after,before,before_lo,before_hi,after,after_lo,after_hi,ratio,"
         "ratio_lo,ratio_hi,difference,difference_lo,difference_hi,significant,sign_flip_p,batch_correlation,"
         "after_independent,difference_independent_lo,difference_independent_hi,crn_width_over_independent,"
         "effective_hits_before,effective_hits_after,unreliable,note\n";
}

std::string forced_comparison_csv_row(const std::string& case_name, const std::string& hazard, const ForcedComparison& c) {
  auto cell = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6g}", v); };
  const ForcedSide &b = c.before, &a = c.after;
  return fmt::format("{},{},p_iteration_hit,{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},,,,,,,{},{},{},\"{}\"\n", case_name,
                     hazard, b.weighted_hits, a.weighted_hits, cell(b.p), cell(b.ci.lo), cell(b.ci.hi), cell(a.p),
                     cell(a.ci.lo), cell(a.ci.hi), cell(c.ratio), cell(c.ratio_ci.lo), cell(c.ratio_ci.hi),
                     cell(c.difference), cell(c.difference_ci.lo), cell(c.difference_ci.hi), c.significant,
                     cell(b.effective_hits), cell(a.effective_hits), b.unreliable || a.unreliable, c.note);
}

}  // namespace racewin

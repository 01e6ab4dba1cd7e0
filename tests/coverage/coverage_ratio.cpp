// Coverage of `racewin run --ratio A/B`'s interval over many seeds against racewin exact's ratio:
// paired over replications that share seeds, the same replications taken as independent, and the
// two merged estimates' Clopper-Pearson intervals taken as independent (what --ratio gives without
// replications); and `racewin compare`'s after/before interval (paired batches on common random
// numbers, B = A's case before, B's after, the same batch count). Not a unit test (minutes); a documented command (docs/estimation.md, "Ratios"):
//
//   build/tests/coverage_ratio FILE CASE_A CASE_B ITERATIONS REPLICATIONS FIRST_SEED LAST_SEED
//
// FILE is under configs/validation/; ITERATIONS per case, split over REPLICATIONS as --replications does.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/scenario.hpp"
#include "exact/exact.hpp"
#include "run/compare.hpp"
#include "run/ratio.hpp"
#include "run/run.hpp"

using namespace racewin;

namespace {
struct Tally {
  int covered = 0, low = 0, high = 0;
  std::vector<double> width;  // hi / lo
  void add(const Interval& ci, double truth) {
    if (ci.hi < truth) ++low;
    else if (ci.lo > truth) ++high;
    else ++covered;
    width.push_back(ci.hi / ci.lo);
  }
  std::string line(int n) {
    std::sort(width.begin(), width.end());
    return std::to_string(covered) + " of " + std::to_string(n) + " covered, " + std::to_string(low) + " low, " + std::to_string(high) +
           " high; median hi/lo " + (width.empty() ? "-" : std::to_string(width[width.size() / 2]));
  }
};

CaseResult replicated(CaseConfig c, uint64_t iterations, int k, uint64_t seed) {
  c.limits.iterations = iterations, c.limits.time_ns = 0, c.seed = seed, c.replications = k;
  std::vector<CaseResult> reps;
  RunControl ctl;
  for (int i = 0; i < k; ++i) reps.push_back(run_case(replication_config(c, i), EngineKind::Native, ctl));
  return merge_replications(c, reps);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s FILE CASE_A CASE_B ITERATIONS REPLICATIONS FIRST_SEED LAST_SEED\n", argv[0]);
    return 2;
  }
  std::string file = argv[1], na = argv[2], nb = argv[3];
  uint64_t iterations = std::strtoull(argv[4], nullptr, 10), first = std::strtoull(argv[6], nullptr, 10),
           last = std::strtoull(argv[7], nullptr, 10);
  int K = std::atoi(argv[5]);
  Scenario s = load_scenario("configs/validation/" + file, {}, {na, nb});
  const CaseConfig ca = s.cases.at(0), cb = s.cases.at(1);
  auto exact = [](const CaseConfig& c) { return solve_chain(build_chain(c, {}), 1).windows.at(0).p_hit; };
  const double truth = exact(ca) / exact(cb);
  std::printf("%s %s/%s: exact ratio %.6g, %llu iterations in %d replications per case, seeds %llu..%llu\n", file.c_str(),
              ca.name.c_str(), cb.name.c_str(), truth, (unsigned long long)iterations, K, (unsigned long long)first,
              (unsigned long long)last);
  Tally paired, same_units, intervals, compare;
  std::mutex mu;
  std::atomic<uint64_t> next{first};
  auto work = [&] {
    for (uint64_t seed; (seed = next++) <= last;) {
      CaseResult a = replicated(ca, iterations, K, seed), b = replicated(cb, iterations, K, seed);
      RatioEstimate e = case_ratio(a, b, "window:race");
      a.replication_iterations.clear();  // as without --replications: the two intervals, independent
      RatioEstimate i = case_ratio(a, b, "window:race");
      // racewin compare: B's case after A's, K batches on common random numbers; its ratio is after/before.
      std::vector<CaseResult> before, after;
      for (int k = 0; k < K; ++k) {
        RunControl ctl;
        CaseConfig x = ca, y = cb;
        x.limits.iterations = y.limits.iterations = iterations, x.limits.time_ns = y.limits.time_ns = 0;
        before.push_back(run_case(batch_config(x, seed, K, k), EngineKind::Native, ctl));
        after.push_back(run_case(batch_config(y, seed, K, k), EngineKind::Native, ctl));
      }
      Comparison cmp = compare_batches(hit_iterations(before, "window:race"), hit_iterations(after, "window:race"), Measure::PerIteration);
      Interval inverted{1 / cmp.ratio_ci.hi, 1 / cmp.ratio_ci.lo};  // A/B, as the others
      std::lock_guard<std::mutex> lock(mu);
      compare.add(inverted, truth);
      paired.add(e.ci, truth), same_units.add(e.independent_ci, truth), intervals.add(i.ci, truth);
      std::printf("seed %llu: %.5g paired [%.5g, %.5g] same replications independent [%.5g, %.5g] intervals [%.5g, %.5g]\n",
                  (unsigned long long)seed, e.r, e.ci.lo, e.ci.hi, e.independent_ci.lo, e.independent_ci.hi, i.ci.lo, i.ci.hi);
    }
  };
  std::thread t1(work), t2(work);
  t1.join(), t2.join();
  int n = int(last - first + 1);
  std::printf("paired:                         %s\n", paired.line(n).c_str());
  std::printf("same replications, independent: %s\n", same_units.line(n).c_str());
  std::printf("intervals, independent:         %s\n", intervals.line(n).c_str());
  std::printf("compare, paired batches:        %s\n", compare.line(n).c_str());
}

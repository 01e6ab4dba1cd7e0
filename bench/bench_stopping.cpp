// What sequential stopping costs: events per second of one case (dirtyc0w_child, s390x under z/VM,
// v5.9-rc4) run fixed-length, and with a stopping rule that is never met before the same sim time
// budget (--rel-error 1e-6 on the default hazards, checked every 65536 events), with and without a
// progress observer that formats the display's line at every checkpoint. Runs alternate, in one
// process; medians over the repetitions. Target (issue 14): the rule costs at most 5%.
// Usage: bench_stopping [SIM_SECONDS] [REPETITIONS]   (run from the source root)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "output/output.hpp"
#include "run/run.hpp"

using namespace racewin;

namespace {

struct Sample {
  double events_per_s = 0;
  uint64_t events = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Sample run_once(const CaseConfig& c, const StoppingRule* rule, bool observe) {
  RunControl ctl;
  std::string line;
  std::function<void(const StopCheck&)> on_check;
  if (observe)
    on_check = [&](const StopCheck& k) { line = stopping_progress(c.name, *rule, k, seconds_left(*rule, k, c.limits)); };
  auto t0 = std::chrono::steady_clock::now();
  CaseResult r = run_case(c, EngineKind::Native, ctl, {}, rule, on_check);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rule && r.stopping->reason != "sim time budget spent")
    throw std::runtime_error("the rule was met early: " + r.stopping->reason);
  return {double(r.events) / wall, r.events};
}

}  // namespace

int main(int argc, char** argv) {
  std::string secs = argc > 1 ? std::string(argv[1]) + "s" : "1s";
  int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  CaseConfig c = load_scenario("configs/dirtyc0w_child.yaml", {{"run.time", secs}}, {"s390x_zvm_v5.9-rc4"}).cases.at(0);
  StoppingRule rule;
  rule.rel_error = 1e-6;  // never met: every run goes to the sim time budget
  fmt::print("case {}, {} simulated per run, {} repetitions; rule {} on {}\n", c.name, secs, reps, rule.describe(),
             fmt::format("{} hazards", rule_hazards(rule, c).size()));

  run_once(c, nullptr, false);  // warm-up: page in, caches
  std::vector<double> fixed, seq, seq_obs;
  uint64_t events[3] = {0, 0, 0};
  for (int i = 0; i < reps; ++i) {
    // Rotate the order so that drift in the machine's speed falls on each variant alike.
    for (int k = 0; k < 3; ++k) {
      int v = (i + k) % 3;
      Sample s = run_once(c, v ? &rule : nullptr, v == 2);
      (v == 0 ? fixed : v == 1 ? seq : seq_obs).push_back(s.events_per_s);
      events[v] = s.events;
    }
  }
  if (events[0] != events[1] || events[0] != events[2]) {
    fmt::print("FAIL: the runs handled different events ({}, {}, {})\n", events[0], events[1], events[2]);
    return 1;
  }
  double f = median(fixed), s = median(seq), o = median(seq_obs);
  fmt::print("{} events per run\n", events[0]);
  fmt::print("fixed-length                     {:7.2f} M events/s (median; min {:.2f}, max {:.2f})\n", f / 1e6,
             *std::min_element(fixed.begin(), fixed.end()) / 1e6, *std::max_element(fixed.begin(), fixed.end()) / 1e6);
  fmt::print("with a stopping rule             {:7.2f} M events/s (median; min {:.2f}, max {:.2f})\n", s / 1e6,
             *std::min_element(seq.begin(), seq.end()) / 1e6, *std::max_element(seq.begin(), seq.end()) / 1e6);
  fmt::print("rule + progress line per check   {:7.2f} M events/s (median)\n", o / 1e6);
  fmt::print("ratio rule/fixed {:.3f} ({:+.1f}% events/s), with progress {:.3f}; target: overhead <= 5%\n", s / f,
             100 * (s / f - 1), o / f);
  return 0;
}

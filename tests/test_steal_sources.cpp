// Steal sources of every kind but renewal and trace (tested with the mechanisms): one applied to
// some vCPUs only, periodic, Markov-modulated; fixed times, or counts with stated tolerances.
#include <algorithm>
#include <cmath>

#include "support.hpp"

using namespace racewin;
using namespace racewin::test;

TEST_CASE("a steal source may apply to some vCPUs only") {
  TempDir d;
  std::string hyp = "hypervisor: one\nsteal:\n  - {name: only1, model: renewal, vcpus: [1], interarrival: 10us, duration: 5us}\n";
  auto c = make_case(d, fixed_arch("broadcast", "direct"), hyp, {{"a", "  - work: idle\n"}, {"b", "  - work: idle\n"}});
  NativeEngine eng(c.vcpus);
  Machine m(c, 1, eng);
  RunControl ctl;
  eng.run(m, 1e6, ctl);
  CHECK(m.stolen_time(0) == 0);
  // Renewal of 10 us running, 5 us stolen: a third of the time, within one cycle's phase.
  CHECK(m.stolen_time(1) == doctest::Approx(1e6 / 3).epsilon(0.02));
}

TEST_CASE("a periodic steal source stalls every vCPU at the same instants, period after period") {
  const std::string work = "  - work: long\n  - work: idle\n";
  auto run = [&](const std::string& steal, double until) {
    TempDir d;
    return run_logged(make_case(d, fixed_arch("ipi_shootdown", "batched"), "hypervisor: h\ncpus: shared\nsteal:\n" + steal,
                                {{"a", work}, {"b", work}}),
                      until);
  };
  Log log = run("  - {name: host, model: periodic, period: 1000ns, phase: 100ns, duration: 50ns, preempts: false}\n", 3500);
  for (int v : {0, 1}) {
    CHECK(log.at(v, "steal begins", 0) == doctest::Approx(100));
    CHECK(log.at(v, "steal ends", 0) == doctest::Approx(150));
    CHECK(log.at(v, "steal begins", 2) == doctest::Approx(2100));
    CHECK(log.count(v, "steal begins") == 4);  // 100, 1100, 2100, 3100
  }
  // Longer than its period: a period whose start finds the last stall on has none. The run starts
  // stationary: the stall that began at -90 is on until 160; then 210 to 460, then 510.
  Log over = run("  - {name: host, model: periodic, period: 100ns, phase: 10ns, duration: 250ns}\n", 1000);
  CHECK(over.at(0, "steal begins", 0) == doctest::Approx(0));
  CHECK(over.at(0, "steal ends", 0) == doctest::Approx(160));
  CHECK(over.at(0, "steal begins", 1) == doctest::Approx(210));
  CHECK(over.at(0, "steal begins", 2) == doctest::Approx(510));
  // Half the periods show a stall: 2,000 periods, about 1,000 (binomial sd 22; within 5 sd).
  Log half = run("  - {name: host, model: periodic, period: 1000ns, phase: 0ns, duration: 10ns, show: 0.5}\n", 2e6);
  CHECK(std::abs(half.count(0, "steal begins") - 1000) < 110);
  // Stated wrong: a period is a duration, and a periodic source has no interarrival.
  TempDir d;
  CHECK_THROWS_WITH_AS(make_case(d, fixed_arch("ipi_shootdown", "batched"),
                                 "hypervisor: h\nsteal:\n  - {name: x, model: periodic, interarrival: 1ms, period: 1ms, duration: 1us}\n",
                                 {{"a", work}}),
                       doctest::Contains("has a period, not an interarrival"), ConfigError);
}

// A Markov-modulated steal source: its state picks the running time's law and moves after every
// steal by its transitions. With states that always swap, the gaps between steals alternate.
TEST_CASE("a Markov-modulated steal source draws each running time from its state's law") {
  TempDir d;
  const std::string hyp =
      "hypervisor: h\ncpus: shared\nsteal:\n  - name: bursty\n    model: markov_modulated\n"
      "    states: [{interarrival: 100ns}, {interarrival: 1000ns}]\n    transitions: [[0, 1], [1, 0]]\n    duration: 10ns\n";
  Log log = run_logged(make_case(d, fixed_arch("ipi_shootdown", "batched"), hyp, {{"a", "  - work: long\n  - work: idle\n"}}), 20000);
  std::vector<double> starts;
  for (const auto& e : log.events)
    if (e.vcpu == 0 && e.what.find("steal begins") != std::string::npos) starts.push_back(e.time);
  REQUIRE(starts.size() > 10);
  for (size_t i = 2; i < starts.size(); ++i) {
    double a = starts[i - 1] - starts[i - 2], b = starts[i] - starts[i - 1];
    CHECK(std::min(a, b) == doctest::Approx(110));  // 10 ns of steal, then the other state's running time
    CHECK(std::max(a, b) == doctest::Approx(1010));
  }
  // Rows that are not probabilities summing to 1 are refused, naming the row.
  TempDir d2;
  CHECK_THROWS_WITH_AS(
      make_case(d2, fixed_arch("ipi_shootdown", "batched"),
                "hypervisor: h\nsteal:\n  - {name: b, model: markov_modulated, states: [{interarrival: 1us}, {interarrival: 2us}], "
                "transitions: [[0.5, 0.4], [0, 1]], duration: 1us}\n",
                {{"a", "  - work: long\n"}}),
      doctest::Contains("sum to 0.9, not 1"), ConfigError);
}

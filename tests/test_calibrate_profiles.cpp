// racewin calibrate's written profiles: racewin reads them and every figure is marked; the
// remote flush told from IPIs and written from the second CPU's gaps; periodic sources seen in part
// of their periods. The records are drawn from known processes (calibrate_records.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "calibrate/flush_fit.hpp"
#include "calibrate/profile_writer.hpp"
#include "calibrate_records.hpp"
#include "config/profile_marks.hpp"
#include "config/profiles.hpp"

using namespace racewin;
using namespace racewin::calibrate;
using namespace racewin::test;

TEST_CASE("the written profiles: racewin reads them, and every figure is marked") {
  const StallFit& f = two_sources_fit();
  Probe p;
  p.name = "synthetic host", p.date = "2026-12-05T00:00:00Z", p.arch = "x86_64", p.probe_version = "1.0";
  Profiles w = write_profiles(p, f, "probe.json");
  auto dir = std::filesystem::temp_directory_path() / "racewin_test_calibrate";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "hypervisor.yaml") << w.hypervisor;
  HypervisorProfile h = parse_hypervisor(CNode::parse(w.hypervisor, (dir / "hypervisor.yaml").string()));
  CHECK(h.name == "measured_synthetic_host");
  REQUIRE(h.steal.size() == 2);  // the host's periodic source, then the rest
  CHECK(h.steal[0].name == "periodic_1");
  CHECK_FALSE(h.steal[0].preempts);
  // The host's source: periodic, its period, the share of periods that showed a gap (aligned on
  // every vCPU: no records spun together say otherwise).
  CHECK(h.steal[0].kind == StealProcess::Kind::Periodic);
  CHECK(h.steal[0].period == doctest::Approx(1.000006e6).epsilon(1e-6));
  CHECK(h.steal[0].show == doctest::Approx(double(f.other_periodic[0].gaps) / f.other_periodic[0].expected).epsilon(1e-3));
  CHECK(h.steal[1].preempts);
  CHECK(h.steal[1].interarrival.mean() > 0);
  for (const auto& param : profile_params((dir / "hypervisor.yaml").string())) {
    INFO(param.key);
    CHECK_FALSE(param.marks.empty());
  }
  // The overlay: the tick's period, its handler and no separate softirq, as a case's keys.
  CHECK(w.arch_overlay.find("arch.interrupts.0.interarrival: 4ms") != std::string::npos);
  CHECK(w.arch_overlay.find("arch.interrupts.0.softirq: 0ns") != std::string::npos);
  std::filesystem::remove_all(dir);
}

// How the guest flushes another CPU's TLB: no flush interrupt and a stall of the second CPU about
// once a zap is the hypervisor's flush (written as remote_flush, its hold the gaps' law); flush
// interrupts are IPIs (nothing written).
TEST_CASE("the flush by hypercall is told from IPIs, and its target's hold is written from the second CPU's gaps") {
  GapRecord bg;  // background: 1,000 stalls in 1 s
  bg.spun_ns = 1e9;
  for (int i = 0; i < 1000; ++i) bg.start.push_back(i * 1e6), bg.len.push_back(5000);
  Probe p;
  p.name = "synthetic", p.date = "2026-12-05T00:00:00Z", p.arch = "x86_64", p.probe_version = "1.0", p.threshold_ns = 1000;
  p.alone = {bg};
  p.madvise_present.count = 1000, p.madvise_present.sample = std::vector<double>(1000, 6000);
  p.madvise_present_shootdown.count = 100000, p.madvise_present_shootdown.sample = std::vector<double>(5000, 26000);
  // 100,000 zaps in 4 s of spinning: 4,000 background stalls and one 13 us hold a zap.
  p.second_cpu_spun_ns = 4e9;
  p.second_cpu_gaps.count = 104000;
  p.second_cpu_gaps.sample = draws(law("{lognormal: {median: 13us, sigma: 0.1}}"), 5000, 1000, 11);
  p.flush_irqs_known = true;
  FlushFit f = fit_flush(p);
  CHECK(f.by_hypercall);
  CHECK(f.background == doctest::Approx(4000).epsilon(0.01));
  CHECK(f.gaps_per_call == doctest::Approx(1.0).epsilon(0.01));
  REQUIRE(f.stall);
  // 5,000 draws of sigma 0.1: the median's standard error is ~0.18%; 1% is over five of them.
  CHECK(f.stall->best().median() == doctest::Approx(13000).epsilon(0.01));
  const StallFit& s = two_sources_fit();
  Profiles w = write_profiles(p, s, "probe.json", f);
  HypervisorProfile h = parse_hypervisor(CNode::parse(w.hypervisor, "hypervisor.yaml"));
  REQUIRE(h.remote_flush.on);
  CHECK(h.remote_flush.target_stall.mean() == doctest::Approx(f.stall->best().median() * std::exp(0.5 * 0.01)).epsilon(0.02));
  // The sender's extra 20 us less the 13 us hold, halved: 3.5 us there and 3.5 us back.
  CHECK(h.remote_flush.send.mean() == doctest::Approx((20000 - f.stall->best().median()) / 2).epsilon(1e-3));
  CHECK(h.remote_flush.ack_latency.mean() == doctest::Approx(h.remote_flush.send.mean()));
  // The same run with a flush IPI per zap: IPIs, no remote flush written.
  p.flush_irqs = 100000;
  FlushFit ipi = fit_flush(p);
  CHECK_FALSE(ipi.by_hypercall);
  CHECK(write_profiles(p, s, "probe.json", ipi).hypervisor.find("remote_flush") == std::string::npos);
  // An older file, without the second thread's gaps: not told.
  p.second_cpu_gaps = {};
  CHECK_FALSE(fit_flush(p).known);
}

// A periodic source that shows a gap in only part of its periods is not written as one that takes
// a gap every period: the host source with that share (or, not aligned, at the rate of its gaps),
// the tick's handler with the unseen share below the threshold.
TEST_CASE("a periodic source seen in half its periods is written with that share, or at the rate of its gaps") {
  StallFit f = two_sources_fit();
  f.tick.gaps = size_t(f.tick.expected / 2);
  PeriodicFit& h = f.other_periodic.at(0);
  h.gaps = size_t(h.expected / 2);
  Probe p;
  p.name = "half", p.date = "2026-12-05T00:00:00Z", p.arch = "x86_64", p.probe_version = "1.0", p.threshold_ns = 1000;
  Profiles w = write_profiles(p, f, "probe.json");
  HypervisorProfile hp = parse_hypervisor(CNode::parse(w.hypervisor, "hypervisor.yaml"));
  REQUIRE(hp.steal.size() == 2);
  // A gap in one period of two.
  CHECK(hp.steal[0].kind == StealProcess::Kind::Periodic);
  CHECK(hp.steal[0].show == doctest::Approx(0.5).epsilon(1e-3));
  // Not aligned across vCPUs: a renewal process per vCPU at the rate of its gaps, one every 2
  // periods (its running time 2 periods less the gaps' median).
  h.aligned_known = true, h.max_phase_offset_ns = 10 * h.window_ns;
  HypervisorProfile apart = parse_hypervisor(CNode::parse(write_profiles(p, f, "probe.json").hypervisor, "hypervisor.yaml"));
  CHECK(apart.steal[0].kind == StealProcess::Kind::Renewal);
  CHECK(apart.steal[0].interarrival.mean() + h.length->best().median() == doctest::Approx(2 * h.period_ns).epsilon(1e-3));
  // The tick's handler: half of its 64 values at half the threshold, the rest the gaps' law.
  CHECK(w.arch_overlay.find("arch.interrupts.0.handler: {empirical: [500ns, ") != std::string::npos);
  CHECK(w.arch_overlay.find("Only 50% of the ticks") != std::string::npos);
  Dist handler = Dist::parse(CNode::parse(w.arch_overlay.substr(w.arch_overlay.find("{empirical")), "overlay"));
  CHECK(handler.mean() == doctest::Approx(0.5 * 500 + 0.5 * f.tick.length->best().median()).epsilon(0.1));
}

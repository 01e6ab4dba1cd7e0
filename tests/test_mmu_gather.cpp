// A multi-page MADV_DONTNEED: PTE arrays, the mmu_gather batch limit and the forced flush of
// zap_pte_range (models/mm/madvise_dontneed_range.yaml, configs/madvise_range.yaml).
#include "config_error_support.hpp"
#include "run/run.hpp"

using namespace racewin;
using namespace racewin::test;

namespace {

// configs/madvise_range.yaml's case on bare metal (no PV flush skips an IPI), run for `iterations`
// of the madvise thread, with `sets` on top.
CaseResult run_range(const std::string& case_name, uint64_t iterations, std::vector<Override> sets) {
  sets.push_back({"run.iterations", std::to_string(iterations)});
  sets.push_back({"run.time", "0"});
  Scenario sc = load_scenario("configs/madvise_range.yaml", sets, {case_name});
  REQUIRE(sc.cases.size() == 1);
  RunControl ctl;
  CaseResult r = run_case(sc.cases[0], EngineKind::Native, ctl);
  REQUIRE(r.failure.empty());
  return r;
}

uint64_t hits(const CaseResult& r) {
  uint64_t n = 0;
  for (const auto& h : r.hazards) n += h.count;
  return n;
}

}  // namespace

TEST_CASE("zap_pte_range flushes after exactly mmu_gather_batch gathered pages: ceil(N/B) shootdowns a call") {
  // 512 pages, all refaulted before each madvise; the bystander never flushes, so every IPI is
  // one of madvise's shootdowns, to the one other vCPU.
  const uint64_t iters = 3;
  for (int b : {1, 7, 8, 100, 511, 512, 513, 9698}) {
    CAPTURE(b);
    CaseResult r = run_range("x86_64_bare", iters, {{"kernel.mmu_gather_batch", std::to_string(b)}});
    CHECK(r.iterations == iters);
    CHECK(r.ipis == iters * uint64_t((512 + b - 1) / b));
    CHECK(hits(r) == 0);  // freed only after its flush, never while mapped
  }
}

TEST_CASE("the default mmu_gather holds a whole page table: one shootdown per madvise call") {
  Scenario sc = load_scenario("configs/madvise_range.yaml", {}, {"x86_64_bare"});
  CHECK(sc.cases[0].kernel.mmu_gather_batch == 9698);  // 8 + 19 x 510 (include/asm-generic/tlb.h, v5.9)
  CaseResult r = run_range("x86_64_bare", 2, {{"kernel.mmu_gather_batch", "9698"}});
  CHECK(r.ipis == 2);
}

TEST_CASE("a smaller batch costs madvise an IPI round trip per flush, with the PTL held") {
  CaseResult big = run_range("x86_64_bare", 4, {});
  CaseResult one = run_range("x86_64_bare", 4, {{"kernel.mmu_gather_batch", "1"}});
  // 511 more round trips of ~0.7 us (latency, handler, ack) per call: well over 200 us more.
  CHECK(one.sim_time_ns / 4 > big.sim_time_ns / 4 + 200e3);
}

TEST_CASE("s390x frees directly: the gather never fills, and the broadcast flush sends no IPI") {
  CaseResult r = run_range("x86_64_bare", 2, {{"arch", "../models/arch/s390x.yaml"}, {"kernel.mmu_gather_batch", "1"}});
  CHECK(r.ipis == 0);
  CHECK(hits(r) == 0);
}

TEST_CASE("the range path and its scenario validate, every case") {
  Scenario sc = load_scenario("configs/madvise_range.yaml", {});
  CHECK(sc.cases.size() == 4);
  const CaseConfig& c = sc.cases[0];
  REQUIRE(c.names.pte_arrays.size() == 1);
  CHECK(c.names.pte_arrays[0].count == 512);
  CHECK(c.names.ptes.size() == 513);
  CHECK(c.names.ptes[1] == "range[0]");
  CHECK(c.threads[0].path.name == "touch_anon_range+madvise_dontneed_range");
}

TEST_CASE("PTE arrays: bad declarations and references name the file and line") {
  TempDir d;
  auto scenario = [&](const std::string& ptes, const std::string& step) {
    d.write("p.yaml", path_with(step));
    return d.write("scenario.yaml", replace_once(scenario_yaml(kRunsP), "ptes: [map]", "ptes: " + ptes));
  };
  std::string file, needle;
  std::vector<std::string> cause;
  SUBCASE("an array without an index") {
    scenario("[{name: range, count: 4}]", "pte_read: {pte: range, into: x}");
    file = d.path("p.yaml"), needle = "pte_read", cause = {"array of 4 PTEs", "range[i]"};
  }
  SUBCASE("an index into a plain PTE") {
    scenario("[map]", "pte_read: {pte: \"map[0]\", into: x}");
    file = d.path("p.yaml"), needle = "pte_read", cause = {"'map' is not a PTE array"};
  }
  SUBCASE("len() of a plain PTE") {
    scenario("[map]", "{goto: again, if: \"1 != len(map)\"}");
    file = d.path("p.yaml"), needle = "len(map)", cause = {"len() takes a PTE array"};
  }
  SUBCASE("a zero count") {
    file = scenario("[{name: range, count: 0}]", "work: madvise_syscall");
    needle = "count: 0", cause = {"count"};
  }
  SUBCASE("a name declared twice") {
    file = scenario("[map, {name: map, count: 2}, map]", "work: madvise_syscall");
    needle = "ptes:", cause = {"'map' is declared twice"};
  }
  SUBCASE("a bad batch size") {
    d.write("p.yaml", path_with("work: madvise_syscall"));
    file = d.write("scenario.yaml", scenario_yaml(kRunsP) + "kernel: {mmu_gather_batch: 0}\n");
    needle = "mmu_gather_batch", cause = {"mmu_gather_batch"};
  }
  std::string msg = rejection(d.path("scenario.yaml"));
  INFO("message: " << msg);
  CHECK(msg.rfind(at(file, line_of(read_text(file), needle)), 0) == 0);
  for (const auto& part : cause) CHECK_MESSAGE(contains(msg, part), "does not name " << part);
}

TEST_CASE("an index outside its PTE array stops the run with the step that made it") {
  TempDir d;
  d.write("p.yaml", "path: p\nvars: {i: 0}\nsteps:\n  - pte_read: {pte: \"range[i]\", into: x}\n  - set: {i: i + 3}\n");
  std::string file = d.write("scenario.yaml", replace_once(scenario_yaml(kRunsP), "ptes: [map]", "ptes: [{name: range, count: 4}]"));
  Scenario sc = load_scenario(file, {});
  RunControl ctl;
  CaseResult r = run_case(sc.cases[0], EngineKind::Native, ctl);
  INFO(r.failure);
  CHECK(contains(r.failure, "PTE index 6 outside the array of 4"));
  CHECK(contains(r.failure, "p.yaml:4"));
}

// KERNEL-REVIEW-2 N2: tlb_finish_mmu after a zap that cleared nothing flushes nothing
// (tlb_flush_mmu_tlbonly returns at once: asm-generic/tlb.h:414-422) and frees nothing (an empty
// gather: mmu_gather.c:44-53). The shipped madvise thread against the writer, x86_64 bare: each
// call either zaps the page (then it flushes and frees) or finds the PTE empty (then neither).
TEST_CASE("an empty madvise call flushes and frees nothing; one that zapped does both") {
  Scenario sc = load_scenario("configs/dirtyc0w_child.yaml", {}, {"x86_64_bare_v5.9-rc4"});
  Log log = run_logged(sc.cases.at(0), 2e6);
  int empty = 0, zapped = 0;
  bool in_call = false, cleared = false, flushed = false, freed = false;
  for (const auto& e : log.events) {
    if (e.vcpu != 0) continue;
    if (e.what.find("madvise_syscall") != std::string::npos) in_call = true, cleared = flushed = freed = false;
    if (!in_call) continue;
    cleared |= e.what.find("ptep_get_and_clear") != std::string::npos;
    flushed |= e.what.find("tlb_flush_mmu_tlbonly") != std::string::npos;
    freed |= e.what.find("tlb_flush_mmu_free") != std::string::npos;
    if (e.what.find("madvise_return") == std::string::npos) continue;
    in_call = false;
    CHECK(flushed == cleared);
    CHECK(freed == cleared);
    ++(cleared ? zapped : empty);
  }
  MESSAGE(zapped << " calls zapped the page, " << empty << " found it empty");
  CHECK(zapped > 10);
  CHECK(empty > 10);
}

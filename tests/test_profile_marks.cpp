// How each profile figure is known: a mark on its key's line (sim/config/profile_marks.hpp), read for the
// default set of a sensitivity sweep and for `racewin params`.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "config/profile_marks.hpp"
#include "config/scenario.hpp"
#include "sweep/sweep.hpp"

using namespace racewin;

TEST_CASE("marks: every parameter of every shipped profile says how its figure is known") {
  int params = 0;
  for (const char* dir : {"models/arch", "models/hypervisor"})
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      for (const auto& p : profile_params(f.path().string())) {
        ++params;
        CHECK_MESSAGE(!p.marks.empty(), p.loc.str(), ": ", p.key, " has no mark ([C], [S], [I], [E] or [V]) on its line");
      }
    }
  CHECK(params > 150);  // s390x, x86_64, five hypervisors: the walk reached the leaves
}

TEST_CASE("marks: read from the comment, one or several letters, nothing else in brackets") {
  CHECK(marks_in_comment(" cost of a store [E]") == "E");
  CHECK(marks_in_comment(" ~5% steal [S/E]") == "SE");
  CHECK(marks_in_comment(" DSPSLICE [C range, M? default]; the law [E]") == "CE");
  CHECK(marks_in_comment(" PAGEVEC_SIZE [C]. [C] again") == "C");
  CHECK(marks_in_comment(" see vector [0] or [timer] or [Ex]") == "");
  CHECK(marks_in_comment("") == "");
}

TEST_CASE("marks: block maps are looked into, a marked key is one parameter, list items by index") {
  std::string path = std::filesystem::temp_directory_path() / "racewin_marks_test.yaml";
  std::ofstream(path) << "arch: t\ndoc: 'a # not a comment [E]'\n"
                         "tlb:\n  flush: broadcast  # hardware [C]\n  free: direct\n"
                         "ipi:  # all of it [V]\n  latency: 0ns\n"
                         "spinlock: {model: fifo}  # [C/E]\n"
                         "interrupts:\n  - name: timer\n    model: periodic\n    interarrival: 4ms  # HZ [C]\n"
                         "    handler: {lognormal: {median: 2us, sigma: 0.5}}  # 'x' # [E]\n";
  auto ps = profile_params(path);
  REQUIRE(ps.size() == 6);
  CHECK(ps[0].key == "tlb.flush");
  CHECK(ps[0].marks == "C");
  CHECK(ps[0].loc.line == 4);
  CHECK(ps[1].key == "tlb.free");
  CHECK(ps[1].marks.empty());
  CHECK(ps[2].key == "ipi");
  CHECK(ps[2].marks == "V");
  CHECK(ps[3].key == "spinlock");
  CHECK(ps[3].value == "{model: fifo}");
  CHECK(ps[3].estimate());
  CHECK(ps[4].key == "interrupts.0.interarrival");
  CHECK(!ps[4].estimate());
  CHECK(ps[5].key == "interrupts.0.handler");
  CHECK(ps[5].estimate());
}

TEST_CASE("marks: a sensitivity without parameters varies every duration the case's profiles mark [E]") {
  Scenario sc = load_scenario("configs/dirtyc0w_child.yaml", {}, {"s390x_zvm_v5.9-rc4"});
  const CaseConfig& c = sc.cases.at(0);
  auto keys = estimated_parameters(c);
  auto has = [&](const std::string& k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  CHECK(has("hypervisor.steal.0.interarrival"));  // [C] slice, [E] law
  CHECK(has("arch.costs.free_pages_prepare"));
  CHECK(has("arch.spinlock.shared"));              // its spin_retry [E]
  CHECK(!has("arch.tlb.flush"));                   // [C], and no duration in it
  CHECK(!has("arch.interrupts.0.interarrival"));   // HZ_100 [C]
  CHECK(!has("arch.lru_pagevec_size"));            // [C]
  CHECK(!has("arch.costs.smp_yield_cpu"));         // replaced by hypervisor.costs.smp_yield_cpu
  CHECK(has("hypervisor.costs.smp_yield_cpu"));
  int estimates = 0;
  for (const auto& p : case_params(c)) {
    if (!p.estimate()) continue;
    if (replaced_by_hypervisor(c.resolved, p.key)) {
      CHECK(!has(p.key));  // z/VM's DIAG 9C replaces the LPAR's
      continue;
    }
    ++estimates;
    CHECK_MESSAGE(has(p.key), p.key, " is an estimate but was left out");
  }
  CHECK(keys.size() == size_t(estimates));  // every [E] here holds a duration

  std::string path = std::filesystem::temp_directory_path() / "racewin_marks_sens.yaml";
  std::ofstream(path) << "sweep: sens\nscenario: " << std::filesystem::absolute("configs/dirtyc0w_child.yaml").string()
                      << "\ncases: [s390x_zvm_v5.9-rc4]\nsensitivity: {hazard: bad_page_state}\n";
  Sweep s = load_sweep(path);
  REQUIRE(s.sensitivity);
  CHECK(s.sensitivity->parameters == keys);
  CHECK(s.points.size() == 1 + 2 * keys.size());
}

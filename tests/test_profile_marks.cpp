// How each profile figure is known: a mark on its key's line (sim/config/profile_marks.hpp), read for the
// default set of a sensitivity sweep and for `racewin params`.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "config/profile_marks.hpp"
#include "config/scenario.hpp"
#include "sweep/sweep.hpp"

using namespace racewin;

namespace {
// The parameters of a profile whose text is `yaml`, written to a temporary file.
std::vector<ProfileParam> params_of(const std::string& yaml) {
  std::string path = std::filesystem::temp_directory_path() / "racewin_marks_test.yaml";
  std::ofstream(path) << yaml;
  return profile_params(path);
}
// Every arch and hypervisor profile shipped, measured ones included
// (models/hypervisor/measured/*/hypervisor.yaml; not the arch_overlay.yaml beside them, a case's
// keys, nor their window_race.yaml, a scenario).
std::vector<std::string> shipped_profiles() {
  std::vector<std::string> out;
  for (const char* dir : {"models/arch", "models/hypervisor"})
    for (const auto& f : std::filesystem::directory_iterator(dir))
      if (f.is_regular_file() && f.path().extension() == ".yaml") out.push_back(f.path().string());
  for (const auto& f : std::filesystem::directory_iterator("models/hypervisor/measured"))
    if (std::filesystem::exists(f.path() / "hypervisor.yaml")) out.push_back((f.path() / "hypervisor.yaml").string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("marks: every parameter of every shipped profile says how its figure is known") {
  int params = 0;
  for (const auto& file : shipped_profiles())
    for (const auto& p : profile_params(file)) {
      ++params;
      CHECK_MESSAGE(!p.marks.empty(), p.loc.str(), ": ", p.key, " has no mark ([C], [S], [I], [E], [V] or [M]) on its line");
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
  auto ps = params_of("arch: t\ndoc: 'a # not a comment [E]'\n"
                         "tlb:\n  flush: broadcast  # hardware [C]\n  free: direct\n"
                         "ipi:  # all of it [V]\n  latency: 0ns\n"
                         "spinlock: {model: fifo}  # [C/E]\n"
                         "interrupts:\n  - name: timer\n    model: periodic\n    interarrival: 4ms  # HZ [C]\n"
                         "    handler: {lognormal: {median: 2us, sigma: 0.5}}  # 'x' # [E]\n");
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
  CHECK(has("arch.costs.ptep_get_and_clear"));   // the IPTE
  CHECK(has("arch.debug_costs.free_pages_prepare"));
  CHECK(has("arch.spinlock.shared"));              // its spin_retry [E]
  CHECK(!has("arch.tlb.flush"));                   // [C], and no duration in it
  CHECK(!has("arch.interrupts.0.interarrival"));   // HZ_100 [C]
  CHECK(!has("arch.lru_pagevec_size"));            // [C]
  // The study's debug kernel uses debug_costs' framing: the production figure would vary nothing.
  CHECK(!has("arch.costs.madvise_syscall"));
  CHECK(has("arch.debug_costs.madvise_syscall"));
  CHECK(replaced_by(c, "arch.costs.madvise_syscall") == "arch.debug_costs.madvise_syscall");
  Scenario prod = load_scenario("configs/dirtyc0w_child.yaml", {}, {"s390x_zvm_v5.9-rc4_production"});
  CHECK(replaced_by(prod.cases.at(0), "arch.costs.madvise_syscall").empty());
  CHECK(replaced_by(prod.cases.at(0), "arch.costs.smp_yield_cpu") == "hypervisor.costs.smp_yield_cpu");
  CHECK(!has("arch.costs.smp_yield_cpu"));         // replaced by hypervisor.costs.smp_yield_cpu
  CHECK(has("hypervisor.costs.smp_yield_cpu"));
  int estimates = 0;
  for (const auto& p : case_params(c)) {
    if (!p.estimate()) continue;
    if (!replaced_by(c, p.key).empty()) {
      CHECK(!has(p.key));  // z/VM's DIAG 9C replaces the LPAR's, a debug kernel's framing the production one
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

// Issue 26: every estimate carries a plausible range into the answer (racewin params --estimates,
// uncertainty sweeps), and says why.
TEST_CASE("ranges: every estimate of every shipped profile has a range and a reason") {
  int estimates = 0;
  for (const auto& file : shipped_profiles())
    for (const auto& p : profile_params(file)) {
      // A yes-or-no assumption (a measured profile's preempts) has no range to give.
      if (!p.estimate() || p.value == "true" || p.value == "false") continue;
      ++estimates;
      CHECK_MESSAGE(!p.range.empty(), p.loc.str(), ": ", p.key, " is an estimate without a range [E lo..hi]");
      CHECK_MESSAGE(!p.reason.empty(), p.loc.str(), ": ", p.key, "'s range has no reason");
    }
  CHECK(estimates > 100);
}

TEST_CASE("ranges: each range of the study's profiles holds the value the case uses") {
  int checked = 0;
  for (const auto& c : load_scenario("configs/dirtyc0w_child.yaml", {}, {}).cases)
    for (const auto& p : case_params(c)) {
      const nlohmann::json* v = resolved_value(c.resolved, p.key);
      if (!p.estimate() || !v || !replaced_by(c, p.key).empty()) continue;
      CAPTURE(p.loc.str());
      CHECK_NOTHROW(range_factors(p, *v));
      ++checked;
    }
  CHECK(checked > 100);
}

TEST_CASE("ranges: absolute bounds are read against the value's first duration, factors as written") {
  ProfileParam p;
  p.key = "costs.x";
  p.marks.push_back('E');  // (= "E" trips GCC 12 -Wrestrict, a false positive)
  p.loc = SourceLoc{"f.yaml", 7, 0};
  p.range = "1us..10us";
  auto r = range_factors(p, nlohmann::json::parse(R"({"lognormal": {"median": "2us", "sigma": "0.4"}})"));
  REQUIRE(r);
  CHECK(r->lo == doctest::Approx(0.5));
  CHECK(r->hi == doctest::Approx(5));
  p.range = "x0.5..x3";
  r = range_factors(p, nlohmann::json("40ns"));
  CHECK(r->lo == doctest::Approx(0.5));
  CHECK(r->hi == doctest::Approx(3));
  p.range = "";
  CHECK(!range_factors(p, nlohmann::json("40ns")));
  auto refused = [&](const std::string& range, const nlohmann::json& v, const std::string& says) {
    p.range = range;
    try {
      range_factors(p, v);
      FAIL("no error for " << range);
    } catch (const ConfigError& e) {
      CHECK(e.where().line == 7);
      CHECK_MESSAGE(std::string(e.what()).find(says) != std::string::npos, e.what());
    }
  };
  refused("3us..10us", nlohmann::json("2us"), "does not hold the value itself");
  refused("x2..x0.5", nlohmann::json("2us"), "does not hold the value itself");
  refused("xa..x2", nlohmann::json("2us"), "is not a factor");
  refused("1..2", nlohmann::json("2us"), "neither a factor");
  refused("1us..3us", nlohmann::json("15"), "holds no duration");
}

TEST_CASE("ranges: the range sits in the mark; the reason is the line's text, the comment above, or the legend") {
  auto ps = params_of("# [E x0.5..x3]: primitives, a cache miss triples them\n"
                         "arch: t\ncosts:\n  spin_lock: 15ns  # [E x0.5..x3]\n"
                         "  # a wakeup with a reschedule\n  lock_page_wakeup: 3us  # [E 1us..10us]\n"
                         "  ptep_clear_flush: 400ns  # IPTE [S/E 100ns..3us]\n  put_page: 15ns  # [C]\n");
  REQUIRE(ps.size() == 4);
  CHECK(ps[0].range == "x0.5..x3");
  CHECK(ps[0].reason == "primitives, a cache miss triples them");
  CHECK(ps[1].range == "1us..10us");
  CHECK(ps[1].reason == "a wakeup with a reschedule");
  CHECK(ps[2].marks == "SE");
  CHECK(ps[2].range == "100ns..3us");
  CHECK(ps[2].reason == "IPTE");
  CHECK(ps[3].range.empty());
}

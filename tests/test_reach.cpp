// racewin exact --reachable: the fixed kernels cannot free a locked page, the buggy one can, and the
// symmetry reduction (pages up to renaming, dead variables cleared) leaves a chain's answers alone.
#include <doctest/doctest.h>

#include "config/scenario.hpp"
#include "exact/exact.hpp"
#include "model/machine.hpp"

using namespace racewin;

namespace {

// The study's s390x z/VM cases, every duration exponential, made small enough for a unit test:
// no steal and no tick (they only delay steps: under exponential clocks every order of the two
// threads' steps is already possible), LRU pagevecs of 2 (the buggy reuse needs the writer's
// pagevec drained; 15 takes millions of states), 16 pages (at most 3 are in use).
CaseConfig small_case(const std::string& name) {
  Scenario s = load_scenario("configs/dirtyc0w_child.yaml",
                             {{"hypervisor.steal", "[]"}, {"arch.interrupts", "[]"}, {"arch.lru_pagevec_size", "2"},
                              {"machine.pages", "16"}, {"kernel.config", "production"}, {"kernel.task", "null"}},
                             {name});
  CaseConfig c = s.cases.at(0);
  make_exponential(c);
  return c;
}

}  // namespace

TEST_CASE("reach: bad_page_state is unreachable in the fixed kernels and reachable in v5.9-rc4") {
  for (const char* fixed : {"s390x_zvm_v5.9-fixed", "s390x_zvm_v5.8"}) {
    ReachResult r = reach(small_case(fixed), {});
    CHECK_MESSAGE(r.complete, fixed);
    CHECK_MESSAGE(!r.reached, fixed);
    CHECK(r.states > 1000);
    MESSAGE(std::string(fixed) << ": " << r.states << " states, " << r.transitions << " transitions");
  }
  ReachResult bug = reach(small_case("s390x_zvm_v5.9-rc4"), {});
  REQUIRE(bug.reached);
  CHECK(bug.detail.find("freed with PG_locked") != std::string::npos);
  CHECK(bug.trace.size() > 10);
  CHECK(bug.trace.back().find("HAZARD bad_page_state") != std::string::npos);
  // The state limit is honest: not complete, not reached.
  ReachOptions small;
  small.max_states = 100;
  ReachResult cut = reach(small_case("s390x_zvm_v5.9-fixed"), small);
  CHECK(!cut.complete);
  CHECK(!cut.reached);
  ReachOptions other;
  other.hazard = "no_such_hazard";
  CHECK_THROWS_AS(reach(small_case("s390x_zvm_v5.9-fixed"), other), ModelError);
}

TEST_CASE("reach: the symmetry reduction leaves a chain's answers unchanged, with fewer states") {
  // A case whose chain also completes without the reduction: page ids kept few by a 4-page pool and pagevecs of 1.
  Scenario s = load_scenario("configs/dirtyc0w_child.yaml",
                             {{"hypervisor.steal", "[]"}, {"arch.interrupts", "[]"}, {"arch.lru_pagevec_size", "1"},
                              {"machine.pages", "4"}, {"kernel.pcp_high", "1"}, {"kernel.pcp_batch", "1"},
                              {"kernel.config", "production"}, {"kernel.task", "null"}},
                             {"s390x_zvm_v5.9-fixed"});
  CaseConfig c = s.cases.at(0);
  make_exponential(c);
  ExactOptions plain, sym;
  sym.symmetry = true;
  Chain a = build_chain(c, plain), b = build_chain(c, sym);
  CHECK(b.states() < a.states());
  ExactResult ra = solve_chain(a, 3), rb = solve_chain(b, 3);
  MESSAGE(a.states() << " states without the reduction, " << b.states() << " with");
  CHECK(std::abs(rb.iterations_per_s / ra.iterations_per_s - 1) < 1e-6);
  REQUIRE(ra.hazards.size() == rb.hazards.size());
  for (size_t i = 0; i < ra.hazards.size(); ++i) {
    CHECK(std::abs(rb.hazards[i].p_iteration - ra.hazards[i].p_iteration) <= 1e-6 * ra.hazards[i].p_iteration + 1e-15);
    CHECK(std::abs(rb.hazards[i].events_per_s - ra.hazards[i].events_per_s) <= 1e-6 * ra.hazards[i].events_per_s + 1e-6);
    CHECK(std::abs(rb.hazards[i].p_within_k - ra.hazards[i].p_within_k) <= 1e-6 * ra.hazards[i].p_within_k + 1e-15);
  }
  for (size_t i = 0; i < ra.windows.size(); ++i)
    CHECK(std::abs(rb.windows[i].p_hit - ra.windows[i].p_hit) <= 1e-6 * ra.windows[i].p_hit + 1e-15);
}

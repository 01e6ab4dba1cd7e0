// A run is a pure function of its configuration and seed, on either engine.
#include <doctest/doctest.h>

#include "config/scenario.hpp"
#include "output/output.hpp"
#include "run/run.hpp"

using namespace racewin;

namespace {

nlohmann::json run_json(EngineKind engine, const std::vector<Override>& sets) {
  Scenario sc = load_scenario("configs/dirtyc0w_child.yaml", sets, {"s390x_zvm_v5.9-rc4", "x86_64_kvm_v5.9-rc4"});
  std::vector<CaseResult> results;
  for (const auto& c : sc.cases) {
    RunControl ctl;
    results.push_back(run_case(c, engine, ctl));
  }
  nlohmann::json j = results_json({"test", "configs/dirtyc0w_child.yaml", ""}, sc, results, true);
  return j;
}

}  // namespace

TEST_CASE("the same configuration and seed give identical results") {
  std::vector<Override> sets = {{"run.time", "200ms"}, {"run.seed", "7"}};
  auto a = run_json(EngineKind::Native, sets);
  auto b = run_json(EngineKind::Native, sets);
  CHECK(a.dump() == b.dump());
  auto c = run_json(EngineKind::Native, {{"run.time", "200ms"}, {"run.seed", "8"}});
  CHECK(a.dump() != c.dump());  // and the seed matters
}

TEST_CASE("the SimGrid and native engines drive the model to the same counts") {
  // Same model, same random streams: every count agrees exactly on this run.
  std::vector<Override> sets = {{"run.time", "20ms"}, {"run.seed", "3"}};
  auto n = run_json(EngineKind::Native, sets);
  auto s = run_json(EngineKind::SimGrid, sets);
  for (size_t i = 0; i < n["cases"].size(); ++i) {
    CAPTURE(n["cases"][i]["case"]);
    CHECK(n["cases"][i]["thread_iterations"] == s["cases"][i]["thread_iterations"]);
    CHECK(n["cases"][i]["events"] == s["cases"][i]["events"]);
    CHECK(n["cases"][i]["spinlocks"][0]["contended"] == s["cases"][i]["spinlocks"][0]["contended"]);
    CHECK(n["cases"][i]["windows"][0]["opened"] == s["cases"][i]["windows"][0]["opened"]);
  }
}

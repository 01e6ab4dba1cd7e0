// Issue 25, the input side: a --set never changes a case's identity silently (scopes, the refusal
// rule, deviations named), durations need a unit, a cost nothing charges is refused.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/units.hpp"
#include "config/scenario.hpp"

using namespace racewin;

namespace {

const char* kStudy = "configs/dirtyc0w_child.yaml";

std::string refusal(const std::vector<Override>& sets, const std::vector<std::string>& only = {}) {
  try {
    load_scenario(kStudy, sets, only);
  } catch (const OverrideError& e) {
    return e.what();
  } catch (const ConfigError& e) {
    return std::string("ConfigError, not OverrideError: ") + e.what();
  }
  return "";
}

const CaseConfig& find(const Scenario& sc, const std::string& name) {
  for (const auto& c : sc.cases)
    if (c.name == name) return c;
  FAIL("no case " << name);
  return sc.cases.front();
}

}  // namespace

TEST_SUITE("overrides: scopes, refusals, labels") {

TEST_CASE("parse_override: [CASE:]KEY=VALUE, the value may hold ':' and '='") {
  Override o = parse_override("hypervisor.steal={model: renewal, a: b=c}", "--set");
  CHECK(o.scope.empty());
  CHECK(o.key == "hypervisor.steal");
  CHECK(o.value == "{model: renewal, a: b=c}");
  CHECK(o.origin == "--set");
  o = parse_override("s390x_*:threads.writer.path=x.yaml", "--set-after");
  CHECK(o.scope == "s390x_*");
  CHECK(o.key == "threads.writer.path");
  CHECK(o.origin == "--set-after");
  CHECK_THROWS_AS(parse_override("novalue", "--set"), OverrideError);
  CHECK_THROWS_AS(parse_override(":key=1", "--set"), OverrideError);
  CHECK_THROWS_AS(parse_override("case:=1", "--set"), OverrideError);
}

TEST_CASE("scope_matches: a name or a glob, whole names only") {
  CHECK(scope_matches("s390x_zvm_v5.8", "s390x_zvm_v5.8"));
  CHECK(scope_matches("s390x_*", "s390x_zvm_v5.8"));
  CHECK(scope_matches("*_v5.9-rc4", "x86_64_kvm_v5.9-rc4"));
  CHECK_FALSE(scope_matches("s390x_*", "x86_64_kvm_v5.9-rc4"));
  CHECK_FALSE(scope_matches("s390x_zvm", "s390x_zvm_v5.8"));
}

TEST_CASE("overlaps: equal keys or one inside the other; picking a profile file is not its keys") {
  CHECK(overlaps("threads.writer.path", "threads.writer.path"));
  CHECK(overlaps("threads.writer", "threads.writer.path"));
  CHECK(overlaps("hypervisor.steal.0.interarrival", "hypervisor.steal"));
  CHECK(overlaps("hypervisor", "hypervisor"));
  CHECK_FALSE(overlaps("hypervisor", "hypervisor.pv_tlb_flush"));
  CHECK_FALSE(overlaps("threads.writer.path", "threads.writer.pathx"));
  CHECK_FALSE(overlaps("kernel.debug_vm", "kernel.page_lock_unfairness"));
}

TEST_CASE("an unscoped --set that replaces cases' own lines is refused, naming them") {
  std::string e = refusal({parse_override("threads.writer.path=../models/mm/proc_mem_write_v5.9.yaml", "--set")});
  CHECK(e.find("s390x_zvm_v5.9-fixed") != std::string::npos);
  CHECK(e.find("s390x_zvm_v5.8") != std::string::npos);
  CHECK(e.find("s390x_zvm_v5.9-rc4 ") == std::string::npos);
  CHECK(e.find("--force-override") != std::string::npos);
  // ... not when the cases that set it are left out, nor with a scope, nor forced.
  CHECK(refusal({parse_override("threads.writer.path=../models/mm/proc_mem_write_v5.9.yaml", "--set")},
                {"s390x_zvm_v5.9-rc4"}) == "");
  CHECK(refusal({parse_override("s390x_zvm_v5.9-rc4:threads.writer.path=../models/mm/proc_mem_write_v5.9.yaml", "--set")}) == "");
  CHECK_NOTHROW(load_scenario(kStudy, {parse_override("kernel.page_lock_unfairness=5", "--set")}, {}, true));
}

TEST_CASE("an unscoped --set that means nothing for a case is refused") {
  std::string e = refusal({parse_override("hypervisor.pv_tlb_flush=true", "--set")});
  CHECK(e.find("s390x_zvm_v5.9-rc4 (arch 's390x' flushes TLBs by broadcast") != std::string::npos);
  CHECK(e.find("x86_64_bare_v5.9-rc4 (hypervisor 'bare_metal' has no steal") != std::string::npos);
  CHECK(e.find("x86_64_kvm_nopv_v5.9-rc4") != std::string::npos);  // it sets pv_tlb_flush itself
  CHECK(e.find("x86_64_kvm_v5.9-rc4 ") == std::string::npos);
  // In the measured case's profile steal[0] is a periodic source: there the key is not meaningless
  // but wrong, an error that names the case (the location alone, --set KEY, would not say which).
  Override every_ms = parse_override("hypervisor.steal.0.interarrival={exponential: {mean: 1ms}}", "--set");
  e = refusal({every_ms});
  CHECK(e.find("--set hypervisor.steal.0.interarrival: case x86_64_pvm_measured_v5.9-rc4: 'steal[0].interarrival': "
               "a periodic steal source has a period, not an interarrival") != std::string::npos);
  // Without that case, the cases with no steal at all are refused together.
  e = refusal({every_ms}, {"s390x_zvm_v5.9-rc4", "s390x_bare_v5.9-rc4", "x86_64_bare_v5.9-rc4"});
  CHECK(e.find("s390x_bare_v5.9-rc4 (hypervisor 'bare_metal' (") != std::string::npos);
  CHECK(e.find("bare_metal.yaml) has no steal process") != std::string::npos);
  CHECK(e.find("unknown key") == std::string::npos);
}

TEST_CASE("a scope that matches no case is refused, listing the cases") {
  std::string e = refusal({parse_override("s390_*:kernel.debug_vm=false", "--set")});
  CHECK(e.find("no case matches 's390_*'") != std::string::npos);
  CHECK(e.find("x86_64_bare_v5.9-rc4") != std::string::npos);
}

TEST_CASE("a case records its overrides: its own lines, then the command line's deviations") {
  Scenario sc = load_scenario(kStudy, {parse_override("s390x_zvm_*:kernel.debug_vm=false", "--set")},
                              {"s390x_zvm_v5.9-rc4", "s390x_zvm_v5.8", "x86_64_kvm_v5.9-rc4"});
  const CaseConfig& rc4 = find(sc, "s390x_zvm_v5.9-rc4");
  REQUIRE(rc4.overrides.size() == 1);
  CHECK_FALSE(rc4.overrides[0].from_file);
  CHECK(rc4.overrides[0].origin == "--set");
  CHECK(rc4.label() == "s390x_zvm_v5.9-rc4 [debug_vm=false]");
  const CaseConfig& v58 = find(sc, "s390x_zvm_v5.8");
  REQUIRE(v58.overrides.size() == 3);
  CHECK(v58.overrides[0].from_file);
  CHECK(v58.overrides[0].origin.find("dirtyc0w_child.yaml:") != std::string::npos);
  CHECK(find(sc, "x86_64_kvm_v5.9-rc4").label() == "x86_64_kvm_v5.9-rc4");
  CHECK(case_label("c", {{"threads.writer.path", "../models/mm/w.yaml", "--set", false}}) == "c [writer=w.yaml]");
}

TEST_CASE("a cost that nothing charges is refused with a did-you-mean") {
  try {
    load_scenario(kStudy, {parse_override("arch.costs.unlock_pag=40ns", "--set")});
    FAIL("accepted");
  } catch (const ConfigError& e) {
    std::string m = e.what();
    CHECK(m.find("--set arch.costs.unlock_pag") != std::string::npos);
    CHECK(m.find("did you mean 'unlock_page'") != std::string::npos);
  }
  CHECK_NOTHROW(load_scenario(kStudy, {parse_override("arch.costs.unlock_page=40ns", "--set")}));
}

}  // TEST_SUITE

TEST_SUITE("units: a duration needs a unit") {

TEST_CASE("parse_duration_ns: units, bare zero, no bare numbers, nothing below the resolution") {
  CHECK(parse_duration_ns("250ns") == 250.0);
  CHECK(parse_duration_ns("1.5us") == 1500.0);
  CHECK(parse_duration_ns("4ms") == 4e6);
  CHECK(parse_duration_ns("2s") == 2e9);
  CHECK(parse_duration_ns("1min") == 60e9);
  CHECK(parse_duration_ns("0") == 0.0);
  CHECK(parse_duration_ns("0.0") == 0.0);
  CHECK(parse_duration_ns("1ns") == 1.0);
  CHECK_FALSE(parse_duration_ns("3"));
  CHECK_FALSE(parse_duration_ns("3.5"));
  CHECK_FALSE(parse_duration_ns("5 parsecs"));
  CHECK_FALSE(parse_duration_ns("0.1ns"));
  CHECK_FALSE(parse_duration_ns("1e-400s"));
  CHECK(duration_problem("3") == "'3' has no unit; write 3s, 3ms, 3us or 3ns");
  CHECK(duration_problem("0.1ns").find("below the clock's resolution") != std::string::npos);
  CHECK(duration_problem("3ns") == "");
}

}  // TEST_SUITE

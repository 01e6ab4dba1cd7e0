// Sweep files (sim/sweep/sweep.hpp): axes expanded into points, and malformed files refused with file,
// line and cause.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "base/units.hpp"
#include "rare/rare_event.hpp"
#include "sweep/sweep.hpp"
#include "sweep/sweep_run.hpp"

using namespace racewin;

namespace {

// A sweep over configs/validation/steal_window.yaml, written to a temporary file.
std::string write_sweep(const std::string& name, const std::string& axes, const std::string& extra = "") {
  std::string dir = std::filesystem::temp_directory_path() / "racewin_sweep_test";
  std::filesystem::create_directories(dir);
  std::string path = dir + "/" + name + ".yaml";
  std::ofstream(path) << "sweep: " << name << "\nscenario: " << std::filesystem::absolute("configs/validation/steal_window.yaml").string()
                      << "\n" << extra << "axes:\n" << axes;
  return path;
}

const std::string kGap = "hypervisor.steal.0.interarrival";

std::string error_of(const std::string& path) {
  try {
    load_sweep(path);
  } catch (const ConfigError& e) {
    CHECK(e.where().file == path);
    CHECK(e.where().line > 0);
    return e.what();
  }
  FAIL("no error for " << path);
  return "";
}

}  // namespace

TEST_CASE("sweep: a grid is the product of its axes, the first slowest, values through the template") {
  Sweep s = load_sweep(write_sweep("grid",
                                   "  - {name: gap, key: " + kGap + ", template: '{exponential: {mean: $}}', log: {from: 1us, to: 100us, points: 3}}\n"
                                   "  - {name: len, key: hypervisor.steal.0.duration, values: [1us, {exponential: {mean: 2us}}]}\n"));
  REQUIRE(s.points.size() == 6);
  CHECK(s.param_names == std::vector<std::string>{"gap", "len"});
  CHECK(s.points[0].params[0].value == std::string("1us"));
  CHECK(s.points[2].params[0].value == std::string("10us"));  // 1, 10, 100 us on a log scale
  CHECK(s.points[5].params[0].value == std::string("100us"));
  CHECK(s.points[0].params[1].value == "1us");
  CHECK(s.points[1].params[1].value == "{exponential: {mean: 2us}}");
  CHECK(s.points[1].params[0].value == s.points[0].params[0].value);  // the last axis varies fastest
  CHECK(s.points[0].overrides[0].key == kGap);
  CHECK(s.points[0].overrides[0].value == "{exponential: {mean: " + std::string("1us") + "}}");
  for (size_t i = 0; i < s.points.size(); ++i) CHECK(s.points[i].index == i);
}

TEST_CASE("sweep: zipped axes move together; linear ranges; samples are seeded, Latin hypercube strata once each") {
  Sweep z = load_sweep(write_sweep("zip", "  - zip:\n"
                                          "    - {name: gap, key: " + kGap + ", template: '{exponential: {mean: $}}', linear: {from: 1us, to: 3us, points: 3}}\n"
                                          "    - {name: len, key: hypervisor.steal.0.duration, template: '{exponential: {mean: $}}', values: [4us, 5us, 6us]}\n"));
  REQUIRE(z.points.size() == 3);
  CHECK(z.points[1].params[0].value == std::string("2us"));
  CHECK(z.points[1].params[1].value == "5us");
  auto sample = [&](const std::string& method, int seed) {
    return load_sweep(write_sweep("sample_" + method + std::to_string(seed),
                                  "  - sample: {method: " + method + ", points: 10, seed: " + std::to_string(seed) +
                                      ", axes: [{name: gap, key: " + kGap + ", template: '{exponential: {mean: $}}', from: 1us, to: 11us}]}\n"));
  };
  Sweep a = sample("latin_hypercube", 3), b = sample("latin_hypercube", 3), c = sample("latin_hypercube", 4);
  REQUIRE(a.points.size() == 10);
  std::set<int> strata;
  for (size_t i = 0; i < 10; ++i) {
    CHECK(a.points[i].params[0].value == b.points[i].params[0].value);
    double ns = *parse_duration_ns(a.points[i].params[0].value);
    strata.insert(int((ns - 1e3) / 1e3));
  }
  CHECK(strata.size() == 10);  // one value in each tenth of the range
  bool differs = false;
  for (size_t i = 0; i < 10; ++i) differs = differs || a.points[i].params[0].value != c.points[i].params[0].value;
  CHECK(differs);
  CHECK(sample("random", 3).points.size() == 10);
}

TEST_CASE("sweep: malformed files get file, line and cause") {
  std::string ax = "  - {name: gap, key: " + kGap + ", template: '{exponential: {mean: $}}', ";
  CHECK(error_of(write_sweep("unknown_key", ax + "values: [1us], step: 3}\n")).find("step") != std::string::npos);
  CHECK(error_of(write_sweep("empty_axis", ax + "values: []}\n")).find("at least one value") != std::string::npos);
  CHECK(error_of(write_sweep("zero_step", ax + "linear: {from: 1us, to: 1us, points: 4}}\n")).find("zero step") != std::string::npos);
  CHECK(error_of(write_sweep("no_points", ax + "linear: {from: 1us, to: 2us, points: 0}}\n")).find("0") != std::string::npos);
  CHECK(error_of(write_sweep("zero_samples", "  - sample: {method: random, points: 0, axes: [{name: g, key: " + kGap +
                                                 ", from: 1us, to: 2us}]}\n"))
            .find("0") != std::string::npos);
  CHECK(error_of(write_sweep("zip_lengths", "  - zip:\n    - {name: a, key: " + kGap + ", values: [1us, 2us]}\n"
                                            "    - {name: b, key: hypervisor.steal.0.duration, values: [1us]}\n"))
            .find("move together") != std::string::npos);
  CHECK(error_of(write_sweep("same_name", ax + "values: [1us]}\n" + ax + "values: [2us]}\n")).find("two axes") != std::string::npos);
  CHECK(error_of(write_sweep("bad_template", "  - {name: g, key: " + kGap + ", template: 'x', values: [1us]}\n")).find("'$'") !=
        std::string::npos);
  CHECK(error_of(write_sweep("log_zero", ax + "log: {from: 0us, to: 2us, points: 3}}\n")).find("positive") != std::string::npos);
  CHECK(error_of(write_sweep("no_axes", "  []\n")).find("at least one axis") != std::string::npos);
  CHECK(error_of(write_sweep("top_key", ax + "values: [1us]}\n", "sede: 3\n")).find("sede") != std::string::npos);
}

TEST_CASE("sweep: a value the scenario rejects names the sweep file's axis") {
  std::string path = write_sweep("bad_value", "  - {name: gap, key: " + kGap + ", values: [{exponential: {mean: -1us}}]}\n");
  try {
    load_sweep(path);
    FAIL("no error");
  } catch (const ConfigError& e) {
    std::string what = e.what();
    MESSAGE(what);
    CHECK(what.find("axis gap") != std::string::npos);
  }
}

TEST_CASE("sweep: the shipped sweep files load") {
  for (const auto& f : std::filesystem::directory_iterator("configs/sweeps")) {
    CAPTURE(f.path().string());
    Sweep s = load_sweep(f.path().string());
    CHECK(!s.points.empty());
  }
}

TEST_CASE("sensitivity: the base point, then each parameter divided and multiplied; durations scaled, not sigmas") {
  std::string dir = std::filesystem::temp_directory_path() / "racewin_sweep_test";
  std::string path = dir + "/sens.yaml";
  std::ofstream(path) << "sweep: sens\nscenario: " << std::filesystem::absolute("configs/dirtyc0w_child.yaml").string()
                      << "\ncases: [s390x_zvm_v5.9-rc4]\nsensitivity:\n  hazard: bad_page_state\n  factor: 4\n"
                         "  parameters: [hypervisor.steal.0.duration, hypervisor.steal.0.interarrival]\n";
  Sweep s = load_sweep(path);
  REQUIRE(s.sensitivity);
  REQUIRE(s.points.size() == 5);
  CHECK(s.param_names == std::vector<std::string>{"parameter", "factor"});
  CHECK(s.points[0].overrides.empty());
  CHECK(s.points[1].params[1].value == "0.25");
  CHECK(s.points[2].params[1].value == "4");
  // models/hypervisor/zvm_lpar.yaml: duration lognormal(median 418us, sigma 0.6), interarrival exponential(mean 10ms).
  auto dur = nlohmann::json::parse(s.points[2].overrides[0].value);
  CHECK(*parse_duration_ns(dur["lognormal"]["median"].get<std::string>()) == doctest::Approx(1672e3));
  CHECK(dur["lognormal"]["sigma"] == "0.6");
  auto gap = nlohmann::json::parse(s.points[3].overrides[0].value);
  CHECK(*parse_duration_ns(gap["exponential"]["mean"].get<std::string>()) == doctest::Approx(2.5e6));
  // The ranking: elasticity from the two ends, most influential first.
  auto point = [](double p) {
    return nlohmann::json{{"cases", {{{"hazards", {{{"hazard", "bad_page_state"}, {"p", p}, {"p_lo", 0.9 * p}, {"p_hi", 1.1 * p}}}}}}}};
  };
  std::string csv = sensitivity_csv(s, {point(1e-6), point(1e-6), point(1e-6), point(4e-6), point(0.25e-6)});
  MESSAGE(csv);
  CHECK(csv.find("1,hypervisor.steal.0.interarrival,4e-06,2.5e-07,-1,") != std::string::npos);  // P ~ 1 / interarrival
  CHECK(csv.find("2,hypervisor.steal.0.duration,1e-06,1e-06,0,") != std::string::npos);
  CHECK(csv.find("rank,parameter,p_divided,p_multiplied,elasticity,elasticity_lo,elasticity_hi,reliable\n") == 0);
  // These points carry no hit counts: crude estimates on fewer than 3 hits, so every elasticity
  // is marked; a forced end on enough effective hits, and one with none.
  CHECK(csv.find(",true\n") == std::string::npos);
  auto forced = [](double p, bool reliable) {
    return nlohmann::json{{"cases", {{{"hazards", {{{"hazard", "bad_page_state"}, {"p", p}, {"p_lo", 0.9 * p}, {"p_hi", 1.1 * p},
                                                     {"method", "force"}, {"reliable", reliable}}}}}}}};
  };
  std::string f = sensitivity_csv(s, {forced(1e-6, true), forced(1e-6, true), forced(1e-6, true), forced(4e-6, true), forced(0, true)});
  MESSAGE(f);
  auto row = [&](const std::string& key) {
    size_t at = f.find("," + key + ",");
    return at == std::string::npos ? std::string() : f.substr(at, f.find('\n', at) - at);
  };
  CHECK(row("hypervisor.steal.0.duration").find(",1e-06,1e-06,0,") != std::string::npos);
  CHECK(row("hypervisor.steal.0.duration").substr(row("hypervisor.steal.0.duration").rfind(',')) == ",true");
  CHECK(row("hypervisor.steal.0.interarrival").substr(row("hypervisor.steal.0.interarrival").rfind(',')) == ",UNRELIABLE");  // no weighted hit
}

TEST_CASE("sensitivity: refused with several cases, a factor not above 1, or a key without a value") {
  std::string dir = std::filesystem::temp_directory_path() / "racewin_sweep_test";
  auto write = [&](const std::string& name, const std::string& cases, const std::string& body) {
    std::string path = dir + "/" + name + ".yaml";
    std::ofstream(path) << "sweep: " << name << "\nscenario: " << std::filesystem::absolute("configs/dirtyc0w_child.yaml").string()
                        << "\ncases: " << cases << "\nsensitivity:\n" << body;
    return path;
  };
  const std::string one = "[s390x_zvm_v5.9-rc4]";
  CHECK(error_of(write("two_cases", "[s390x_zvm_v5.9-rc4, x86_64_kvm_v5.9-rc4]", "  hazard: bad_page_state\n  parameters: [hypervisor.steal.0.duration]\n"))
            .find("one case") != std::string::npos);
  CHECK(error_of(write("factor_one", one, "  hazard: bad_page_state\n  factor: 1\n  parameters: [hypervisor.steal.0.duration]\n"))
            .find("above 1") != std::string::npos);
  CHECK(error_of(write("no_value", one, "  hazard: bad_page_state\n  parameters: [kernel.no_such_key]\n")).find("no value") !=
        std::string::npos);
}

TEST_CASE("sweep table: a forced estimate on few effective hits is marked unreliable") {
  auto point = [](const char* method, std::optional<bool> reliable) {
    nlohmann::json h = {{"hazard", "bad_page_state"}, {"p", 2e-12}, {"p_lo", 0.0}, {"p_hi", 6e-12}, {"events", 0},
                        {"iterations_hit", 0}, {"method", method}};
    if (reliable) h["reliable"] = *reliable;
    return nlohmann::json{{"point", 0}, {"params", {{"x", "1"}}},
                          {"cases", {{{"case", "c"}, {"iterations", 10}, {"sim_time_ns", 1e9}, {"stopped_by", "budget spent"},
                                      {"failure", ""}, {"hazards", {h}}}}}};
  };
  std::string csv = sweep_csv({"x"}, {point("force", false), point("force", true), point("crude", std::nullopt)});
  MESSAGE(csv);
  CHECK(csv.find("point,x,case,hazard,p,p_lo,p_hi,method,reliable,") == 0);
  CHECK(csv.find(",force,false,") != std::string::npos);
  CHECK(csv.find(",force,true,") != std::string::npos);
  CHECK(csv.find(",crude,true,") != std::string::npos);
  CHECK(kMinEffectiveHits == 30);
  ForcedHazard few{"h", 1e-12, {}, {}, 5, 12.0, 0, 0}, none{"h", 0, {}, {}, 0, 0, 0, 0}, many{"h", 1e-12, {}, {}, 500, 31.0, 0, 0};
  CHECK(few.unreliable());
  CHECK(!none.unreliable());  // no hit at all: a bound, not an unreliable estimate
  CHECK(!many.unreliable());
}

TEST_CASE("sweep.csv: the counted thread's pace and shootdown IPIs per iteration end each row") {
  nlohmann::json hz = {{"hazard", "bad_page_state"}, {"p", 0.0}, {"p_lo", 0.0}, {"p_hi", 0.5},
                       {"events", 0}, {"iterations_hit", 0}, {"method", "crude"}};
  nlohmann::json c = {{"case", "a"}, {"iterations", 4}, {"sim_time_ns", 2e9}, {"ipis", 10},
                      {"stopped_by", "sim time budget spent"}, {"failure", ""}, {"hazards", {hz}}};
  nlohmann::json p = {{"point", 0}, {"params", {{"b", "8"}}}, {"cases", {c}}};
  std::string csv = racewin::sweep_csv({"b"}, {p});
  MESSAGE(csv);
  CHECK(csv.find(",failed,iterations_per_s,ipis_per_iteration\n") != std::string::npos);
  CHECK(csv.find(",false,2,2.5\n") != std::string::npos);  // 4 iterations in 2 s; 10 IPIs over 4
  c["iterations"] = 0;
  p["cases"] = nlohmann::json::array({c});  // = {c} is a copy of c, not a list, under clang
  CHECK(racewin::sweep_csv({"b"}, {p}).find(",false,0,nan\n") != std::string::npos);
}

TEST_CASE("sweep: a grid larger than kMaxSweepPoints is refused before its points are made") {
  // Two axes of a million points each (the per-axis maximum): 10^12 points, std::bad_alloc before
  // the bound. Each axis alone is accepted.
  const std::string axes = "  - {name: gap, key: " + kGap + ", template: '{exponential: {mean: $}}', log: {from: 1us, to: 1ms, points: 1000000}}\n"
                           "  - {name: len, key: hypervisor.steal.0.duration, log: {from: 1us, to: 5us, points: 1000000}}\n";
  std::string e = error_of(write_sweep("huge", axes));
  CHECK(e.find("1000000 x 1000000") != std::string::npos);
  CHECK(e.find("more than the 1000000 a sweep may have") != std::string::npos);
  // Just past the bound: 1001 x 1000.
  std::string just = error_of(write_sweep("just", "  - {name: a, key: " + kGap + ", linear: {from: 1us, to: 2us, points: 1001}}\n"
                                                   "  - {name: b, key: hypervisor.steal.0.duration, linear: {from: 1us, to: 2us, points: 1000}}\n"));
  CHECK(just.find("1001 x 1000") != std::string::npos);
}

TEST_CASE("uncertainty: a nominal point, then a Latin hypercube over the estimates' ranges, scoped per case") {
  std::string dir = std::filesystem::temp_directory_path() / "racewin_sweep_test";
  std::string path = dir + "/unc.yaml";
  std::ofstream(path) << "sweep: unc\nscenario: " << std::filesystem::absolute("configs/dirtyc0w_child.yaml").string()
                      << "\ncases: [s390x_zvm_v5.9-rc4, x86_64_kvm_v5.9-rc4]\nuncertainty: {hazard: bad_page_state, samples: 8}\n";
  Sweep s = load_sweep(path);
  REQUIRE(s.uncertainty);
  REQUIRE(s.points.size() == 9);
  CHECK(s.points[0].overrides.empty());
  const auto& keys = s.uncertainty->parameters;
  REQUIRE(keys.size() > 50);
  CHECK(s.param_names.size() == keys.size() + 1);
  // Each dimension's quantiles fall once in each of the 8 strata.
  for (size_t k = 0; k < keys.size(); ++k) {
    std::set<int> strata;
    for (size_t i = 1; i < s.points.size(); ++i) strata.insert(int(std::stod(s.points[i].params[k + 1].value) * 8));
    CHECK_MESSAGE(strata.size() == 8, keys[k]);
  }
  // A key both cases estimate is scaled in each, scoped to it, from the same quantile; the z/VM
  // steal length (median 418us, [S/E 80us..2ms]) stays inside its range.
  size_t both = 0, steal = 0;
  for (const auto& o : s.points[1].overrides) {
    CHECK((o.scope == "s390x_zvm_v5.9-rc4" || o.scope == "x86_64_kvm_v5.9-rc4"));
    both += o.key == "arch.costs.spin_lock";
    if (o.key == "hypervisor.steal.0.duration" && o.scope == "s390x_zvm_v5.9-rc4") {
      ++steal;
      double m = *parse_duration_ns(nlohmann::json::parse(o.value)["lognormal"]["median"].get<std::string>());
      CHECK(m >= 80e3);
      CHECK(m <= 2e6);
    }
  }
  CHECK(both == 2);
  CHECK(steal == 1);
}

TEST_CASE("uncertainty summary: percentiles over the samples, the ratio sample by sample, drivers by rank correlation") {
  Sweep s;
  s.uncertainty = Uncertainty{"bad_page_state", 20, {"a", "b"}, {"k1", "k2"}, {{"k1", "k2"}, {"k2"}}};
  auto hz = [](double p, uint64_t hits) {
    return nlohmann::json{{{"hazard", "bad_page_state"}, {"p", p}, {"iterations_hit", hits}, {"reliable", true}}};
  };
  std::vector<nlohmann::json> pts;
  pts.push_back({{"params", {{"sample", "nominal"}, {"k1", "nominal"}, {"k2", "nominal"}}},
                 {"cases", {{{"hazards", hz(1e-6, 10)}}, {{"hazards", hz(1e-7, 10)}}}}});
  // a's P grows with k1's quantile (10x over the box); b's is flat; k2 runs against k1.
  for (int i = 0; i < 20; ++i) {
    double u = (i + 0.5) / 20;
    pts.push_back({{"params", {{"sample", std::to_string(i + 1)}, {"k1", fmt::format("{:.4f}", u)}, {"k2", fmt::format("{:.4f}", 1 - u)}}},
                   {"cases", {{{"hazards", hz(1e-6 * std::pow(10.0, u), i == 3 ? 2 : 10)}}, {{"hazards", hz(1e-7, 10)}}}}});
  }
  std::string csv = uncertainty_csv(s, pts);
  MESSAGE(csv);
  CHECK(csv.find("what,nominal,p05,p50,p95,min,max,samples,unreliable_samples,band,drivers\n") == 0);
  // p05 of 10^u over u = 0.025..0.975: order statistics 0.95 of the way between samples 1 and 2.
  double p05 = 1e-6 * std::pow(10.0, 0.025 + 0.95 * 0.05);
  CHECK(csv.find(fmt::format("a,1e-06,{:.4g},", p05)) != std::string::npos);
  CHECK(csv.find(",20,1,UNRELIABLE,\"k1 +1.00; k2 -1.00\"") != std::string::npos);  // sample 4 had 2 hits
  CHECK(csv.find("b,1e-07,1e-07,1e-07,1e-07,1e-07,1e-07,20,0,ok,\"none beyond noise (+-0.45)\"") != std::string::npos);
  CHECK(csv.find(fmt::format("a / b,10,{:.4g},", p05 / 1e-7)) != std::string::npos);
  // A forced sample without a weighted hit is an upper bound, not a value: the row is UNRELIABLE
  // though the sample's own `reliable` (written before issue 27) says true.
  auto fz = [](double p) {
    return nlohmann::json{{{"hazard", "bad_page_state"}, {"p", p}, {"iterations_hit", 0}, {"method", "force"}, {"reliable", true}}};
  };
  pts[5]["cases"][1]["hazards"] = fz(0);
  std::string z = uncertainty_csv(s, pts);
  CHECK(z.find("\nb,1e-07,") != std::string::npos);
  CHECK(z.find(",20,1,UNRELIABLE,") != std::string::npos);
  CHECK(estimate_reliable(fz(1e-7)[0]));
  CHECK_FALSE(estimate_reliable(fz(0)[0]));
  CHECK_FALSE(estimate_reliable({{"p", 1e-3}, {"iterations_hit", 2}}));  // crude: 3 hits or more
  CHECK(estimate_reliable({{"p", 1e-3}, {"iterations_hit", 3}}));
  // A ratio defined in only 3 samples (b is 0 in the rest): its rank correlations are over 3, so
  // the noise bound is theirs (+-1.9 with 2 estimates), and a perfect +-1.00 there is no driver.
  for (size_t i = 1; i < pts.size(); ++i)
    if (i > 3) pts[i]["cases"][1]["hazards"] = hz(0, 0);
  std::string few = uncertainty_csv(s, pts);
  MESSAGE(few);
  CHECK(few.find("a / b,10,") != std::string::npos);
  size_t at = few.find("a / b,");
  REQUIRE(at != std::string::npos);
  CHECK(few.substr(at, few.find('\n', at) - at).find("none beyond noise") != std::string::npos);
}

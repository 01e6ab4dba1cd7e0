// Timelines (sim/timeline/timeline*.cpp, sim/timeline/first_hit.cpp): the trace-event file is valid JSON of the
// documented format, spans nest per track, IPI flows have both ends, steal spans add up to the
// model's stolen time; recording changes nothing; the first hit of the buggy dirtyc0w case shows
// the writer stalled between spin_unlock(ptl) and unlock_page() while madvise frees the page.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "run/run.hpp"
#include "support.hpp"
#include "timeline/timeline.hpp"

using namespace racewin;
using nlohmann::json;

namespace {

// Fast steal (the README tour, docs/cli.md): a hit within milliseconds of simulated time.
const std::vector<Override> kFastSteal = {
    {"hypervisor.steal", "{model: renewal, interarrival: {exponential: {mean: 30us}}, duration: {lognormal: {median: 5us, sigma: 0.3}}}"}};

CaseConfig dirtyc0w(const std::string& name, std::vector<Override> o) {
  Scenario s = load_scenario("configs/dirtyc0w_child.yaml", o, {name});
  REQUIRE(s.cases.size() == 1);
  return s.cases.front();
}

CaseResult record(CaseConfig c, double time_ns, TimelineRequest req, const ForceOptions* force = nullptr) {
  c.limits.time_ns = time_ns;
  RunControl ctl;
  StoppingRule rule;
  CaseResult r = run_case(c, EngineKind::Native, ctl, {}, force ? &rule : nullptr, {}, force, &req);
  REQUIRE(r.failure.empty());
  return r;
}

// Checks the Trace Event Format as docs/timeline.md describes it; returns the stolen time (us)
// per pid from the steal tracks.
std::map<int, double> check_format(const json& file) {
  REQUIRE(file.at("displayTimeUnit") == "ns");
  const json& evs = file.at("traceEvents");
  REQUIRE(evs.is_array());
  std::map<std::pair<int, int>, std::vector<std::pair<double, std::string>>> open;  // per track: (ts, name)
  std::map<std::pair<int, int>, double> last_ts;
  std::map<std::pair<int, int>, std::string> track_name;
  std::map<long, std::vector<json>> flows;
  std::map<int, double> stolen;
  for (const json& e : evs) {
    CAPTURE(e.dump());
    REQUIRE(e.at("ph").is_string());
    REQUIRE(e.at("pid").is_number_integer());
    REQUIRE(e.at("tid").is_number_integer());
    const std::string ph = e["ph"];
    const auto track = std::make_pair(e["pid"].get<int>(), e["tid"].get<int>());
    if (ph == "M") {
      REQUIRE(e.at("name").is_string());
      REQUIRE(e.at("args").is_object());
      if (e["name"] == "thread_name") track_name[track] = e["args"].at("name");
      continue;
    }
    REQUIRE(e.at("ts").is_number());
    const double ts = e["ts"];
    if (ph == "B" || ph == "E") {  // in file order, per track: time never goes back, spans nest
      CHECK(ts >= last_ts[track]);
      last_ts[track] = ts;
    }
    if (ph == "B") {
      REQUIRE(e.at("name").is_string());
      REQUIRE(e.at("cat").is_string());
      open[track].push_back({ts, e["name"]});
    } else if (ph == "E") {
      REQUIRE(!open[track].empty());
      auto [t0, name] = open[track].back();
      open[track].pop_back();
      if (name == "stolen") stolen[track.first] += ts - t0;
    } else if (ph == "i") {
      REQUIRE(e.at("name").is_string());
      CHECK(e.at("s") == "t");
    } else if (ph == "s" || ph == "f") {
      REQUIRE(e.at("name").is_string());
      REQUIRE(e.at("cat").is_string());
      REQUIRE(e.at("id").is_number_integer());
      if (ph == "f") CHECK(e.at("bp") == "e");
      flows[e["id"].get<long>()].push_back(e);
    } else {
      FAIL("unexpected phase " << ph);
    }
  }
  // CAPTURE is a lambda, which cannot name a structured binding before clang 16 (the asan preset's
  // clang is 14): the loops name their elements.
  for (const auto& entry : open) {
    const auto& stack = entry.second;
    CAPTURE(entry.first.second);
    CHECK(stack.empty());  // every span is closed
  }
  for (const auto& [track, ts] : last_ts) CHECK(track_name.count(track) == 1);  // every track is named
  for (const auto& flow : flows) {  // each IPI: one start at the sender, one end at the handler
    const auto& pair = flow.second;
    CAPTURE(flow.first);
    REQUIRE(pair.size() == 2);
    CHECK(pair[0]["ph"] == "s");
    CHECK(pair[1]["ph"] == "f");
    CHECK(pair[0]["pid"] != pair[1]["pid"]);
    CHECK(pair[1]["ts"].get<double>() >= pair[0]["ts"].get<double>());
  }
  return stolen;
}

}  // namespace

TEST_CASE("a run's timeline: trace-event format, nesting, IPI flows, steal as the model counts it") {
  // x86_64 under KVM without PV flush: IPIs, acks, steal, ticks and softirqs, a contended PTL.
  CaseConfig c = dirtyc0w("x86_64_kvm_nopv_v5.9-rc4", kFastSteal);
  CaseResult r = record(c, 400e3, {true, false});
  REQUIRE(r.timeline);
  CHECK(!r.timeline->truncated);
  json file = json::parse(timeline_dump(timeline_json(c, r.timeline->events, {"timeline", r.timeline->end})));
  std::map<int, double> stolen = check_format(file);
  size_t flows = 0, handlers = 0;
  for (const json& e : file["traceEvents"]) flows += e["ph"] == "f", handlers += e.value("name", "") == "ipi: flush_tlb_func";
  CHECK(flows > 5);
  CHECK(flows == handlers);  // in a whole run every handled IPI has its sender
  for (int v = 0; v < c.vcpus; ++v) {
    CAPTURE(v);
    double model_us = r.steal_fraction[size_t(v)] * r.sim_time_ns / 1000;
    CHECK(model_us > 10);
    CHECK(stolen[v + 1] == doctest::Approx(model_us).epsilon(1e-9));
  }
  std::string text = timeline_text(c, r.timeline->events, {"timeline", r.timeline->end});
  CHECK(text.find("cpu1  writer") != std::string::npos);
  CHECK(text.find("sends a TLB-flush IPI to cpu") != std::string::npos);
  CHECK(text.find("steal ends (stolen") != std::string::npos);
}

TEST_CASE("recording a timeline changes nothing: the same model events, the same counts") {
  CaseConfig c = dirtyc0w("s390x_zvm_v5.9-rc4", kFastSteal);
  c.limits.time_ns = 2e6;
  auto text_events = [&](bool structured) {
    test::Log log;
    NativeEngine eng(c.vcpus);
    Machine m(c, c.seed, eng);
    size_t n = 0;
    if (structured) m.on_trace = [&](const TraceEvent&) { ++n; };
    m.observe_text([&](const ModelEvent& e) { log.events.push_back(e); });
    RunControl ctl;
    eng.run(m, c.limits.time_ns, ctl);
    if (structured) CHECK(n > log.events.size());
    return log.dump();
  };
  CHECK(text_events(false) == text_events(true));
  CaseResult plain = record(c, 2e6, {false, false});
  CaseResult kept = record(c, 2e6, {true, true});
  CHECK(plain.events == kept.events);
  for (size_t h = 0; h < plain.hazards.size(); ++h) CHECK(plain.hazards[h].count == kept.hazards[h].count);
}

TEST_CASE("dirtyc0w: the first bad_page_state shows the writer stalled between spin_unlock(ptl) and unlock_page()") {
  CaseConfig c = dirtyc0w("s390x_zvm_v5.9-rc4", kFastSteal);
  CaseResult r = record(c, 150e6, {false, true});
  const FirstHit* hit = nullptr;
  for (const auto& f : r.first_hits)
    if (f.name == "bad_page_state") hit = &f;
  REQUIRE(hit);
  CHECK(!hit->branch);
  int writer = -1, madvise = -1;
  for (size_t t = 0; t < c.threads.size(); ++t) (c.threads[t].name == "writer" ? writer : madvise) = int(t);
  const int wv = c.threads[size_t(writer)].vcpu;
  auto text_of = [&](const Recorded& x) { return c.threads[size_t(x.ev.thread)].path.steps[size_t(x.ev.obj)].text; };
  auto writer_step = [&](const Recorded& x, const std::string& s) {
    return x.ev.kind == TraceEvent::Kind::StepDone && x.ev.thread == writer && text_of(x) == s;
  };
  const auto& ev = hit->events;
  size_t h = 0;
  while (h < ev.size() && !(ev[h].ev.kind == TraceEvent::Kind::Hazard && ev[h].detail == hit->detail)) ++h;
  REQUIRE(h < ev.size());
  CHECK(ev[h].ev.thread == madvise);  // the free path found it
  size_t unlock_ptl = h, unlock_page = h;
  while (unlock_ptl > 0 && !writer_step(ev[unlock_ptl], "spin_unlock(ptl)")) --unlock_ptl;
  while (unlock_page < ev.size() && !writer_step(ev[unlock_page], "unlock_page(ptent.page)")) ++unlock_page;
  REQUIRE(writer_step(ev[unlock_ptl], "spin_unlock(ptl)"));
  REQUIRE(unlock_page < ev.size());
  // In the gap: the writer's vCPU stalled (stolen or in a handler) before the hit, ran none of its
  // steps from then to the hit, and came back after it; madvise's free_pages_prepare ran in it.
  size_t stall = 0;
  bool back = false, freed = false, ran = false;
  for (size_t i = unlock_ptl; i < unlock_page; ++i) {
    const TraceEvent& e = ev[i].ev;
    bool begins = e.kind == TraceEvent::Kind::StealBegin || e.kind == TraceEvent::Kind::HandlerBegin;
    bool ends = e.kind == TraceEvent::Kind::StealEnd || e.kind == TraceEvent::Kind::HandlerEnd;
    if (e.vcpu == wv && i < h && begins) stall = i, ran = false;
    if (e.thread == writer && e.kind == TraceEvent::Kind::StepDone && stall && i < h) ran = true;
    if (e.vcpu == wv && i > h && ends) back = true;
    if (e.thread == madvise && e.kind == TraceEvent::Kind::FreeBegin) freed = true;
  }
  CHECK(stall > 0);
  CHECK(!ran);
  CHECK(back);
  CHECK(freed);
  // The files say the same: valid JSON, and the text in this order.
  TimelineMeta meta = hit->meta(c);
  check_format(json::parse(timeline_dump(timeline_json(c, hit->events, meta))));
  std::string text = timeline_text(c, hit->events, meta);
  CAPTURE(text);
  size_t a = text.rfind("writer   spin_unlock(ptl)", text.find("HAZARD bad_page_state"));
  size_t b = text.find("madvise  free_pages_prepare", a);
  size_t d = text.find("HAZARD bad_page_state", b);
  size_t e = text.find("writer   unlock_page(ptent.page)", d);
  CHECK(a != std::string::npos);
  CHECK(b != std::string::npos);
  CHECK(d != std::string::npos);
  CHECK(e != std::string::npos);
}

TEST_CASE("first hits in forced branches: found in a copy of the run, with its weight and the main run's past") {
  CaseConfig c = dirtyc0w("s390x_zvm_v5.9-rc4", {});
  ForceOptions force;
  force.pilot_iterations = 1000;  // branches from about 35 ms on
  CaseResult r = record(c, 100e6, {false, true}, &force);
  REQUIRE(r.forced);
  const FirstHit* hit = nullptr;
  for (const auto& f : r.first_hits)
    if (f.name == "bad_page_state") hit = &f;
  REQUIRE(hit);
  CHECK(hit->branch);
  CHECK(hit->weight > 0);
  CHECK(hit->weight < 1);  // forcing made it likelier than it is
  // The window opened before the branch point, in the main run: its events come first.
  bool opened = false;
  for (const auto& x : hit->events)
    if (x.ev.kind == TraceEvent::Kind::StepDone && x.ev.time <= hit->time &&
        c.threads[size_t(x.ev.thread)].path.steps[size_t(x.ev.obj)].op == Op::WindowOpen)
      opened = true;
  CHECK(opened);
  check_format(json::parse(timeline_dump(timeline_json(c, hit->events, hit->meta(c)))));
}

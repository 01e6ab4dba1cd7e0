// --timeline FILE.json and --timeline-text FILE|- for a short run of one case; --first-hit DIR
// for the first hit of each hazard of any run.
#include "cli/timeline_opts.hpp"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <iostream>

#include "output/output.hpp"

namespace racewin::cli {
namespace {

std::string file_name(const std::string& hazard) {  // "window:x" -> "window_x"
  std::string s = hazard;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return s;
}

// OutputError names the file and the reason.
void put(const std::string& path, const std::string& text) { write_atomic(std::filesystem::absolute(path), text); }

}  // namespace

void TimelineOptions::add(CLI::App* run) {
  run->add_option("--timeline", json,
                  "write a Chrome/Perfetto trace-event file (JSON) of the run's every event: a short run of one "
                  "case (--time 200us); opens in ui.perfetto.dev and chrome://tracing");
  run->add_option("--timeline-text", text, "write the same timeline as ftrace-like text to FILE (- for stdout)");
  run->add_option("--first-hit", first_hit,
                  "for the first hit of each hazard (any run, forced branches included), write the interleaving "
                  "that led to it to DIR/CASE/first_hit_HAZARD.json and .txt");
}

std::string TimelineOptions::check(const Scenario& sc, bool rare_event) const {
  if (!full()) return {};
  const char* opt = !json.empty() ? "--timeline" : "--timeline-text";
  if (sc.cases.size() != 1)
    return fmt::format("{} records one run of one case; this run has {} cases (use --case NAME)", opt, sc.cases.size());
  if (sc.cases[0].replications > 1)
    return fmt::format("{} records one run; case {} has {} replications (use --replications 1)", opt, sc.cases[0].name,
                       sc.cases[0].replications);
  if (sc.cases[0].limits.time_ns > 1e9)
    return fmt::format("{} keeps every event of the run in memory: give --time of at most 1s (case {} runs {})", opt,
                       sc.cases[0].name, format_duration(sc.cases[0].limits.time_ns));
  if (rare_event) return fmt::format("{} records one plain run: not with --rare-event (--first-hit records its branches)", opt);
  return {};
}

std::optional<TimelineRequest> TimelineOptions::request() const {
  if (!full() && first_hit.empty()) return std::nullopt;
  TimelineRequest r;
  r.full = full();
  r.first_hit = !first_hit.empty();
  return r;
}

bool TimelineOptions::write(const Scenario& sc, const std::vector<CaseResult>& results, std::ostream& say) const try {
  auto config = [&](const std::string& name) -> const CaseConfig& {
    for (const auto& c : sc.cases)
      if (c.name == name) return c;
    throw std::logic_error("no case " + name);
  };
  for (const auto& r : results) {
    const CaseConfig& cfg = config(r.case_name);
    if (r.timeline) {
      TimelineMeta meta{"timeline", r.timeline->end, false, {{"truncated", r.timeline->truncated}}};
      if (r.timeline->truncated)
        std::cerr << fmt::format("racewin: the timeline stops at its first {} events ({:.3f} us): use a shorter --time\n",
                                 r.timeline->events.size(), r.timeline->end / 1000);
      if (!json.empty()) {
        put(json, timeline_dump(timeline_json(cfg, r.timeline->events, meta)));
        say << fmt::format("wrote the timeline of {} ({} events) to {}\n", cfg.name, r.timeline->events.size(), json);
      }
      if (text == "-") std::cout << timeline_text(cfg, r.timeline->events, meta);
      else if (!text.empty()) put(text, timeline_text(cfg, r.timeline->events, meta)), say << "wrote " << text << "\n";
    }
    if (first_hit.empty()) continue;
    auto dir = std::filesystem::path(first_hit) / cfg.name;
    for (const auto& f : r.first_hits) {
      TimelineMeta meta = f.meta(cfg);
      auto base = dir / ("first_hit_" + file_name(f.name));
      put(base.string() + ".json", timeline_dump(timeline_json(cfg, f.events, meta)));
      put(base.string() + ".txt", timeline_text(cfg, f.events, meta));
    }
    say << fmt::format("{}: {} first hit(s){}\n", cfg.name, r.first_hits.size(),
                       r.first_hits.empty() ? "" : " in " + dir.string() + "/first_hit_*.{json,txt}");
  }
  return true;
} catch (const std::exception& e) {
  std::cerr << "racewin: " << e.what() << "\n";
  return false;
}

}  // namespace racewin::cli

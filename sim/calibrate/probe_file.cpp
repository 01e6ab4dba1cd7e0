#include "calibrate/probe_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace racewin::calibrate {
namespace {

using nlohmann::json;

// A key of the file, read with its path for the message when it is not what is expected.
struct Reader {
  std::string file;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ConfigError({file, 0, 0}, fmt::format("key {}: {}", key, what));
  }
  const json& at(const json& j, const std::string& path, const char* key) const {
    if (!j.is_object() || !j.contains(key)) fail(path + key, "missing");
    return j.at(key);
  }
  double number(const json& j, const std::string& path, const char* key) const {
    const json& v = at(j, path, key);
    if (!v.is_number()) fail(path + key, "expected a number, got " + v.dump().substr(0, 40));
    return v.get<double>();
  }
  std::string text(const json& j, const std::string& path, const char* key) const {
    const json& v = at(j, path, key);
    if (!v.is_string()) fail(path + key, "expected text");
    return v.get<std::string>();
  }
  std::vector<double> numbers(const json& j, const std::string& path, const char* key) const {
    const json& v = at(j, path, key);
    if (!v.is_array()) fail(path + key, "expected a list of numbers");
    std::vector<double> out;
    out.reserve(v.size());
    for (const auto& x : v) {
      if (!x.is_number()) fail(path + key, "expected a list of numbers, found " + x.dump().substr(0, 40));
      out.push_back(x.get<double>());
    }
    return out;
  }
  Series series(const json& j, const std::string& path, const char* key) const {
    const json& s = at(j, path, key);
    std::string p = path + key + ".";
    Series r;
    r.count = size_t(number(s, p, "count"));
    r.mean = number(s, p, "mean_ns");
    r.min = number(s, p, "min_ns");
    r.max = number(s, p, "max_ns");
    r.sample = numbers(s, p, "sample_ns");
    std::sort(r.sample.begin(), r.sample.end());
    return r;
  }
  GapRecord gaps(const json& j, const std::string& path) const {
    GapRecord g;
    g.cpu = int(number(j, path, "cpu"));
    g.spun_ns = number(j, path, "spun_ns");
    g.start = numbers(j, path, "start_ns");
    g.len = numbers(j, path, "len_ns");
    if (g.start.size() != g.len.size()) fail(path + "len_ns", "not as long as start_ns");
    for (size_t i = 1; i < g.start.size(); ++i)
      if (g.start[i] < g.start[i - 1]) fail(path + "start_ns", fmt::format("not in time order at index {}", i));
    if (number(j, path, "gaps_not_listed") > 0)
      fail(path + "gaps_not_listed", "the record holds more gaps than it lists: spin for less time or raise the threshold");
    return g;
  }
};

}  // namespace

double Series::quantile(double q) const {
  if (sample.empty()) return 0;
  double x = q * double(sample.size() - 1);
  size_t i = size_t(x);
  double t = x - double(i);
  return sample[i] + t * (sample[std::min(i + 1, sample.size() - 1)] - sample[i]);
}

double Series::median() const { return quantile(0.5); }

Probe load_probe(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError({path, 0, 0}, "cannot open the probe file");
  json d;
  try {
    d = json::parse(in);
  } catch (const json::parse_error& e) {
    throw ConfigError({path, 0, 0}, std::string("not JSON: ") + e.what());
  }
  Reader r{path};
  Probe p;
  p.file = path;
  std::string format = r.text(d, "", "format");
  if (format != "racewin-probe/1")
    r.fail("format", "expected racewin-probe/1 (this racewin reads that format), got '" + format + "'");
  p.name = r.text(d, "", "name");
  p.date = r.text(d, "", "date");
  p.probe_version = r.text(d, "", "probe_version");
  const json& m = r.at(d, "", "machine");
  p.arch = r.text(m, "machine.", "arch");
  p.kernel = r.text(m, "machine.", "kernel");
  p.cpu_model = r.text(m, "machine.", "cpu_model");
  p.hypervisor = r.text(m, "machine.", "hypervisor");
  const json& kc = r.at(m, "machine.", "kernel_config");
  if (kc.contains("CONFIG_HZ") && kc["CONFIG_HZ"].is_string()) p.hz = std::atof(kc["CONFIG_HZ"].get<std::string>().c_str());
  const json& clock = r.at(d, "", "clock");
  p.clocksource = r.text(clock, "clock.", "clocksource");
  p.read_ns = r.number(clock, "clock.", "read_ns");
  p.interrupted = r.at(d, "", "interrupted").get<bool>();
  if (d.contains("stalls")) {
    const json& s = d["stalls"];
    p.threshold_ns = r.number(s, "stalls.", "threshold_ns");
    const json& alone = r.at(s, "stalls.", "alone");
    for (size_t i = 0; i < alone.size(); ++i) p.alone.push_back(r.gaps(alone[i], fmt::format("stalls.alone[{}].", i)));
    if (s.contains("together")) {
      const json& cpus = r.at(s["together"], "stalls.together.", "cpus");
      for (size_t i = 0; i < cpus.size(); ++i) p.together.push_back(r.gaps(cpus[i], fmt::format("stalls.together.cpus[{}].", i)));
    }
  }
  if (d.contains("paths")) {
    const json& ps = d["paths"];
    if (ps.contains("alone")) {
      p.madvise_present = r.series(ps["alone"], "paths.alone.", "madvise_present_ns");
      p.madvise_empty = r.series(ps["alone"], "paths.alone.", "madvise_empty_ns");
      p.write_fault = r.series(ps["alone"], "paths.alone.", "write_fault_ns");
    }
    if (ps.contains("with_shootdown")) {
      p.madvise_present_shootdown = r.series(ps["with_shootdown"], "paths.with_shootdown.", "madvise_present_ns");
      p.madvise_empty_2 = r.series(ps["with_shootdown"], "paths.with_shootdown.", "madvise_empty_ns");
      p.write_fault_2 = r.series(ps["with_shootdown"], "paths.with_shootdown.", "write_fault_ns");
      const json& w = ps["with_shootdown"];
      if (w.contains("second_cpu_gap_ns")) {
        p.second_cpu_gaps = r.series(w, "paths.with_shootdown.", "second_cpu_gap_ns");
        p.second_cpu_spun_ns = r.number(w, "paths.with_shootdown.", "second_cpu_spun_ns");
      }
      // The flush IPIs a shootdown sends show on x86's TLB (flush_tlb_func) and CAL lines.
      if (w.contains("interrupts")) {
        const json& irqs = r.at(w, "paths.with_shootdown.", "interrupts");
        for (const char* line : {"TLB", "CAL"})
          if (irqs.is_object() && irqs.contains(line))
            for (double n : r.numbers(irqs[line], fmt::format("paths.with_shootdown.interrupts.{}.", line), "delta")) p.flush_irqs += n;
        p.flush_irqs_known = true;
      }
    }
    if (ps.contains("write_alone"))
      p.write_alone = r.series(ps["write_alone"], "paths.write_alone.", "iteration_ns");
    if (ps.contains("dirtyc0w_child")) {
      const json& dc = ps["dirtyc0w_child"];
      const json& ml = r.at(dc, "paths.dirtyc0w_child.", "madvise_loop");
      const json& wl = r.at(dc, "paths.dirtyc0w_child.", "write_loop");
      p.madvise_loop = r.series(ml, "paths.dirtyc0w_child.madvise_loop.", "iteration_ns");
      p.write_loop = r.series(wl, "paths.dirtyc0w_child.write_loop.", "iteration_ns");
      p.madvise_loop_per_s = r.number(ml, "paths.dirtyc0w_child.madvise_loop.", "iterations_per_s");
      p.write_loop_per_s = r.number(wl, "paths.dirtyc0w_child.write_loop.", "iterations_per_s");
    }
  }
  if (d.contains("race") && d["race"].is_object()) {
    const json& runs = r.at(d["race"], "race.", "runs");
    for (size_t i = 0; i < runs.size(); ++i) {
      std::string k = fmt::format("race.runs[{}].", i);
      ProbeRace x;
      x.window_ns = r.number(runs[i], k, "window_ns");
      x.check_gap_ns = r.number(runs[i], k, "check_gap_ns");
      x.closed_ns = r.number(runs[i], k, "closed_ns");
      x.windows = size_t(r.number(runs[i], k, "windows"));
      x.hits = size_t(r.number(runs[i], k, "hits"));
      x.checks = size_t(r.number(runs[i], k, "checks"));
      if (runs[i].contains("checks_in_open_window")) x.open_checks = size_t(r.number(runs[i], k, "checks_in_open_window"));
      x.check_period_ns = r.number(runs[i], k, "check_period_ns");
      if (runs[i].contains("opener_ns")) x.opener_ns = r.number(runs[i], k, "opener_ns");
      x.window_length = r.series(runs[i], k, "window_length_ns");
      x.long_window_ns = r.number(runs[i], k, "long_window_ns");
      x.long_windows = size_t(r.number(runs[i], k, "long_windows"));
      x.long_windows_hit = size_t(r.number(runs[i], k, "long_windows_hit"));
      p.races.push_back(x);
    }
  }
  return p;
}

}  // namespace racewin::calibrate

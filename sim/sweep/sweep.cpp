#include "sweep/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/rng.hpp"
#include "base/units.hpp"

namespace racewin {

namespace {

// One axis of a group: its values, row by row (every axis of a group has as many).
struct Axis {
  std::string name, key, tmpl;
  std::vector<std::string> values;
  SourceLoc loc;
};
using Group = std::vector<Axis>;

// The most text all points' overrides may hold: a template with many '$' times long values times
// many points would otherwise take gigabytes.
constexpr size_t kMaxOverrideBytes = size_t(256) << 20;

// A range end: a plain number, or a duration (kept in ns, written back as ns).
struct End {
  double v;
  bool ns;
};
End range_end(const CNode& n) {
  const std::string t = n.str();
  size_t used = 0;
  try {
    double v = std::stod(t, &used);
    if (used == t.size()) {
      if (!std::isfinite(v)) n.fail("expected a finite number or a duration, got '" + t + "'");
      return {v, false};
    }
  } catch (const std::exception&) {
  }
  return {n.duration(), true};
}
std::string show(double v, bool ns) {
  v = std::stod(fmt::format("{:.12g}", v));  // exp(log(x)) is x only to rounding
  if (!ns) return fmt::format("{:.6g}", v);
  for (auto [unit, scale] : {std::pair{"s", 1e9}, {"ms", 1e6}, {"us", 1e3}})
    if (v >= scale) return fmt::format("{:.6g}{}", v / scale, unit);
  return fmt::format("{:.6g}ns", v);
}

void check_range(const CNode& r, const End& from, const End& to, long points, bool log) {
  if (from.ns != to.ns) r.fail("'from' and 'to' must both be durations or both plain numbers");
  if (points > 1 && from.v == to.v) r.fail("'from' equals 'to': a range of several points with a zero step");
  if (log && (from.v <= 0 || to.v <= 0)) r.fail("a log range needs positive ends");
}

std::vector<std::string> range_values(const CNode& r, bool log) {
  r.allow_keys({"from", "to", "points"});
  End from = range_end(r.at("from")), to = range_end(r.at("to"));
  long n = r.at("points").integer(1, long(kMaxSweepPoints));
  check_range(r, from, to, n, log);
  std::vector<std::string> out;
  for (long i = 0; i < n; ++i) {
    double f = n == 1 ? 0 : double(i) / double(n - 1);
    double v = log ? std::exp(std::log(from.v) + f * (std::log(to.v) - std::log(from.v))) : from.v + f * (to.v - from.v);
    out.push_back(show(v, from.ns));
  }
  return out;
}

Axis axis_head(const CNode& a) {
  Axis x;
  x.name = a.at("name").str();
  x.key = a.at("key").str();
  if (auto t = a.get("template")) {
    x.tmpl = t->str();
    if (x.tmpl.find('$') == std::string::npos) t->fail("a template holds '$' where each value goes");
  }
  x.loc = a.loc();
  return x;
}

Axis plain_axis(const CNode& a) {
  a.allow_keys({"name", "key", "template", "values", "linear", "log"});
  Axis x = axis_head(a);
  int kinds = a.has("values") + a.has("linear") + a.has("log");
  if (kinds != 1) a.fail("an axis has exactly one of 'values', 'linear' or 'log'");
  if (auto v = a.get("values")) {
    if (!v->is_seq()) v->fail("expected a list of values");
    for (const auto& item : v->items()) {
      YAML::Emitter e;
      e << YAML::Flow << item.raw();
      x.values.push_back(e.c_str());
    }
    if (x.values.empty()) v->fail("an axis needs at least one value");
  } else {
    bool log = a.has("log");
    x.values = range_values(a.at(log ? "log" : "linear"), log);
  }
  return x;
}

}  // namespace

std::vector<double> sample_quantiles(Rng& rng, size_t n, bool latin) {
  std::vector<size_t> strata(n);
  std::iota(strata.begin(), strata.end(), 0);
  for (size_t i = strata.size(); i > 1; --i) std::swap(strata[i - 1], strata[size_t(rng.uniform() * double(i))]);
  std::vector<double> u(n);
  for (size_t i = 0; i < n; ++i) u[i] = latin ? (double(strata[i]) + rng.uniform()) / double(n) : rng.uniform();
  return u;
}

namespace {

Group sample_group(const CNode& s, uint64_t default_seed) {
  s.allow_keys({"method", "points", "seed", "axes"});
  std::string method = s.at("method").str();
  if (method != "random" && method != "latin_hypercube") s.at("method").fail("expected random or latin_hypercube");
  long n = s.at("points").integer(1, long(kMaxSweepPoints));
  uint64_t seed = s.has("seed") ? uint64_t(s.at("seed").integer(0, (1L << 62))) : default_seed;
  Rng rng(seed, 0x5eed5a3u);
  Group g;
  for (const auto& a : s.at("axes").items()) {
    a.allow_keys({"name", "key", "template", "from", "to", "scale"});
    Axis x = axis_head(a);
    End from = range_end(a.at("from")), to = range_end(a.at("to"));
    std::string scale = a.has("scale") ? a.at("scale").str() : "linear";
    if (scale != "linear" && scale != "log") a.at("scale").fail("expected linear or log");
    check_range(a, from, to, n, scale == "log");
    for (double u : sample_quantiles(rng, size_t(n), method == "latin_hypercube")) {
      double v = scale == "log" ? std::exp(std::log(from.v) + u * (std::log(to.v) - std::log(from.v))) : from.v + u * (to.v - from.v);
      x.values.push_back(show(v, from.ns));
    }
    g.push_back(x);
  }
  if (g.empty()) s.at("axes").fail("a sample needs at least one axis");
  return g;
}

Group parse_group(const CNode& a, uint64_t seed) {
  if (!a.is_map()) a.fail("an axis is a map: {name, key, values | linear | log}, or {zip: [...]}, or {sample: {...}}");
  if (a.has("zip")) {
    a.allow_keys({"zip"});
    Group g;
    for (const auto& x : a.at("zip").items()) g.push_back(plain_axis(x));
    if (g.empty()) a.at("zip").fail("a zip needs at least one axis");
    for (const auto& x : g)
      if (x.values.size() != g.front().values.size())
        a.at("zip").fail(fmt::format("zipped axes move together: '{}' has {} values, '{}' {}", g.front().name,
                                     g.front().values.size(), x.name, x.values.size()));
    return g;
  }
  if (a.has("sample")) {
    a.allow_keys({"sample"});
    return sample_group(a.at("sample"), seed);
  }
  return {plain_axis(a)};
}

std::string apply_template(const Axis& x, const std::string& v) {
  if (x.tmpl.empty()) return v;
  std::string out = x.tmpl;
  for (size_t at = out.find('$'); at != std::string::npos; at = out.find('$', at + v.size())) out.replace(at, 1, v);
  return out;
}

}  // namespace

void expand_axes(const CNode& axes, Sweep& sw);

Sweep load_sweep(const std::string& file, bool check_points) {
  CNode root = CNode::load_file(file);
  root.allow_keys({"sweep", "doc", "scenario", "cases", "seed", "run", "axes", "sensitivity", "uncertainty"});
  Sweep sw;
  sw.file = file;
  sw.name = root.at("sweep").str();
  if (auto d = root.get("doc")) sw.doc = d->str();
  sw.scenario = root.resolve_path(root.at("scenario").str());
  if (!is_regular_file(sw.scenario)) root.at("scenario").fail("no such file: " + sw.scenario);  // not /dev/zero either
  if (auto c = root.get("cases"))
    for (const auto& x : c->items()) sw.cases.push_back(x.str());
  if (auto s = root.get("seed")) sw.seed = uint64_t(s->integer(0, (1L << 62)));
  if (auto r = root.get("run")) {
    r->allow_keys({"time", "iterations", "rel_error", "p_below", "rare_event", "hazards"});
    if (auto t = r->get("time")) t->duration(), sw.run.time = t->str();
    if (auto i = r->get("iterations")) sw.run.iterations = uint64_t(i->integer(1, (1L << 62)));
    if (auto e = r->get("rel_error")) sw.run.rel_error = e->number();
    if (auto p = r->get("p_below")) sw.run.p_below = p->number();
    if (auto m = r->get("rare_event")) sw.run.rare_event = m->str();
    if (auto h = r->get("hazards"))
      for (const auto& x : h->items()) sw.run.hazards.push_back(x.str());
  }
  if (root.has("sensitivity") + root.has("uncertainty") + root.has("axes") > 1)
    root.fail("a sweep has one of axes, a sensitivity or an uncertainty");
  if (auto sens = root.get("sensitivity")) {
    sensitivity_points(*sens, sw);
  } else if (auto unc = root.get("uncertainty")) {
    uncertainty_points(*unc, sw);
  } else {
    expand_axes(root.at("axes"), sw);
  }
  if (check_points)
    for (const auto& p : sw.points) load_scenario(sw.scenario, p.overrides, sw.cases);  // keys and values checked
  return sw;
}

void expand_axes(const CNode& axes, Sweep& sw) {
  std::vector<Group> groups;
  for (const auto& a : axes.items()) groups.push_back(parse_group(a, sw.seed));
  if (groups.empty()) axes.fail("a sweep needs at least one axis");
  for (const auto& g : groups)
    for (const auto& x : g) {
      if (std::find(sw.param_names.begin(), sw.param_names.end(), x.name) != sw.param_names.end())
        throw ConfigError(x.loc, "two axes are named '" + x.name + "'");
      sw.param_names.push_back(x.name);
    }
  // Bounded before anything is allocated: each axis is, but not their product (10^12 points).
  size_t total = 1;
  std::string sizes;
  for (const auto& g : groups) {
    size_t n = g.front().values.size();
    sizes += (sizes.empty() ? "" : " x ") + std::to_string(n);
    total = total > kMaxSweepPoints / n ? kMaxSweepPoints + 1 : total * n;
  }
  if (total > kMaxSweepPoints)
    axes.fail(fmt::format("the grid of {} points has more than the {} a sweep may have: fewer points an axis, "
                          "or several sweeps", sizes, kMaxSweepPoints));
  // The product of the groups, the first varying slowest.
  std::vector<size_t> row(groups.size(), 0);
  size_t bytes = 0;
  for (bool more = true; more;) {
    SweepPoint p;
    p.index = sw.points.size();
    for (size_t gi = 0; gi < groups.size(); ++gi)
      for (const auto& x : groups[gi]) {
        const std::string& v = x.values[row[gi]];
        p.params.push_back({x.name, v});
        p.overrides.push_back({x.key, apply_template(x, v), fmt::format("{} (axis {})", x.loc.str(), x.name)});
        bytes += p.overrides.back().value.size();
        if (bytes > kMaxOverrideBytes)
          axes.fail(fmt::format("the points' values take more than {} MiB (a template with many '$'?)", kMaxOverrideBytes >> 20));
      }
    sw.points.push_back(std::move(p));
    more = false;
    for (size_t gi = groups.size(); gi-- > 0;) {
      if (++row[gi] < groups[gi].front().values.size()) {
        more = true;
        break;
      }
      row[gi] = 0;
    }
  }
}

}  // namespace racewin

// racewin compare: the same cases before and after a change, on common random numbers.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/compare_forced.hpp"
#include "cli/data_dir.hpp"
#include "model/machine.hpp"
#include "output/output.hpp"
#include "output/write_file.hpp"
#include "run/compare.hpp"

namespace racewin::cli {
namespace {

// The sides each case runs: batch k of kBefore and kAfter share a seed; kIndependent is the after
// side again on seeds of its own, only to show what the pairing saves.
enum Side { kBefore, kAfter, kIndependent, kSides };

struct HazardRow {
  std::string name;
  Comparison p, rate;
};

struct CaseOut {
  std::string name;
  uint64_t seed = 0;
  int batches = 0;  // pairs compared: all, or those finished before an interrupt
  std::vector<CaseResult> reps[kSides];
  std::vector<HazardRow> rows;
  std::string failure;
};

double total(const std::vector<CaseResult>& reps, bool time) {
  double s = 0;
  for (const auto& r : reps) s += time ? r.sim_time_ns : double(r.iterations);
  return s;
}

nlohmann::json side_json(const std::vector<CaseResult>& reps) {
  return {{"iterations", uint64_t(total(reps, false))}, {"sim_time_s", total(reps, true) * 1e-9}};
}

class CompareCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("compare", "compare hazards before and after a change, on common random numbers");
    c->add_option("before", before_, "scenario YAML: the before side")->required()->transform(shipped_file());
    c->add_option("after", after_, "scenario YAML: the after side (default: BEFORE with the --set-after overrides)")
        ->transform(shipped_file());
    c->add_option("--set", sets_, "override a configuration key on both sides");
    c->add_option("--set-after", sets_after_, "override a configuration key on the after side only ([CASE:]KEY=VALUE, as --set)");
    c->add_flag("--force-override", force_override_, "apply an unscoped --set or --set-after even where it replaces a case's own line or means nothing for a case");
    c->add_option("--case", cases_, "only this case (repeatable); cases are paired by name");
    c->add_option("--hazard", hazards_, "only this hazard (repeatable; default: bad_page_state and every window:*)");
    c->add_option("--batches", batches_, "paired batches per side (default 20)")->check(CLI::Range(2, 1 << 20));
    c->add_option("--seed", seed_, "seed of both sides (default: run.seed of BEFORE)");
    auto* it_opt = c->add_option("--iterations", iterations_, "per side: stop after N loop iterations of the counted thread");
    c->add_option("--time", time_, "simulated time per case and side, e.g. 30s")->excludes(it_opt);
    c->add_option("--jobs", jobs_, "runs simulated at once (default: the number of cores)")->check(CLI::Range(1u, 1024u));
    c->add_option("--out", out_dir_, "write compare.json and compare.csv to this directory");
    c->add_flag("--no-independent", no_independent_, "skip the after side on independent seeds (no width ratio)");
    c->add_flag("-q,--quiet", quiet_, "no progress display");
    c->add_option("--rare-event", rare_event_,
                  "force both sides (METHOD: force or force:X, as for racewin run): one forced run per side, the "
                  "after side on a seed of its own, P(hit) per iteration compared as independent estimates");
    c->add_option("--rel-error", rule_.rel_error, "with --rare-event: run each side until P's 95% half-width is within R of it");
    c->add_option("--p-below", rule_.p_below, "with --rare-event: run each side until P's 95% upper bound is below X");
    cmd_ = c;
    return c;
  }

  int exec(const std::string&) override {
    std::optional<ForceOptions> force;
    if (!rare_event_.empty()) {
      try {
        force = ForceOptions::parse(rare_event_);
      } catch (const std::invalid_argument& e) {
        return usage(e.what());
      }
      if (cmd_->count("--batches")) return usage("--batches: with --rare-event each side is one forced run, not batches");
      if (no_independent_) return usage("--no-independent: with --rare-event the sides are independent runs already");
    } else if (rule_.has_rule()) {
      return usage("--rel-error and --p-below stop forced runs: give --rare-event force (paired batches run to --time)");
    }
    Scenario before, after;
    std::vector<std::string> known;  // every hazard some case can report
    if (std::string why = duration_option_problem("--time", time_); !why.empty()) {
      std::cerr << "racewin: " << why << "\n";
      return 2;
    }
    try {
      std::vector<Override> both = parse_sets(sets_), only_after = parse_sets(sets_after_, "--set-after");
      if (cmd_->count("--seed")) both.push_back({"run.seed", std::to_string(seed_), "--seed"});
      for (auto& o : limit_overrides(iterations_, time_)) both.push_back(o);
      before = load_scenario(before_, both, cases_, force_override_);
      both.insert(both.end(), only_after.begin(), only_after.end());
      after = load_scenario(after_.empty() ? before_ : after_, both, cases_, force_override_);
    } catch (const ConfigError& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return exit_code(e);
    }
    const std::string after_file = after_.empty() ? before_ : after_;
    // Pair the cases by name; both sides run the before side's seed and limits.
    std::vector<std::pair<CaseConfig, CaseConfig>> pairs;
    for (const auto& b : before.cases) {
      auto it = std::find_if(after.cases.begin(), after.cases.end(), [&](const CaseConfig& a) { return a.name == b.name; });
      if (it == after.cases.end()) return bad("case '" + b.name + "' is in " + before_ + " but not in " + after_file);
      pairs.emplace_back(b, *it);
      pairs.back().second.limits = b.limits;
    }
    for (const auto& a : after.cases)
      if (std::none_of(before.cases.begin(), before.cases.end(), [&](const CaseConfig& b) { return b.name == a.name; }))
        return bad("case '" + a.name + "' is in " + after_file + " but not in " + before_);
    // By default bad_page_state and every window some step of either side can hit: a window no
    // window_hit step names only measures lengths, and a P(hit) of it would say nothing.
    std::vector<std::string> selected = {"bad_page_state"}, hittable;
    for (const auto& [b, a] : pairs)
      for (const auto* c : {&b, &a}) {
        for (const auto& h : builtin_hazards()) known.push_back(h), hittable.push_back(h);
        for (const auto& w : c->names.windows) {
          known.push_back("window:" + w);
          if (!hazard_can_be_hit(*c, "window:" + w)) continue;
          hittable.push_back("window:" + w);
          if (std::find(selected.begin(), selected.end(), "window:" + w) == selected.end()) selected.push_back("window:" + w);
        }
      }
    auto has = [](const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
    for (const auto& h : hazards_) {
      if (!has(known, h)) return bad("--hazard " + h + ": no case has this hazard");
      if (!has(hittable, h)) return bad("--hazard " + h + ": cannot be hit: no step of either side hits this window (no window_hit step)");
    }
    if (!hazards_.empty()) selected = hazards_;
    if (force) {
      ForcedCompareRequest q{before.name, before_, after_file, out_dir_, sets_, sets_after_, pairs, selected,
                             rare_event_, *force, rule_, jobs_, quiet_};
      return run_forced_compare(q);
    }

    // Every (case, side, batch) is an independent run: simulate them on `jobs` threads, each into
    // its own slot, so that the results do not depend on jobs.
    const int sides = no_independent_ ? 2 : 3, B = batches_;
    std::vector<CaseOut> out(pairs.size());
    struct Task {
      size_t c;
      int side, k;
    };
    std::vector<Task> tasks;
    for (size_t i = 0; i < pairs.size(); ++i) {
      out[i].name = pairs[i].first.name, out[i].seed = pairs[i].first.seed;
      for (int s = 0; s < sides; ++s) out[i].reps[s].resize(size_t(B));
    }
    std::vector<std::vector<uint8_t>> done(pairs.size(), std::vector<uint8_t>(size_t(sides * B), 0));
    for (int k = 0; k < B; ++k)  // pairs first, so that an interrupt leaves whole pairs behind
      for (size_t i = 0; i < pairs.size(); ++i)
        for (int s = 0; s < sides; ++s) tasks.push_back({i, s, k});
    if (!writable_out_dir(out_dir_)) return 1;  // before the runs, not after them
    install_stop_handler();
    bool tty = isatty(STDERR_FILENO) && !quiet_;
    std::mutex mu;
    std::string model_error;
    size_t next = 0, finished = 0;
    auto worker = [&]() {
      while (true) {
        Task t;
        {
          std::lock_guard<std::mutex> lk(mu);
          if (next >= tasks.size() || g_stop || !model_error.empty()) return;
          t = tasks[next++];
        }
        const auto& [b, a] = pairs[t.c];
        CaseConfig c = batch_config(t.side == kBefore ? b : a, b.seed, B, t.k, t.side == kIndependent);
        RunControl ctl;
        ctl.stop = &g_stop;
        try {
          CaseResult r = run_case(c, EngineKind::Native, ctl);
          std::lock_guard<std::mutex> lk(mu);
          done[t.c][size_t(t.side * B + t.k)] = !r.interrupted;
          out[t.c].reps[t.side][size_t(t.k)] = std::move(r);
          if (tty) std::cerr << fmt::format("\rcompare: {} of {} batch runs simulated   ", ++finished, tasks.size()) << std::flush;
        } catch (const std::exception& e) {  // ModelError, or std::bad_alloc: a thread must not terminate()
          std::lock_guard<std::mutex> lk(mu);
          model_error = out[t.c].name + ": " + e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (unsigned j = 0; j < std::min<size_t>(jobs_, tasks.size()); ++j) pool.emplace_back(worker);
    for (auto& th : pool) th.join();
    if (tty) std::cerr << "\r" << std::string(60, ' ') << "\r";
    if (!model_error.empty()) return bad(model_error);

    // Compare the leading batches finished on every side (all of them unless interrupted).
    bool complete = true, failed = false;
    for (size_t i = 0; i < out.size(); ++i) {
      CaseOut& o = out[i];
      auto pair_done = [&](int k) {
        for (int s = 0; s < sides; ++s)
          if (!done[i][size_t(s * B + k)]) return false;
        return true;
      };
      while (o.batches < B && pair_done(o.batches)) ++o.batches;
      complete = complete && o.batches == B;
      for (int s = 0; s < sides; ++s) {
        o.reps[s].resize(size_t(o.batches));
        for (const auto& r : o.reps[s])
          if (o.failure.empty() && !r.failure.empty()) o.failure = r.failure;
      }
      failed = failed || !o.failure.empty();
      if (o.batches < 2) continue;
      for (const auto& h : selected) {
        Batches ind_p = hit_iterations(o.reps[kIndependent], h), ind_r = events_per_second(o.reps[kIndependent], h);
        o.rows.push_back({h,
                          compare_batches(hit_iterations(o.reps[kBefore], h), hit_iterations(o.reps[kAfter], h),
                                          Measure::PerIteration, sides == 3 ? &ind_p : nullptr),
                          compare_batches(events_per_second(o.reps[kBefore], h), events_per_second(o.reps[kAfter], h),
                                          Measure::PerSecond, sides == 3 ? &ind_r : nullptr)});
      }
    }
    print(std::cout, before.name, after_file, out);
    if (!out_dir_.empty()) {
      try {
        write(out, after_file, selected, complete);
        std::cout << fmt::format("\nwrote {}/compare.json and {}/compare.csv{}\n", out_dir_, out_dir_,
                                 complete ? "" : " (incomplete: interrupted)");
      } catch (const std::exception& e) {
        return bad(e.what());
      }
    }
    if (!complete) return 130;
    return failed ? 3 : 0;
  }

 private:
  static int bad(const std::string& msg) {
    std::cerr << "racewin: " << msg << "\n";
    return 1;
  }
  static int usage(const std::string& msg) {
    std::cerr << "racewin: " << msg << "\n";
    return 2;
  }

  void print(std::ostream& o, const std::string& scenario, const std::string& after_file, const std::vector<CaseOut>& out) const {
    o << fmt::format("{}: before {}, after {}", scenario, before_, after_file);
    for (const auto& s : sets_) o << " --set " << s;
    for (const auto& s : sets_after_) o << " --set-after " << s;
    o << fmt::format("\n{} batches per side on common random numbers; 95% intervals; sig: the difference interval "
                     "excludes 0 (under 10 hits, and an exact sign-flip test agrees); CRN/indep: its width over that of independent runs\n", batches_);
    for (const auto& c : out) {
      o << fmt::format("\ncase {} (seed {}, {} paired batches): before {:.0f} iterations in {}, after {:.0f} in {}\n", c.name,
                       c.seed, c.batches, total(c.reps[kBefore], false), format_duration(total(c.reps[kBefore], true)),
                       total(c.reps[kAfter], false), format_duration(total(c.reps[kAfter], true)));
      if (c.batches < 2) o << "  interrupted before two batch pairs were simulated: nothing to compare\n";
      if (!c.failure.empty()) o << "  a batch run stopped: " << c.failure << "\n";
      if (c.rows.empty()) continue;
      size_t w = 6;
      for (const auto& r : c.rows) w = std::max(w, r.name.size());
      print_compare_header(o, w);
      for (const auto& r : c.rows) print_compare_row(o, w, r.name, r.p, Measure::PerIteration), print_compare_row(o, w, "", r.rate, Measure::PerSecond);
    }
  }

  void write(const std::vector<CaseOut>& out, const std::string& after_file, const std::vector<std::string>& selected,
             bool complete) const {
    nlohmann::json j = {{"program", "racewin"}, {"version", kVersion}, {"before_file", before_}, {"after_file", after_file},
                        {"set", sets_}, {"set_after", sets_after_}, {"hazards", selected}, {"batches", batches_},
                        {"independent", !no_independent_}, {"complete", complete}, {"cases", nlohmann::json::array()}};
    std::string csv = comparison_csv_header();
    for (const auto& c : out) {
      nlohmann::json cj = {{"case", c.name}, {"seed", c.seed}, {"paired_batches", c.batches},
                           {"before", side_json(c.reps[kBefore])}, {"after", side_json(c.reps[kAfter])},
                           {"failure", c.failure.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.failure)},
                           {"hazards", nlohmann::json::array()}};
      if (!no_independent_) cj["after_independent"] = side_json(c.reps[kIndependent]);
      for (const auto& r : c.rows) {
        cj["hazards"].push_back({{"hazard", r.name},
                                 {"per_iteration", comparison_json(r.p, Measure::PerIteration)},
                                 {"per_second", comparison_json(r.rate, Measure::PerSecond)}});
        csv += comparison_csv_row(c.name, r.name, r.p, Measure::PerIteration);
        csv += comparison_csv_row(c.name, r.name, r.rate, Measure::PerSecond);
      }
      j["cases"].push_back(cj);
    }
    for (const auto& [name, text] : {std::pair{"compare.json", j.dump(2) + "\n"}, std::pair{"compare.csv", csv}})
      write_atomic(std::filesystem::path(out_dir_) / name, text);
  }

  CLI::App* cmd_ = nullptr;
  std::string before_, after_, time_, out_dir_, rare_event_;
  StoppingRule rule_;  // --rel-error, --p-below: with --rare-event only
  std::vector<std::string> sets_, sets_after_, cases_, hazards_;
  int batches_ = 20;
  uint64_t seed_ = 0, iterations_ = 0;
  unsigned jobs_ = std::max(1u, std::thread::hardware_concurrency());
  bool quiet_ = false, no_independent_ = false, force_override_ = false;
};

}  // namespace

std::unique_ptr<Command> make_compare_command() { return std::make_unique<CompareCommand>(); }

}  // namespace racewin::cli

// racewin run: simulate every case of a scenario and report its hazards.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/run_uncertainty.hpp"
#include "cli/timeline_opts.hpp"
#include "exact/exact.hpp"
#include "output/output.hpp"
#include "run/run.hpp"

namespace racewin::cli {
namespace {

class RunCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* run = app.add_subcommand("run", "simulate every case of a scenario and report its hazards");
    opts_.add(run);
    run->add_option("--seed", seed_, "seed of every random stream (default: run.seed of the scenario)");
    auto* it_opt = run->add_option("--iterations", iterations_, "stop after N loop iterations of the counted thread");
    run->add_option("--time", time_, "simulated time per case, e.g. 30s (with a stopping rule: at most)")->excludes(it_opt);
    run->add_option("--out", out_dir_, "write results.json and hazards.csv to this directory");
    run->add_option("--engine", engine_, "native (fast) or simgrid (reference)")->check(CLI::IsMember({"native", "simgrid"}));
    run->add_option("--trace", trace_, "with --engine simgrid: write a Paje trace of the (single) case here");
    run->add_flag("-q,--quiet", quiet_, "no progress display");
    run->add_flag("--exponential", exponential_,
                  "replace every duration by an exponential of the same mean (to cross-check racewin exact)");
    run->add_option("--replications", replications_,
                    "split each case into N independent runs with derived seeds (default: run.replications)")
        ->check(CLI::Range(1, 1 << 20));
    run->add_option("--jobs", jobs_, "runs simulated at once (native engine; default: the number of cores)")
        ->check(CLI::Range(1u, 1024u));
    // Sequential stopping: each case runs as one replication until its rule is met or a budget
    // (--time or --iterations, --max-events, --max-wall) is spent.
    const CLI::Validator kFraction(
        [](std::string& v) -> std::string {
          char* end = nullptr;
          double x = std::strtod(v.c_str(), &end);
          return end != v.c_str() && *end == 0 && x > 0 && x <= 1 ? "" : "expected a number above 0 and at most 1, got " + v;
        },
        "in (0, 1]");
    run->add_option("--rel-error", rule_.rel_error,
                    "run each case until every selected hazard's 95% interval of P(hit) per iteration has a "
                    "half-width within this fraction of its estimate, e.g. 0.1 (--time is then a maximum)")
        ->check(kFraction);
    run->add_option("--p-below", rule_.p_below,
                    "run each case until every selected hazard's 95% upper bound of P(hit) is below X; with "
                    "--rel-error, a hazard is done when either holds")
        ->check(kFraction);
    run->add_option("--hazard", rule_.hazards,
                    "a hazard the stopping rule looks at and --rare-event estimates (repeatable; default: "
                    "bad_page_state and every window:* hazard of the case)");
    run->add_option("--max-events", rule_.max_events,
                    "stop a case after N model events (checked every 65536 events)")
        ->check(CLI::Range(uint64_t(1), std::numeric_limits<uint64_t>::max()));
    run->add_option("--max-wall", max_wall_,
                    "stop a case after this much wall-clock time, e.g. 90s, 10m, 1h (machine-dependent results)");
    run->add_option("--rare-event", rare_event_,
                    "estimate rare hazards by forcing: steal and interrupt arrivals sped up inside race windows, "
                    "each hit weighted by its likelihood ratio (METHOD: force, or force:X for X forced arrivals "
                    "per window-opening iteration, default 0.5; then ,defensive=D for a nominal share D of the "
                    "branches, default from the pilot, and ,fallback=no to keep forcing where crude would pay "
                    "better; native engine, one replication per case)");
    timeline_.add(run);
    run->add_option("--uncertainty", uncertainty_,
                    "the answer over the box of the estimates' ranges ([E lo..hi] in the profiles): N Latin hypercube "
                    "samples with common random numbers, each case and each pair's ratio with its 5-95% band and "
                    "drivers (one --hazard, default bad_page_state; needs --out, where it runs as a resumable sweep)")
        ->check(CLI::Range(2, 100000));
    run->add_option("--ratio", ratios_,
                    "print P(hit) of case A over case B for the rule's hazards, with a 95% interval (A/B; repeatable): paired over "
                    "the replications with --replications K (crude runs, the same seed), else the two runs taken as independent; "
                    "the line says which");
    run->footer(
        "Sequential stopping: with --rel-error or --p-below, each case runs as one replication (run.replications "
        "is ignored, --replications above 1 refused) until every selected hazard meets the rule, or a budget is "
        "spent: --time or --iterations (then maxima), --max-events, --max-wall. The rule and --max-events are "
        "checked every 65536 model events, so where a case stops depends on configuration and seed only, never "
        "on --jobs; a --max-wall budget that runs out makes it machine-dependent. The outputs say how each case "
        "stopped. --max-events and --max-wall may also be given alone.");
    cmd_ = run;
    return run;
  }

  int exec(const std::string& command_line) override {
    if (std::string why = duration_option_problem("--time", time_); !why.empty()) return usage(why);
    if (!max_wall_.empty()) {
      auto w = parse_wall(max_wall_);
      if (!w) return usage("--max-wall " + max_wall_ + ": expected a duration such as 90s, 10m or 1h (a unit is needed)");
      rule_.max_wall_s = *w;
    }
    std::optional<ForceOptions> force;
    if (!rare_event_.empty()) {
      try {
        force = ForceOptions::parse(rare_event_);
      } catch (const std::invalid_argument& e) {
        return usage(e.what());
      }
      if (engine_ == "simgrid") return usage("--rare-event branches runs by copying the native engine's state: not with --engine simgrid");
    }
    if (uncertainty_) return uncertainty();
    const bool sequential = rule_.any() || force.has_value();
    if (!rule_.hazards.empty() && !rule_.has_rule() && !force)
      return usage("--hazard selects what --rel-error, --p-below or --rare-event looks at; give one of them");
    if (sequential && replications_ > 1)
      return usage("--replications " + std::to_string(replications_) +
                   (force ? " with --rare-event: a forced run is one replication per case"
                          : " with a stopping rule or budget: sequential stopping runs each case as one replication"));
    Scenario sc;
    try {
      std::vector<Override> overrides;
      if (sequential) overrides.push_back({"run.replications", "1", "sequential stopping"});
      if (cmd_->count("--seed")) overrides.push_back({"run.seed", std::to_string(seed_), "--seed"});
      if (replications_) overrides.push_back({"run.replications", std::to_string(replications_), "--replications"});
      for (auto& o : limit_overrides(iterations_, time_)) overrides.push_back(o);
      sc = opts_.load(overrides);
      if (exponential_)
        for (auto& c : sc.cases) make_exponential(c);
    } catch (const ConfigError& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return exit_code(e);
    }
    const std::string& engine = engine_;
    const std::string& trace = trace_;
    const std::string& out_dir = out_dir_;
    unsigned jobs = jobs_;
    bool quiet = quiet_;
    EngineKind kind = engine == "simgrid" ? EngineKind::SimGrid : EngineKind::Native;
    if (!trace.empty() && (kind != EngineKind::SimGrid || sc.cases.size() != 1)) {
      std::cerr << "racewin: --trace needs --engine simgrid and a single case (use --case NAME)\n";
      return 2;
    }
    if (std::string e = timeline_.check(sc, force.has_value()); !e.empty()) return usage(e);
    const std::optional<TimelineRequest> recording = timeline_.request();
    if (sequential)
      for (const auto& c : sc.cases) {
        std::vector<std::string> known = case_hazards(c);
        for (const auto& h : rule_.hazards)
          if (std::find(known.begin(), known.end(), h) == known.end())
            return usage(fmt::format("--hazard {}: case {} has no such hazard (it has: {})", h, c.name, fmt::join(known, ", ")));
      }
    for (const auto& spec : ratios_) {
      size_t slash = spec.find('/');
      auto known = [&](const std::string& n) {
        return std::any_of(sc.cases.begin(), sc.cases.end(), [&](const CaseConfig& c) { return c.name == n; });
      };
      if (slash == std::string::npos || !known(spec.substr(0, slash)) || !known(spec.substr(slash + 1)))
        return usage("--ratio " + spec + ": expected CASE_A/CASE_B, two cases of this run");
    }
    if (!writable_out_dir(out_dir)) return 1;  // before the run: a long run's results are not lost to a bad --out
    install_stop_handler();
    bool tty = isatty(STDERR_FILENO) && !quiet;
    RunInfo info{kVersion, opts_.config, command_line};

    // Cases and their replications are independent: simulate them on `jobs` threads, and report
    // each case's replications merged in their own order, so that results do not depend on jobs.
    if (kind == EngineKind::SimGrid) jobs = 1;  // one SimGrid engine per process
    struct Task {
      size_t c;
      int k;
    };
    std::vector<Task> tasks;
    std::vector<std::vector<CaseResult>> reps(sc.cases.size());
    std::vector<std::vector<uint8_t>> done(sc.cases.size());
    std::vector<std::vector<double>> progress(sc.cases.size());
    std::vector<std::optional<StopCheck>> live(sc.cases.size());  // sequential: a running case's last checkpoint
    size_t lines_shown = 0;
    for (size_t i = 0; i < sc.cases.size(); ++i) {
      int n = std::max(1, sc.cases[i].replications);
      reps[i].resize(size_t(n));
      done[i].assign(size_t(n), 0);
      progress[i].assign(size_t(n), 0);
      for (int k = 0; k < n; ++k) tasks.push_back({i, k});
    }
    std::mutex mu;
    std::string model_error;
    size_t next_task = 0;
    auto started = std::chrono::steady_clock::now();
    auto last_shown = started - std::chrono::seconds(1);
    auto show = [&]() {  // with mu held; a few times a second at most
      auto now = std::chrono::steady_clock::now();
      if (now - last_shown < std::chrono::milliseconds(250)) return;
      last_shown = now;
      if (sequential) {  // a line per running case, redrawn in place
        size_t finished = 0;
        for (const auto& d : done) finished += d[0];
        std::string block = fmt::format("\x1b[2K{}: {} of {} case(s) done\n", sc.name, finished, sc.cases.size());
        size_t lines = 1;
        for (size_t i = 0; i < live.size(); ++i) {
          if (!live[i] || done[i][0]) continue;
          std::string l = stopping_progress(sc.cases[i].name, rule_, *live[i], seconds_left(rule_, *live[i], sc.cases[i].limits));
          block += "\x1b[2K  " + l.substr(0, terminal_columns() - 3) + "\n";
          ++lines;
        }
        std::cerr << (lines_shown ? fmt::format("\x1b[{}A", lines_shown) : "") << block << "\x1b[J" << std::flush;
        lines_shown = lines;
        return;
      }
      double total = 0;
      size_t count = 0;
      for (size_t i = 0; i < progress.size(); ++i)
        for (size_t k = 0; k < progress[i].size(); ++k, ++count) total += done[i][k] ? 1.0 : progress[i][k];
      double frac = total / double(count), spent = std::chrono::duration<double>(now - started).count();
      std::string eta = frac > 0.01 ? fmt::format(", about {:.0f} s left", spent * (1 - frac) / frac) : "";
      std::cerr << fmt::format("\r{}: {:5.1f}% of {} run(s) simulated{}     ", sc.name, 100 * frac, count, eta)
                << std::flush;
    };
    auto worker = [&]() {
      while (true) {
        Task t;
        {
          std::lock_guard<std::mutex> lk(mu);
          if (next_task >= tasks.size() || g_stop || !model_error.empty()) return;
          t = tasks[next_task++];
        }
        CaseConfig c = replication_config(sc.cases[t.c], t.k);
        RunControl ctl;
        ctl.stop = &g_stop;
        std::function<void(const StopCheck&)> on_check;
        if (tty && sequential)
          on_check = [&, t](const StopCheck& chk) {
            std::lock_guard<std::mutex> lk(mu);
            live[t.c] = chk;
            show();
          };
        else if (tty)
          ctl.progress = [&, t, total = c.limits.time_ns](Time now) {
            std::lock_guard<std::mutex> lk(mu);
            progress[t.c][size_t(t.k)] = total > 0 ? now / total : 0;
            show();
          };
        try {
          CaseResult r = run_case(c, kind, ctl, trace, sequential ? &rule_ : nullptr, on_check, force ? &*force : nullptr,
                                  recording ? &*recording : nullptr);
          std::lock_guard<std::mutex> lk(mu);
          reps[t.c][size_t(t.k)] = std::move(r);
          done[t.c][size_t(t.k)] = 1;
        } catch (const ModelError& e) {
          std::lock_guard<std::mutex> lk(mu);
          model_error = sc.cases[t.c].name + ": " + e.what();
        } catch (const std::exception& e) {  // std::bad_alloc above all: a thread must not terminate()
          std::lock_guard<std::mutex> lk(mu);
          model_error = sc.cases[t.c].name + ": " + (dynamic_cast<const std::bad_alloc*>(&e) ? "out of memory" : e.what());
        }
      }
    };
    std::vector<std::thread> pool;
    for (unsigned j = 0; j < std::min<size_t>(jobs, tasks.size()); ++j) pool.emplace_back(worker);
    for (auto& th : pool) th.join();
    if (tty && sequential && lines_shown) std::cerr << fmt::format("\x1b[{}A\x1b[J", lines_shown);
    else if (tty) std::cerr << "\r" << std::string(80, ' ') << "\r";
    if (!model_error.empty()) {
      std::cerr << "racewin: " << model_error << "\n";
      return 1;
    }
    std::vector<CaseResult> results;
    bool failed = false, all_done = true;
    for (size_t i = 0; i < reps.size(); ++i) {
      std::vector<CaseResult> finished;  // the replications done, up to the first one that is not
      for (size_t k = 0; k < reps[i].size() && done[i][k]; ++k) finished.push_back(reps[i][k]);
      if (finished.size() != reps[i].size()) all_done = false;
      if (finished.empty()) continue;
      CaseResult r = merge_replications(sc.cases[i], finished);
      if (finished.size() != reps[i].size()) r.interrupted = true;
      if (!r.failure.empty()) failed = true;
      results.push_back(std::move(r));
    }
    bool complete = all_done;
    for (const auto& r : results) complete = complete && !r.interrupted;
    print_table(std::cout, sc, results);
    if (!ratios_.empty()) std::cout << "\n";
    for (const auto& spec : ratios_)
      for (const auto& h : rule_hazards(rule_, sc.cases.front())) std::cout << ratio_line(results, spec, h) << "\n";
    // Last, so that it is not missed: a run too short to estimate says so, and what would do.
    if (std::string line = short_run_line(sc, results); !line.empty()) std::cout << "\n" << line;
    if (!timeline_.write(sc, results, std::cout)) return 1;
    if (!out_dir.empty()) {
      try {
        write_results(out_dir, info, sc, results, complete);
        std::cout << fmt::format("\nwrote {}/results.json and {}/hazards.csv{}\n", out_dir, out_dir,
                                 complete ? "" : " (incomplete: interrupted)");
      } catch (const std::exception& e) {
        std::cerr << "racewin: " << e.what() << "\n";
        return 1;
      }
    }
    if (!complete) return 130;
    return failed ? 3 : 0;
  }

 private:
  ScenarioOptions opts_;
  CLI::App* cmd_ = nullptr;
  uint64_t seed_ = 0, iterations_ = 0;
  std::string time_, out_dir_, engine_ = "native", trace_;
  bool quiet_ = false, exponential_ = false;
  int replications_ = 0;
  std::string rare_event_;
  std::vector<std::string> ratios_;
  StoppingRule rule_;
  std::string max_wall_;
  TimelineOptions timeline_;

  size_t uncertainty_ = 0;

  // --uncertainty N: the run's settings become an uncertainty sweep's (run_uncertainty.cpp);
  // what a sweep point cannot carry is refused, not dropped.
  int uncertainty() {
    for (const char* o : {"--replications", "--ratio", "--trace", "--exponential", "--max-events", "--max-wall", "--set",
                          "--timeline", "--timeline-text", "--first-hit"})
      if (cmd_->count(o)) return usage(fmt::format("--uncertainty with {}: an uncertainty run takes --case, --seed, --time or "
                                                   "--iterations, --rel-error, --p-below, --rare-event, one --hazard, --jobs", o));
    if (engine_ != "native") return usage("--uncertainty runs on the native engine");
    if (out_dir_.empty()) return usage("--uncertainty needs --out DIR: its samples are kept there, and the same command resumes");
    if (rule_.hazards.size() > 1) return usage("--uncertainty takes one --hazard");
    int rc = 0;
    auto sc = opts_.load_or_report(rc);
    if (!sc) return rc;
    UncertaintyRequest r;
    r.scenario = sc->file;
    r.cases = opts_.cases;
    r.seed = cmd_->count("--seed") ? seed_ : sc->cases.at(0).seed;
    r.samples = uncertainty_;
    r.hazard = rule_.hazards.empty() ? "bad_page_state" : rule_.hazards[0];
    r.time = time_;
    r.iterations = iterations_;
    r.rel_error = rule_.rel_error;
    r.p_below = rule_.p_below;
    r.rare_event = rare_event_;
    r.out = out_dir_;
    r.jobs = jobs_;
    r.quiet = quiet_;
    return run_uncertainty(r);
  }

  static int usage(const std::string& message) {
    std::cerr << "racewin: " << message << "\n";
    return 2;
  }
  // Wall-clock durations: "90s", "10m" or "10min", "1h"; a bare number is refused, as any duration.
  static std::optional<double> parse_wall(std::string text) {
    if (!text.empty() && text.back() == 'm' && text.size() > 1 && text[text.size() - 2] != 'm') text += "in";
    auto ns = parse_duration_ns(text);
    if (!ns || *ns <= 0) return std::nullopt;
    return *ns * 1e-9;
  }
  static size_t terminal_columns() {
    winsize ws{};
    return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 100;
  }
  unsigned jobs_ = std::max(1u, std::thread::hardware_concurrency());
};

}  // namespace

std::unique_ptr<Command> make_run_command() { return std::make_unique<RunCommand>(); }

}  // namespace racewin::cli

// racewin exact: solve a case as a continuous-time Markov chain, when its durations allow.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <new>

#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/exact_limits.hpp"
#include "exact/exact.hpp"
#include "model/machine.hpp"
#include "output/output.hpp"

namespace racewin::cli {
namespace {

struct Interrupted {};

// How far the enumeration of a case got, for the messages when it stops.
struct Progress {
  size_t states = 0;
  MemoryWatch memory;
  void reached(size_t n) {
    states = n;
    memory.check(n);
  }
};

// Runs `f` for case `c`; an exception becomes its message and exit code (-1: none was thrown).
// A stop for want of states or memory says how much a state takes and what would make fewer.
template <class F>
int guarded(const CaseConfig& c, bool tty, bool reachable, const Progress& p, F f) {
  auto advice = [&](size_t states, double per) {
    std::string s = per > 0 ? fmt::format("racewin: about {} a state ({} states: {})", bytes(per), states, bytes(per * double(states))) : "";
    std::string r = state_reductions(c, reachable);
    if (!r.empty()) s += std::string(s.empty() ? "racewin: " : "; ") + r;
    if (!s.empty()) std::cerr << s << "\n";
  };
  try {
    f();
    return -1;
  } catch (const NotExponential& e) {
    std::cerr << "racewin: " << e.what() << "\n";
  } catch (const StateLimit& e) {
    if (tty) std::cerr << "\n";
    std::cerr << fmt::format("racewin: case {}: stopped after {} states: {}\n", c.name, e.states, e.what());
    advice(e.states, p.memory.bytes_per_state(e.states));
  } catch (const MemoryLimit& e) {
    if (tty) std::cerr << "\n";
    std::cerr << fmt::format("racewin: case {}: stopped after {} states: {}\n", c.name, e.states, e.what());
    advice(e.states, e.bytes_per_state);
  } catch (const std::bad_alloc&) {
    if (tty) std::cerr << "\n";
    std::cerr << fmt::format("racewin: case {}: out of memory (std::bad_alloc) after {} states\n", c.name, p.states);
    advice(p.states, p.memory.bytes_per_state(p.states));
  } catch (const DeadlockError& e) {
    std::cerr << fmt::format("racewin: case {}: a reachable state deadlocks: {}\n", c.name, e.what());
  } catch (const ModelError& e) {
    std::cerr << fmt::format("racewin: case {}: {}\n", c.name, e.what());
  } catch (const Interrupted&) {
    std::cerr << "\nracewin: interrupted\n";
    return 130;
  }
  return 1;
}

std::string num(double v) { return std::isinf(v) ? "inf" : std::isnan(v) ? "not solved" : fmt::format("{:.10g}", v); }

class ExactCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("exact",
                                 "solve each case exactly as a Markov chain (every duration exponential or zero)");
    opts_.add(c);
    c->add_option("--iterations", k_, "K for P(hit within the first K iterations of the counted thread)")
        ->check(CLI::Range(1, 1000));
    c->add_option("--max-states", max_states_, "stop enumerating past this many states")->check(CLI::Range(1, 200000000));
    c->add_flag("--exponential", exponential_, "replace every duration by an exponential of the same mean first");
    c->add_option("--out", out_dir_, "write exact.json to this directory");
    c->add_option("--reachable", reach_hazard_,
                  "enumerate the reachable states (pages up to renaming, free pages as a set) and say whether "
                  "a step can raise HAZARD: exit 0 unreachable in every case, 4 reachable, 5 not decided");
    c->add_flag("-q,--quiet", quiet_, "no progress display");
    return c;
  }

  int exec(const std::string& command_line) override {
    int load_rc = 0;
    auto loaded = opts_.load_or_report(load_rc);
    if (!loaded) return load_rc;
    Scenario& sc = *loaded;
    install_stop_handler();
    bool tty = isatty(STDERR_FILENO) && !quiet_;
    nlohmann::json j = {{"program", "racewin"}, {"version", kVersion}, {"scenario", sc.name},
                        {"scenario_file", opts_.config}, {"command_line", command_line}, {"k", k_}};
    j["cases"] = nlohmann::json::array();
    if (!reach_hazard_.empty()) return reach_all(sc, tty);
    if (!writable_out_dir(out_dir_)) return 1;  // before the work, not after it
    for (auto& c : sc.cases) {
      if (exponential_) make_exponential(c);
      ExactOptions opt;
      opt.max_states = max_states_;
      Progress p;
      opt.progress = [&](size_t states, size_t frontier) {
        if (g_stop) throw Interrupted{};
        p.reached(states);
        if (tty) std::cerr << fmt::format("\r{}: {} states, {} to expand     ", c.name, states, frontier) << std::flush;
      };
      auto t0 = std::chrono::steady_clock::now();
      int rc = guarded(c, tty, false, p, [&] {
        Chain chain = build_chain(c, opt);
        const double per_state = p.memory.bytes_per_state(chain.states());
        auto t1 = std::chrono::steady_clock::now();
        if (tty) std::cerr << fmt::format("\r{}: {} states; solving...          ", c.name, chain.states()) << std::flush;
        ExactResult r = solve_chain(chain, k_);
        auto t2 = std::chrono::steady_clock::now();
        if (tty) std::cerr << "\r" << std::string(70, ' ') << "\r";
        double build = std::chrono::duration<double>(t1 - t0).count(), solve = std::chrono::duration<double>(t2 - t1).count();
        print(c, r, build, solve);
        // Resident memory the enumeration added, what a larger case would need; below some
        // thousands of states it measures the allocator's granularity, not the states.
        if (per_state > 0 && chain.states() >= 4096)
          std::cout << fmt::format("  memory: about {} a state while enumerating\n", bytes(per_state));
        j["cases"].push_back(to_json(c, r));
      });
      if (rc >= 0) return rc;
    }
    if (!out_dir_.empty()) {
      try {
        write_atomic(std::filesystem::path(out_dir_) / "exact.json", j.dump(2) + "\n");
      } catch (const OutputError& e) {
        std::cerr << "racewin: " << e.what() << "\n";
        return 1;
      }
      std::cout << fmt::format("\nwrote {}/exact.json\n", out_dir_);
    }
    return 0;
  }

 private:
  int reach_all(Scenario& sc, bool tty) {
    int rc = 0;
    for (auto& c : sc.cases) {
      if (exponential_) make_exponential(c);
      ReachOptions opt;
      opt.hazard = reach_hazard_;
      opt.max_states = max_states_;
      Progress p;
      opt.progress = [&](size_t states, size_t frontier, size_t trans) {
        if (g_stop) throw Interrupted{};
        p.reached(states);
        if (tty) std::cerr << fmt::format("\r{}: {} states, {} transitions, {} to expand     ", c.name, states, trans, frontier)
                           << std::flush;
      };
      auto t0 = std::chrono::steady_clock::now();
      ReachResult r;
      if (int fail = guarded(c, tty, true, p, [&] { r = reach(c, opt); }); fail >= 0) return fail;
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (tty) std::cerr << "\r" << std::string(90, ' ') << "\r";
      std::string how = fmt::format("{} states, {} transitions enumerated in {:.1f} s{}", r.states, r.transitions, secs,
                                    exponential_ ? ", every duration exponential" : "");
      if (r.reached) {
        std::cout << fmt::format("{}: {} REACHABLE after {} ({} transitions from the start):\n  {}\n", c.label(),
                                 reach_hazard_, how, r.depth, r.detail);
        size_t from = r.trace.size() > 40 ? r.trace.size() - 40 : 0;
        if (from) std::cout << fmt::format("  ... {} earlier events\n", from);
        for (size_t i = from; i < r.trace.size(); ++i) std::cout << "  " << r.trace[i] << "\n";
        rc = std::max(rc, 4);
      } else if (r.complete) {
        std::cout << fmt::format("{}: {} unreachable: {}; at most {} pages in use, {} states branched on a free page "
                                 "still referred to, {} dead ends\n",
                                 c.label(), reach_hazard_, how, r.max_pages_in_use, r.branched, r.dead_ends);
      } else {
        std::cout << fmt::format("{}: {} not decided: --max-states ({}) reached after {} (at most {} pages in use)\n",
                                 c.label(), reach_hazard_, max_states_, how, r.max_pages_in_use);
        if (std::string cut = state_reductions(c, true); !cut.empty()) std::cerr << "racewin: " << cut << "\n";
        rc = std::max(rc, 5);
      }
    }
    return rc;
  }
  static bool shown(const ExactHazard& h) {
    return h.name == "bad_page_state" || h.name.rfind("window:", 0) == 0 || h.events_per_s > 0 ||
           std::isfinite(h.mean_time_to_first_s);
  }
  void print(const CaseConfig& c, const ExactResult& r, double build, double solve) const {
    std::cout << fmt::format("\n{} — exact: {} states, {} transitions (enumerated in {:.2f} s, solved in {:.2f} s by {}, "
                             "relative residual {:.1e}){}\n",
                             c.label(), r.states, r.transitions, build, solve, r.method, r.residual,
                             exponential_ ? "; durations made exponential" : "");
    std::cout << fmt::format("  iterations of {} [/s]: {}\n", c.threads[size_t(c.count_thread)].name, num(r.iterations_per_s));
    // Names as in racewin run's table; units in brackets ([/s]: per simulated second).
    constexpr const char* row = "  {:<28} {:>21} {:>12} {:>26} {:>20} {:>26}\n";
    std::cout << fmt::format(row, "hazard", "P(hit) per iteration", "events [/s]", "time per hit iteration [s]",
                             fmt::format("P(hit in first {})", r.k), "mean time to first hit [s]");
    for (const auto& h : r.hazards)
      if (shown(h) && hazard_can_be_hit(c, h.name))
        std::cout << fmt::format(row, h.name, num(h.p_iteration), num(h.events_per_s), num(h.time_per_hit_iteration_s),
                                 num(h.p_within_k), num(h.mean_time_to_first_s));
    for (const auto& w : r.windows)
      if (hazard_can_be_hit(c, "window:" + w.name))
        std::cout << fmt::format("  window {:<21} P(window hit) {}  (closed [/s]: {})\n", w.name, num(w.p_hit), num(w.closed_per_s));
      else
        std::cout << fmt::format("  window {:<21} cannot be hit: no window_hit step  (closed [/s]: {})\n", w.name, num(w.closed_per_s));
    for (const auto& n : r.notes) std::cout << "  note: " << n << "\n";
  }
  nlohmann::json to_json(const CaseConfig& c, const ExactResult& r) const {
    nlohmann::json cj = {{"case", c.name}, {"states", r.states}, {"transitions", r.transitions}, {"solver", r.method},
                         {"relative_residual", r.residual}, {"exponential", exponential_},
                         {"iterations_per_s", r.iterations_per_s}};
    for (const auto& h : r.hazards)
      cj["hazards"].push_back({{"hazard", h.name},
                               {"p_iteration_hit", h.p_iteration},
                               {"events_per_s", h.events_per_s},
                               {"time_per_hit_iteration_s", json_number(h.time_per_hit_iteration_s)},
                               {"p_hit_within_k_iterations", json_number(h.p_within_k)},
                               {"mean_time_to_first_s", json_number(h.mean_time_to_first_s)}});
    for (const auto& w : r.windows)
      cj["windows"].push_back({{"window", w.name}, {"p_window_hit", w.p_hit}, {"closed_per_s", w.closed_per_s}});
    cj["notes"] = r.notes;  // figures not computed (null above), and why
    cj["config"] = c.resolved;
    for (const auto& o : c.overrides)  // the deviations from the file, as results.json lists them
      if (!o.from_file) cj["overrides"].push_back({{"key", o.key}, {"value", o.value}, {"origin", o.origin}});
    return cj;
  }

  ScenarioOptions opts_;
  int k_ = 1;
  size_t max_states_ = 2000000;
  bool exponential_ = false, quiet_ = false;
  std::string out_dir_, reach_hazard_;
};

}  // namespace

std::unique_ptr<Command> make_exact_command() { return std::make_unique<ExactCommand>(); }

}  // namespace racewin::cli

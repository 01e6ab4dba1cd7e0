// racewin calibrate PROBE.json: a racewin-probe file (docs/probe.md) fitted to models: the tick,
// the other stalls as a renewal process with its law chosen among the families a profile can
// state, how the vCPUs' stalls relate, and the measured paths and race (docs/calibrate.md).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <iostream>

#include "base/error.hpp"
#include "calibrate/cost_fit.hpp"
#include "calibrate/fits_json.hpp"
#include "calibrate/flush_fit.hpp"
#include "calibrate/predict.hpp"
#include "calibrate/predict_run.hpp"
#include "calibrate/probe_file.hpp"
#include "calibrate/profile_writer.hpp"
#include "calibrate/report.hpp"
#include "calibrate/stall_fit.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/data_dir.hpp"
#include "run/run.hpp"
#include "output/write_file.hpp"

namespace racewin::cli {
namespace {

class CalibrateCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("calibrate", "fit a racewin-probe file (docs/probe.md) to stall processes and path costs");
    c->add_option("probe", file_, "the probe's JSON file")->required();
    c->add_option("--hz", hz_, "the guest's tick rate, if the file has no CONFIG_HZ (0: search 100, 250, 300, 1000)")
        ->check(CLI::Range(0.0, 100000.0));
    c->add_option("--out", out_, "write hypervisor.yaml (a profile) and arch_overlay.yaml (a case's keys for the tick) here");
    c->add_flag("--predict", predict_,
                "with --out: run the probe's race of known window on racewin with the written profiles "
                "(--out/window_race.yaml) and print predicted beside measured");
    c->add_option("--against", against_,
                  "no fit: run the predictions an earlier calibrate --predict kept in DIR (its window_race.yaml, loops.yaml "
                  "and arch_costs.yaml) beside this probe file's measurements, a check held out of that fit")
        ->excludes("--out")->excludes("--predict")->excludes("--hz");
    return c;
  }
  int exec(const std::string&) override {
    if (!against_.empty()) return guarded([&] { return held_out(); });
    if (predict_ && out_.empty()) {
      std::cerr << "racewin: --predict writes its scenario beside the profiles: give --out DIR\n";
      return 2;
    }
    return guarded([&] { return fit(); });
  }

 private:
  // The errors a calibration reports, each as one message, with its exit status.
  template <class F>
  int guarded(F&& f) {
    try {
      return f();
    } catch (const ConfigError& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return 1;
    } catch (const OutputError& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return 1;
    } catch (const std::invalid_argument& e) {
      std::cerr << fmt::format("racewin: {}: {}\n", file_, e.what());
      return 1;
    } catch (const std::runtime_error& e) {  // a prediction's run stopped on a model error
      std::cerr << "racewin: " << e.what() << "\n";
      return 3;
    }
  }

  int fit() {
    calibrate::Probe p = calibrate::load_probe(file_);
    if (p.alone.empty()) {
      std::cerr << fmt::format("racewin: {}: no stall records (the probe ran without its stalls part)\n", file_);
      return 1;
    }
    double hz = hz_ > 0 ? hz_ : p.hz;
    calibrate::StallFit s = calibrate::fit_stalls(p.alone, p.together, p.threshold_ns, hz > 0 ? 1e9 / hz : 0);
    std::cout << calibrate::report(p, s);
    calibrate::FlushFit flush = calibrate::fit_flush(p);
    if (flush.known) {
      std::cout << "\nTLB flush of other CPUs: " << flush.why << "\n";
      if (flush.stall) std::cout << "  the target's hold: " << flush.stall->yaml() << "\n";
    }
    if (!out_.empty()) {
      namespace fs = std::filesystem;
      ensure_writable_dir(out_);
      // The profiles name the probe file relative to themselves, so the three can move together.
      std::string source = fs::relative(fs::absolute(file_), fs::absolute(out_)).string();
      calibrate::Profiles w = calibrate::write_profiles(p, s, source, flush);
      write_atomic(fs::path(out_) / "hypervisor.yaml", w.hypervisor);
      write_atomic(fs::path(out_) / "arch_overlay.yaml", w.arch_overlay);
      write_atomic(fs::path(out_) / "fits.json", calibrate::fits_json(p, s, flush));
      std::cout << fmt::format("\nwrote {0}/hypervisor.yaml, {0}/arch_overlay.yaml and {0}/fits.json (the laws' quantiles, for QQ plots)\n", out_);
      if (predict_) return predict(p, w.arch_overlay, flush.by_hypercall && flush.stall);
    }
    return 0;
  }

  // A prediction kept in against_ (written by an earlier calibrate --predict from another probe
  // file), run as it stands beside this file's measurements: nothing of this file is fitted.
  int held_out() {
    namespace fs = std::filesystem;
    calibrate::Probe p = calibrate::load_probe(file_);
    fs::path dir(against_), races = dir / "window_race.yaml", loops = dir / "loops.yaml", costs = dir / "arch_costs.yaml";
    for (const fs::path& f : {races, loops})
      if (!fs::exists(f))
        throw ConfigError({f.string(), 0, 0}, "no such file: --against takes the folder racewin calibrate --out DIR --predict wrote");
    std::cout << fmt::format("Held out: {} ({}, {}) measured, against the prediction kept in {}/ (nothing of this file fitted).\n",
                             file_, p.name.empty() ? "unnamed" : p.name, p.date, against_);
    if (fs::exists(dir / "probe.json")) {
      calibrate::Probe fitted = calibrate::load_probe((dir / "probe.json").string());
      std::cout << fmt::format("  the fitted file: {} ({}); stalls {:.3g}% of a spinner's time there, {:.3g}% here\n", fitted.name, fitted.date,
                               100 * calibrate::stall_fraction(fitted.alone), 100 * calibrate::stall_fraction(p.alone));
    }
    if (!p.races.empty()) {
      std::vector<calibrate::RaceComparison> rows = calibrate::run_races(races.string(), p);
      std::cout << fmt::format("\nThe race of known window, predicted ({}) and measured:\n", races.string());
      std::cout << calibrate::comparison_table(rows);
      std::cout << "\nThe windows' length, P(window longer than x):\n" << calibrate::tail_table(rows, p.read_ns);
    }
    if (p.madvise_empty.count) {
      std::vector<Override> keys = fs::exists(costs) ? calibrate::read_case_keys(costs.string()) : std::vector<Override>{};
      std::cout << fmt::format("\nThe loops, predicted ({}{}) and measured:\n", loops.string(),
                               keys.empty() ? ", the arch profile's costs" : " with " + costs.string());
      std::cout << calibrate::loops_table(calibrate::run_loops(loops.string(), p, keys));
    }
    return 0;
  }

  // The probe's races as a scenario of the written profiles, run, beside what was measured.
  int predict(const calibrate::Probe& p, const std::string& overlay, bool remote_flush) {
    namespace fs = std::filesystem;
    auto data = data_dir();
    if (!data) throw ConfigError({file_, 0, 0}, "racewin's shipped configs/ and models/ are not found: cannot predict");
    fs::path arch = *data / "models" / "arch" / (p.arch + ".yaml"), out = fs::absolute(out_);
    if (!fs::exists(arch))
      throw ConfigError({file_, 0, 0}, fmt::format("key machine.arch: racewin has no profile for '{}' ({} does not exist)", p.arch, arch.string()));
    if (p.races.empty()) {
      std::cout << "no race in the probe file: nothing to predict\n";
      return 0;
    }
    double f = calibrate::stall_fraction(p.alone);
    auto rel = [&](const fs::path& x) { return fs::relative(fs::absolute(x), out).string(); };
    std::string scenario = calibrate::race_scenario(p, f, rel(arch), "hypervisor.yaml", overlay, rel(*data / "configs" / "calibration" / "paths"));
    fs::path file = out / "window_race.yaml";
    write_atomic(file, scenario);
    std::vector<calibrate::RaceComparison> rows = calibrate::run_races(file.string(), p);
    std::cout << fmt::format("\nThe race of known window, predicted ({}, 5 simulated seconds a race) and measured:\n",
                             (fs::path(out_) / "window_race.yaml").string());
    std::cout << calibrate::comparison_table(rows);
    std::cout << "\nThe windows' length, P(window longer than x):\n" << calibrate::tail_table(rows, p.read_ns);
    // The loops: the same profiles with the shipped arch profile's path costs.
    if (p.madvise_empty.count) {
      std::string loops = calibrate::loops_scenario(p, rel(arch), "hypervisor.yaml", overlay, rel(*data / "models" / "mm"),
                                                    rel(*data / "configs" / "calibration" / "paths"));
      fs::path lf = out / "loops.yaml";
      write_atomic(lf, loops);
      std::vector<calibrate::LoopComparison> lrows = calibrate::run_loops(lf.string(), p, {});
      std::vector<double> measured = calibrate::measured_loops(p);
      std::cout << fmt::format("\nThe loops, predicted ({}, 0.2 simulated seconds each, the arch profile's path costs) and measured:\n",
                               (fs::path(out_) / "loops.yaml").string());
      std::cout << calibrate::loops_table(lrows);
      // Then the costs fitted to the first loops, one per group; the dirtyc0w_child loops are not in the fit.
      std::vector<calibrate::CostGroup> groups = calibrate::cost_groups(p.arch, remote_flush);
      if (groups.empty()) {
        std::cout << fmt::format("\nno cost groups for {}: the path costs are not fitted\n", p.arch);
        return 0;
      }
      if (!p.write_alone.count)  // an older probe file: the writer's framing stays as shipped
        std::erase_if(groups, [](const calibrate::CostGroup& g) { return g.fitted_case == 3; });
      calibrate::CostFit fit = calibrate::fit_costs(lf.string(), measured, groups, rel(fs::absolute(file_)));
      if (!fit.solved) {
        std::cout << "\nthe path costs cannot be fitted: " << fit.why << "\n";
        return 0;
      }
      write_atomic(out / "arch_costs.yaml", fit.overlay);
      std::cout << fmt::format("\nPath costs fitted to {} loops (each group of the arch profile's costs times one factor, fitted to the loop named):\n",
                               groups.size());
      for (size_t g = 0; g < groups.size(); ++g)
        std::cout << fmt::format("  {:<48} x{:<8.3g} {}\n", groups[g].name, fit.scale[g], lrows.at(groups[g].fitted_case).name);
      std::vector<double> after = calibrate::loop_times(lf.string(), fit.overrides);
      for (size_t i = 0; i < lrows.size() && i < after.size(); ++i) {
        lrows[i].predicted_ns = after[i];
        if (std::none_of(groups.begin(), groups.end(), [&](const calibrate::CostGroup& g) { return g.fitted_case == i; }))
          lrows[i].name += " (not fitted)";
      }
      std::cout << fmt::format("The loops with the fitted costs ({}/arch_costs.yaml):\n", out_);
      std::cout << calibrate::loops_table(lrows);
      // The model's writer is v5.9's: compared with another kernel's, the difference is the
      // kernel's as much as the machine's.
      if (p.kernel.rfind("5.9", 0) != 0)
        std::cout << fmt::format(
            "The dirtyc0w_child rows set v5.9's writer (models/mm/proc_mem_write_v5.9.yaml) beside kernel {}'s: on v5.9\n"
            "every forced write faults again, copies the page (page_count 2 while it sits in a per-CPU LRU pagevec)\n"
            "and flushes the other CPU; since v6.0 (FOLL_COW removed) it follows the exclusive anonymous page its\n"
            "first fault made. Their disagreement is the kernel's as much as the machine's (docs/calibrate.md).\n",
            p.kernel);
    }
    return 0;
  }

  std::string file_;
  double hz_ = 0;
  std::string out_;
  bool predict_ = false;
  std::string against_;
};

}  // namespace

std::unique_ptr<Command> make_calibrate_command() { return std::make_unique<CalibrateCommand>(); }

}  // namespace racewin::cli

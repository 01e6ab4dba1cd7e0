// racewin calibrate PROBE.json: a racewin-probe file (docs/probe.md) fitted to models: the tick,
// the other stalls as a renewal process with its law chosen among the families a profile can
// state, how the vCPUs' stalls relate, and the measured paths and race (docs/calibrate.md).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "base/error.hpp"
#include "calibrate/probe_file.hpp"
#include "calibrate/profile_writer.hpp"
#include "calibrate/report.hpp"
#include "calibrate/stall_fit.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
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
    return c;
  }
  int exec(const std::string&) override {
    try {
      calibrate::Probe p = calibrate::load_probe(file_);
      if (p.alone.empty()) {
        std::cerr << fmt::format("racewin: {}: no stall records (the probe ran without its stalls part)\n", file_);
        return 1;
      }
      double hz = hz_ > 0 ? hz_ : p.hz;
      calibrate::StallFit s = calibrate::fit_stalls(p.alone, p.together, p.threshold_ns, hz > 0 ? 1e9 / hz : 0);
      std::cout << calibrate::report(p, s);
      if (!out_.empty()) {
        namespace fs = std::filesystem;
        ensure_writable_dir(out_);
        // The profiles name the probe file relative to themselves, so the three can move together.
        std::string source = fs::relative(fs::absolute(file_), fs::absolute(out_)).string();
        calibrate::Profiles w = calibrate::write_profiles(p, s, source);
        write_atomic(fs::path(out_) / "hypervisor.yaml", w.hypervisor);
        write_atomic(fs::path(out_) / "arch_overlay.yaml", w.arch_overlay);
        std::cout << fmt::format("\nwrote {}/hypervisor.yaml and {}/arch_overlay.yaml\n", out_, out_);
      }
      return 0;
    } catch (const ConfigError& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return 1;
    } catch (const OutputError& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return 1;
    } catch (const std::invalid_argument& e) {
      std::cerr << fmt::format("racewin: {}: {}\n", file_, e.what());
      return 1;
    }
  }

 private:
  std::string file_;
  double hz_ = 0;
  std::string out_;
};

}  // namespace

std::unique_ptr<Command> make_calibrate_command() { return std::make_unique<CalibrateCommand>(); }

}  // namespace racewin::cli

// racewin: how likely is a kernel race window hit on a hypervisor-perturbed SMP machine?
// Each subcommand lives in sim/cli/; this file only wires them.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <new>

#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/data_dir.hpp"

using namespace racewin;

int main(int argc, char** argv) {
  CLI::App app{"racewin: a timing simulator of Linux mm race windows on hypervisor-perturbed SMP machines"};
  app.set_version_flag("--version", std::string(kVersion));
  app.add_flag_callback(
      "--data-dir",
      [] {
        auto d = cli::data_dir();
        if (!d) throw CLI::RuntimeError("racewin: no shipped models/ and configs/ beside this binary or in its source tree", 1);
        std::cout << d->string() << "\n";
        throw CLI::Success();
      },
      "print the directory of the shipped models/ and configs/ (where a scenario named without a path is found)");
  app.require_subcommand(1);
  std::vector<std::unique_ptr<cli::Command>> commands;
  commands.push_back(cli::make_run_command());
  commands.push_back(cli::make_validate_command());
  commands.push_back(cli::make_compare_command());
  commands.push_back(cli::make_exact_command());
  commands.push_back(cli::make_sweep_command());
  commands.push_back(cli::make_merge_command());
  commands.push_back(cli::make_params_command());
  commands.push_back(cli::make_report_command());
  commands.push_back(cli::make_calibrate_command());
  std::vector<std::pair<CLI::App*, cli::Command*>> subs;
  for (auto& c : commands) subs.emplace_back(c->add(app), c.get());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // --help and --version are not errors; the rest are usage errors
  }
  // The last resort: a command reports what it foresees itself; anything else escaping it is a
  // defect or an exhausted machine, and still gets one line and exit 1, never an abort and a core.
  try {
    for (auto& [sub, cmd] : subs)
      if (*sub) return cmd->exec(cli::command_line(argc, argv));
  } catch (const std::bad_alloc&) {
    std::cerr << "racewin: out of memory (std::bad_alloc); make the scenario smaller (machine.pages, "
                 "machine.vcpus, path lengths, sweep points, --max-states) or give it more memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "racewin: internal error: " << e.what() << "\n";
    return 1;
  } catch (...) {
    std::cerr << "racewin: internal error: an unknown exception\n";
    return 1;
  }
  return 2;
}

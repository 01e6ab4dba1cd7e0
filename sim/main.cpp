// racewin: how likely is a kernel race window hit on a hypervisor-perturbed SMP machine?
// Each subcommand lives in sim/cli/; this file only wires them.
#include <CLI/CLI.hpp>

#include <iostream>

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
  std::vector<std::pair<CLI::App*, cli::Command*>> subs;
  for (auto& c : commands) subs.emplace_back(c->add(app), c.get());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // --help and --version are not errors; the rest are usage errors
  }
  for (auto& [sub, cmd] : subs)
    if (*sub) return cmd->exec(cli::command_line(argc, argv));
  return 2;
}

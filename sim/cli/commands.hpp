#pragma once
// One class per subcommand: add() declares its options, exec() runs it and returns the exit code
// (0 ok, 1 bad input or a model error, 2 usage, 3 a run that failed, 130 interrupted).
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace racewin::cli {

class Command {
 public:
  virtual ~Command() = default;
  virtual CLI::App* add(CLI::App& app) = 0;
  virtual int exec(const std::string& command_line) = 0;
};

std::unique_ptr<Command> make_run_command();
std::unique_ptr<Command> make_validate_command();
std::unique_ptr<Command> make_compare_command();
std::unique_ptr<Command> make_exact_command();
std::unique_ptr<Command> make_sweep_command();
std::unique_ptr<Command> make_merge_command();
std::unique_ptr<Command> make_params_command();
std::unique_ptr<Command> make_report_command();
std::unique_ptr<Command> make_calibrate_command();

}  // namespace racewin::cli

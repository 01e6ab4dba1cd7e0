// racewin report DIR: the analysis package's report (PNGs and report.md) of a run, compare, sweep,
// exact or calibrate --out directory, run with Debian's /usr/bin/python3 and the package found wherever
// racewin's build or install put it, so that nobody sets PYTHONPATH.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/data_dir.hpp"

namespace racewin::cli {
namespace {

constexpr const char* kPython = "/usr/bin/python3";  // the interpreter Debian's python3-* belong to

class ReportCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("report", "plots and report.md of an output directory (run, compare, sweep, exact or calibrate --out)");
    c->add_option("dir", dir_, "a racewin output directory")->required()->check(CLI::ExistingDirectory);
    c->add_option("--out", out_, "where to write (default DIR/report)");
    c->add_option("--hazard", hazard_, "the hazard to plot (default bad_page_state, else the first)");
    return c;
  }

  int exec(const std::string&) override {
    auto py = python_dir();
    if (!py) {
      std::cerr << "racewin: report: the analysis package (racewin_analysis) is neither installed beside racewin nor in "
                << "its source tree\n";
      return 1;
    }
    std::string path = py->string();
    if (const char* old = std::getenv("PYTHONPATH"); old && *old) path += ":" + std::string(old);
    setenv("PYTHONPATH", path.c_str(), 1);
    std::vector<std::string> args = {kPython, "-m", "racewin_analysis", "report", dir_};
    if (!out_.empty()) args.insert(args.end(), {"--out", out_});
    if (!hazard_.empty()) args.insert(args.end(), {"--hazard", hazard_});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(kPython, argv.data());  // returns only on failure; the report's exit code is racewin's
    std::cerr << "racewin: report: cannot run " << kPython << ": " << std::strerror(errno)
              << " (install python3-pandas, python3-matplotlib and python3-xarray)\n";
    return 1;
  }

 private:
  std::string dir_, out_, hazard_;
};

}  // namespace

std::unique_ptr<Command> make_report_command() { return std::make_unique<ReportCommand>(); }

}  // namespace racewin::cli

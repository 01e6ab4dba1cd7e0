// racewin validate: check a scenario and the models it uses, without running it.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace racewin::cli {
namespace {

class ValidateCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("validate", "check a scenario and the models it uses, without running it");
    opts_.add(c, false);
    return c;
  }
  int exec(const std::string&) override {
    auto loaded = opts_.load_or_report();
    if (!loaded) return 1;
    const Scenario& sc = *loaded;
    std::cout << fmt::format("{}: valid; {} case(s)\n", opts_.config, sc.cases.size());
    for (const auto& c : sc.cases) {
      std::cout << fmt::format("  {}: arch {}, hypervisor {}, {} vCPU(s);", c.name, c.arch.name, c.hypervisor.name, c.vcpus);
      for (const auto& t : c.threads) std::cout << fmt::format(" {}={} on vCPU {};", t.name, t.path.name, t.vcpu);
      std::cout << "\n";
    }
    return 0;
  }

 private:
  ScenarioOptions opts_;
};

}  // namespace

std::unique_ptr<Command> make_validate_command() { return std::make_unique<ValidateCommand>(); }

}  // namespace racewin::cli

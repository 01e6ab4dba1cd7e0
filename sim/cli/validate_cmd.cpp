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
    opts_.add(c);
    return c;
  }
  // Each case: its files (resolved, so that a --set or a case's line that picks another file
  // shows), and every override with where it came from.
  int exec(const std::string&) override {
    int rc = 0;
    auto loaded = opts_.load_or_report(rc);
    if (!loaded) return rc;
    const Scenario& sc = *loaded;
    std::cout << fmt::format("{}: valid; {} case(s)\n", opts_.config, sc.cases.size());
    for (const auto& c : sc.cases) {
      std::cout << fmt::format("  {}: arch {}, hypervisor {}, {} vCPU(s);", c.label(), c.arch.name, c.hypervisor.name, c.vcpus);
      for (const auto& t : c.threads) std::cout << fmt::format(" {}={} on vCPU {};", t.name, t.path.name, t.vcpu);
      std::cout << "\n";
      auto file = [](const std::string& f) { return f.empty() ? std::string("inline in the scenario") : f; };
      std::cout << fmt::format("    arch file        {}\n    hypervisor file  {}\n", file(c.arch_file), file(c.hypervisor_file));
      for (const auto& t : c.threads) {
        const auto& f = c.resolved.at("paths").at(t.name).at("file");
        std::cout << fmt::format("    thread {:<9} {}\n", t.name, f.is_string() ? f.get<std::string>() : f.dump());
      }
      if (c.overrides.empty()) std::cout << "    overrides        none\n";
      for (const auto& o : c.overrides)
        std::cout << fmt::format("    override         {}={}  ({})\n", o.key, o.value,
                                 o.from_file ? "the case's line, " + o.origin : o.origin);
    }
    return 0;
  }

 private:
  ScenarioOptions opts_;
};

}  // namespace

std::unique_ptr<Command> make_validate_command() { return std::make_unique<ValidateCommand>(); }

}  // namespace racewin::cli

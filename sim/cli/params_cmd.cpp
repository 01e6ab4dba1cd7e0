// racewin params: the parameters of each case's arch and hypervisor profiles, the value the case
// uses, and how the figure is known (its mark: sim/config/profile_marks.hpp).
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "config/profile_marks.hpp"

namespace racewin::cli {
namespace {

std::string shown(const nlohmann::json* v) {
  if (!v) return "(removed)";
  return v->is_string() ? v->get<std::string>() : v->dump();
}

class ParamsCommand final : public Command {
 public:
  CLI::App* add(CLI::App& app) override {
    auto* c = app.add_subcommand("params", "list each case's profile parameters, their values and marks ([E]: estimate)");
    opts_.add(c);
    c->add_flag("--estimates", estimates_, "only the parameters marked as estimates, each with its range and why");
    return c;
  }
  int exec(const std::string&) override {
    int rc = 0;
    auto loaded = opts_.load_or_report(rc);
    if (!loaded) return rc;
    try {
      for (const auto& c : loaded->cases) {
        std::cout << fmt::format("{} (arch {}, hypervisor {})\n", c.label(), c.arch.name, c.hypervisor.name);
        for (const auto& [prefix, file] : {std::pair{"arch", c.arch_file}, std::pair{"hypervisor", c.hypervisor_file}})
          if (file.empty()) std::cout << fmt::format("  {}: given inline in the scenario, no marks\n", prefix);
        for (const auto& p : case_params(c)) {
          if (estimates_ && !p.estimate()) continue;
          std::string marks = p.marks.empty() ? "unmarked" : "[" + p.marks + (p.range.empty() ? "" : " " + p.range) + "]";
          if (p.estimate() && p.range.empty()) marks += " (no range)";
          std::string value = shown(resolved_value(c.resolved, p.key));
          std::string instead = replaced_by(c, p.key);  // the hypervisor's costs, or a debug kernel's
          if (!instead.empty()) value = "(" + instead + " instead)";
          // An overridden value is the override's, not the profile line's: the last one applied.
          std::string where = p.loc.str();
          for (const auto& o : c.overrides)
            if (overlaps(o.key, p.key)) where = o.from_file ? o.origin + " (the case's line)" : o.origin;
          std::cout << fmt::format("  {:<44} {:<14} {:<48} {}\n", p.key, marks, value, where);
          if (estimates_) std::cout << fmt::format("      why: {}\n", p.reason.empty() ? "(no reason given)" : p.reason);
        }
      }
    } catch (const ConfigError& e) {
      std::cerr << "racewin: " << e.what() << "\n";
      return exit_code(e);
    }
    return 0;
  }

 private:
  ScenarioOptions opts_;
  bool estimates_ = false;
};

}  // namespace

std::unique_ptr<Command> make_params_command() { return std::make_unique<ParamsCommand>(); }

}  // namespace racewin::cli

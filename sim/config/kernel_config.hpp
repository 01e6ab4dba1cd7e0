#pragma once
// The guest kernel's configuration in a scenario (`kernel:`; KernelConfig in scenario.hpp) and
// what a debug kernel adds to the paths (docs/paths.md, "The kernel's configuration").
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/path.hpp"
#include "config/scenario.hpp"

namespace racewin {

// The `kernel:` map of a scenario; `vcpus` bounds a task's vCPU list. Fails at the key's line.
KernelConfig parse_kernel(const CNode& k, int vcpus);

// The costs a debug kernel charges on top of the steps' own: the arch profile must define them.
const std::vector<std::string>& debug_kernel_costs();

// Lays lockdep's and the tracers' work over a loaded path whose costs are resolved against
// `cost_names`: extra costs on spin_lock, spin_unlock, preempt_enable and local_irq_*, and a
// traced preempt_enable step after each spin_unlock.
void debug_overlay(Path& p, const std::vector<std::string>& cost_names);

}  // namespace racewin

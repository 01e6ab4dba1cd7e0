#pragma once
// Fitting path costs to a probe's loop timings: each group of the arch profile's costs (the
// madvise syscall's framing; the fault and the zap of a present page; the shootdown IPI; the
// /proc/self/mem write's framing) scaled by
// one factor, the factors solved so that the model's loops take what the probe measured. The
// model is run, not summed: each group's share of each loop is measured by running the loop with
// that group doubled (a loop with no contention is linear in its costs).
#include <cstdint>
#include <string>
#include <vector>

#include "config/overrides.hpp"

namespace racewin::calibrate {

struct CostGroup {
  std::string name;
  std::vector<std::string> keys;  // resolved keys: arch.costs.madvise_syscall, arch.ipi.latency, ...
  size_t fitted_case = 0;         // the loop (loops_scenario's case, loop_case_names) whose time fixes its factor
};

// The x86_64 profile's groups, fitted to loop_case_names 0..3 in order. With `remote_flush`, the
// shootdown group is the hypervisor's remote flush, the sender's part (its target's hold is
// measured, not fitted).
std::vector<CostGroup> x86_cost_groups(bool remote_flush = false);

// The s390x profile's groups: the madvise framing (case 0); the new page and the zap with its
// IPTE, fitted to the loop with a second thread of the mm on the other CPU (case 2), where IPTE is
// global as in the study's two-thread loops (the model charges one IPTE cost; alone, the kernel
// uses the local form, so case 1 is a prediction); the /proc/self/mem write (case 3).
// With `sync` (the probe saw the other CPU held during a zap: broadcast_sync), four groups as
// x86's with a remote flush: the zap's work fitted to the loop alone, the section's sender part to
// the loop with a second thread.
std::vector<CostGroup> s390x_cost_groups(bool sync = false);

// The groups of `arch` (x86_64, s390x); empty for an arch without them. `remote_flush`: the probe
// saw the other CPU held during a zap (x86: remote_flush; s390x: broadcast_sync).
std::vector<CostGroup> cost_groups(const std::string& arch, bool remote_flush = false);

struct CostFit {
  std::vector<double> scale;                 // per group
  std::vector<std::vector<double>> share;    // [group's case][group]: ns an iteration of group c's case spends in group g at scale 1
  std::vector<double> base;                  // per group: the model's time per iteration of its case, as shipped
  bool solved = false;
  std::string why;                           // when not solved
  std::vector<Override> overrides;           // the fitted costs, as case keys
  std::string overlay;                       // the same as a YAML file of case keys, marked [M]
};

// Fits the groups to `measured` (per case of the loops scenario `file`; each group to its
// fitted_case, one group a case). `source` names the probe file in the overlay's marks.
CostFit fit_costs(const std::string& file, const std::vector<double>& measured, const std::vector<CostGroup>& groups,
                  const std::string& source);

// The time per iteration of each case of `file` (the first `cases` of them, if given), with
// `overrides`.
std::vector<double> loop_times(const std::string& file, const std::vector<Override>& overrides, size_t cases = SIZE_MAX);

}  // namespace racewin::calibrate

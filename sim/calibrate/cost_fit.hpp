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
};

// The x86_64 profile's groups, in the order of the loops that fit them (loop_case_names 0..3). With
// `remote_flush`, the shootdown group is the hypervisor's remote flush, the sender's part (its
// target's hold is measured, not fitted).
std::vector<CostGroup> x86_cost_groups(bool remote_flush = false);

struct CostFit {
  std::vector<double> scale;                 // per group
  std::vector<std::vector<double>> share;    // [case][group], fitted cases: ns an iteration spends in the group at scale 1
  std::vector<double> base;                  // per fitted case: the model's time per iteration as shipped
  bool solved = false;
  std::string why;                           // when not solved
  std::vector<Override> overrides;           // the fitted costs, as case keys
  std::string overlay;                       // the same as a YAML file of case keys, marked [M]
};

// Fits the groups to `measured` (per case of the loops scenario `file`; the first groups.size()
// cases are fitted). `source` names the probe file in the overlay's marks.
CostFit fit_costs(const std::string& file, const std::vector<double>& measured, const std::vector<CostGroup>& groups,
                  const std::string& source);

// The time per iteration of each case of `file` (the first `cases` of them, if given), with
// `overrides`.
std::vector<double> loop_times(const std::string& file, const std::vector<Override>& overrides, size_t cases = SIZE_MAX);

}  // namespace racewin::calibrate

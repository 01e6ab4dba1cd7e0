#include "calibrate/cost_fit.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "config/scenario.hpp"
#include "run/run.hpp"
#include "sweep/sweep.hpp"

namespace racewin::calibrate {

std::vector<CostGroup> x86_cost_groups(bool remote_flush) {
  CostGroup shootdown = remote_flush ? CostGroup{"remote flush, the sender's part", {"hypervisor.remote_flush.send", "hypervisor.remote_flush.ack_latency"}}
                                     : CostGroup{"shootdown IPI", {"arch.ipi.latency", "arch.ipi.handler", "arch.ipi.ack_latency"}};
  std::vector<CostGroup> g = {
      {"madvise syscall framing",  // the whole of an empty PTE's madvise but its PTL and PTE read
       {"arch.costs.madvise_syscall", "arch.costs.madvise_return", "arch.costs.lru_add_drain", "arch.costs.tlb_gather_mmu"}},
      {"new page and zap of a present page",  // the anonymous fault's page, and what zapping it frees
       {"arch.costs.user_write", "arch.costs.user_loop", "arch.costs.alloc_page",
        "arch.costs.page_add_rmap", "arch.costs.lru_cache_add", "arch.costs.set_pte", "arch.costs.ptep_get_and_clear",
        "arch.costs.tlb_remove_tlb_entry", "arch.costs.page_remove_rmap", "arch.costs.tlb_remove_page",
        "arch.costs.tlb_flush_mmu_tlbonly", "arch.costs.tlb_flush_mmu_free", "arch.costs.free_pages_prepare"}},
      shootdown,
      {"/proc/self/mem write and fault entry",  // the write to a present page: syscall, GUP's fault, the copy
       {"arch.costs.proc_mem_write_syscall", "arch.costs.proc_mem_write_return", "arch.costs.copy_to_user_page",
        "arch.costs.handle_mm_fault"}},
  };
  for (size_t i = 0; i < g.size(); ++i) g[i].fitted_case = i;
  return g;
}

std::vector<CostGroup> s390x_cost_groups(bool sync) {
  CostGroup framing{"madvise syscall framing",
                    {"arch.costs.madvise_syscall", "arch.costs.madvise_return", "arch.costs.lru_add_drain", "arch.costs.tlb_gather_mmu"}, 0};
  CostGroup zap{"new page and zap of a present page",
                {"arch.costs.user_write", "arch.costs.user_loop", "arch.costs.alloc_page", "arch.costs.page_add_rmap", "arch.costs.lru_cache_add",
                 "arch.costs.set_pte", "arch.costs.ptep_get_and_clear", "arch.costs.ptep_clear_flush", "arch.costs.ptep_set_access_flags",
                 "arch.costs.tlb_remove_tlb_entry", "arch.costs.page_remove_rmap", "arch.costs.tlb_remove_page", "arch.costs.free_pages_prepare"},
                1};
  CostGroup writer{"/proc/self/mem write and fault entry",
                   {"arch.costs.proc_mem_write_syscall", "arch.costs.proc_mem_write_return", "arch.costs.copy_to_user_page",
                    "arch.costs.handle_mm_fault"},
                   3};
  // The IPTE's wait is the section's (broadcast_sync): fitted apart, as x86's remote flush.
  if (sync) return {framing, zap, {"synchronised IPTE, the sender's part", {"hypervisor.broadcast_sync.send", "hypervisor.broadcast_sync.ack_latency"}, 2}, writer};
  zap.name += ", IPTE global";
  zap.fitted_case = 2;
  return {framing, zap, writer};
}

std::vector<CostGroup> cost_groups(const std::string& arch, bool remote_flush) {
  if (arch == "x86_64") return x86_cost_groups(remote_flush);
  if (arch == "s390x") return s390x_cost_groups(remote_flush);
  return {};
}

std::vector<double> loop_times(const std::string& file, const std::vector<Override>& overrides, size_t cases) {
  Scenario s = load_scenario(file, overrides);
  std::vector<double> out;
  for (const auto& c : s.cases) {
    if (out.size() == cases) break;
    RunControl control;
    CaseResult r = run_case(c, EngineKind::Native, control);
    // A run that stopped on a model error (a deadlock, the page pool exhausted) has no loop time.
    if (!r.failure.empty()) throw std::runtime_error("case " + c.name + " of " + file + ": " + r.failure);
    out.push_back(r.iterations ? r.sim_time_ns / double(r.iterations) : 0);
  }
  return out;
}

namespace {

// A resolved value as a profile writes it: YAML flow, scalars unquoted (durations and numbers).
std::string flow(const nlohmann::json& v) {
  if (v.is_object()) {
    std::string s = "{";
    for (auto it = v.begin(); it != v.end(); ++it) s += (it == v.begin() ? "" : ", ") + it.key() + ": " + flow(*it);
    return s + "}";
  }
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + flow(v[i]);
    return s + "]";
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Every key of the groups scaled by its group's factor, from the values the first case resolves.
std::vector<Override> scaled(const Scenario& s, const std::vector<CostGroup>& groups, const std::vector<double>& f) {
  std::vector<Override> out;
  for (size_t g = 0; g < groups.size(); ++g)
    for (const auto& key : groups[g].keys)
      if (const nlohmann::json* v = resolved_value(s.cases.at(0).resolved, key))
        out.push_back({key, scaled_value(*v, f[g], true).dump(), "calibrate (" + groups[g].name + ")", "", "", true});
  return out;
}

}  // namespace

CostFit fit_costs(const std::string& file, const std::vector<double>& measured, const std::vector<CostGroup>& groups,
                  const std::string& source) {
  CostFit fit;
  const size_t G = groups.size();
  Scenario s = load_scenario(file, {});
  // Only the fitted cases are run: the others (the loops together) are the prediction, run once
  // with the fitted costs by the caller.
  size_t cases = 0;
  for (const auto& g : groups) cases = std::max(cases, g.fitted_case + 1);
  std::vector<double> base = loop_times(file, {}, cases);
  for (const auto& g : groups) fit.base.push_back(base.at(g.fitted_case));
  fit.share.assign(G, std::vector<double>(G, 0));
  for (size_t g = 0; g < G; ++g) {
    std::vector<double> f(G, 1.0);
    f[g] = 2;
    std::vector<double> t = loop_times(file, scaled(s, groups, f), cases);
    for (size_t c = 0; c < G; ++c) fit.share[c][g] = t.at(groups[c].fitted_case) - fit.base[c];
  }
  // share * (scale - 1) = measured - base, over the fitted cases.
  Eigen::MatrixXd A(G, G);
  Eigen::VectorXd b(G);
  for (size_t c = 0; c < G; ++c) {
    for (size_t g = 0; g < G; ++g) A(Eigen::Index(c), Eigen::Index(g)) = fit.share[c][g];
    b(Eigen::Index(c)) = measured.at(groups[c].fitted_case) - fit.base[c];
  }
  Eigen::VectorXd x = A.colPivHouseholderQr().solve(b);
  fit.scale.resize(G);
  for (size_t g = 0; g < G; ++g) fit.scale[g] = 1 + x(Eigen::Index(g));
  fit.solved = (A * x - b).norm() <= 1e-6 * (1 + b.norm());
  for (size_t g = 0; g < G && fit.solved; ++g)
    if (!(fit.scale[g] > 0)) fit.solved = false, fit.why = fmt::format("group '{}' would need a factor of {:.3g}", groups[g].name, fit.scale[g]);
  if (!fit.solved && fit.why.empty()) fit.why = "the loops do not determine the groups (a singular system)";
  if (!fit.solved) return fit;
  fit.overrides = scaled(s, groups, fit.scale);
  fit.overlay = fmt::format("# Path costs fitted to the probe's loop timings ({}): each group of the arch profile's costs\n"
                            "# scaled by one factor so that the model's loops take what was measured. Case keys over the\n"
                            "# arch profile the fit started from; racewin calibrate --predict wrote them.\n", source);
  for (size_t g = 0, i = 0; g < G; ++g)
    for (const auto& key : groups[g].keys)
      if (resolved_value(s.cases.at(0).resolved, key))
        fit.overlay += fmt::format("{}: {}  # {} x{:.3g} [M {}]\n", key, flow(nlohmann::json::parse(fit.overrides[i++].value)),
                                   groups[g].name, fit.scale[g], source);
  return fit;
}

}  // namespace racewin::calibrate

// Benchmark of the native engine against the number of vCPUs: an x86_64 guest under KVM where
// madvise(MADV_DONTNEED) on vCPU 0 zaps a page that a toucher on every other vCPU faults back in
// (the shootdown fans out to all of them), each vCPU with its own tick, exits and steal. Printed:
// model events per second at each size and the ratio to the 2-vCPU figure of the same run.
// The target: at least 0.70 at 64 vCPUs.
// Usage: bench_scaling [SIM_MS [VCPUS ...]]   (default 50 ms of simulated time; 2 16 64 128; run
// from the source root)
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/scenario.hpp"
#include "run/run.hpp"

using namespace racewin;
namespace fs = std::filesystem;

namespace {

CaseConfig scenario(const fs::path& dir, int vcpus, double sim_ms) {
  fs::create_directories(dir);
  std::string root = fs::current_path().string();
  std::string s = fmt::format(
      "scenario: bench_scaling\nrun: {{time: {}ms, seed: 1, count: madvise}}\n"
      "machine: {{vcpus: {}, pages: 40000, spinlocks: [ptl], ptes: [map]}}\nkernel: {{debug_vm: true}}\n"
      "arch: {}/models/arch/x86_64.yaml\nhypervisor: {}/models/hypervisor/kvm_overcommitted.yaml\nthreads:\n"
      "  madvise: {{vcpu: 0, path: {}/models/mm/madvise_dontneed.yaml}}\n",
      sim_ms, vcpus, root, root, root);
  for (int v = 1; v < vcpus; ++v) s += fmt::format("  touch{}: {{vcpu: {}, path: {}/models/mm/touch_anon.yaml}}\n", v, v, root);
  std::ofstream(dir / "scenario.yaml") << s;
  return load_scenario((dir / "scenario.yaml").string(), {}).cases.at(0);
}

}  // namespace

int main(int argc, char** argv) {
  double sim_ms = argc > 1 ? std::stod(argv[1]) : 50;
  std::vector<int> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::stoi(argv[i]));
  if (sizes.empty()) sizes = {2, 16, 64, 128};
  fs::path dir = fs::temp_directory_path() / ("racewin-bench-scaling-" + std::to_string(getpid()));
  double base = 0;
  fmt::print("{:>6} {:>12} {:>8} {:>14}  {}\n", "vCPUs", "events", "wall s", "M events/s", "x 2 vCPUs");
  for (int v : sizes) {
    CaseConfig c = scenario(dir / std::to_string(v), v, v == sizes.front() ? sim_ms * 8 : sim_ms);
    RunControl ctl;
    auto t0 = std::chrono::steady_clock::now();
    CaseResult r = run_case(c, EngineKind::Native, ctl);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double eps = double(r.events) / wall;
    if (base == 0) base = eps;
    fmt::print("{:>6} {:>12} {:>8.2f} {:>14.2f}  {:.2f}{}\n", v, r.events, wall, eps / 1e6, eps / base,
               r.failure.empty() ? "" : "  (" + r.failure + ")");
    std::fflush(stdout);
  }
  fs::remove_all(dir);
  return 0;
}

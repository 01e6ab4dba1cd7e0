// Benchmark of `racewin exact`: enumerate and solve chains of growing size, built by the model
// from a synthetic scenario: four vCPUs, each with a thread stepping through S exponential steps,
// each vCPU stolen at exponential times, and a window on vCPU 0 that vCPU 1 hits. States: S^4
// program counters x 2^4 steal states (x the window flag), so S = 16 gives about a million.
// The target: a chain of a million states solved in at most 60 s on 2 cores. Printed:
// states, transitions, enumeration and solve times, peak memory, and the time per state against
// the smallest chain measured in the same run (how it scales).
// Usage: bench_exact [S ...]   (default 6 10 16; run from the source root)
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/scenario.hpp"
#include "exact/exact.hpp"

using namespace racewin;
namespace fs = std::filesystem;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

CaseConfig synthetic(const fs::path& dir, int steps) {
  fs::create_directories(dir);
  auto put = [&](const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; };
  put("arch.yaml",
      "arch: bench\ntlb: {flush: broadcast, free: direct}\n"
      "ipi: {latency: 0ns, handler: 0ns, ack_latency: 0ns}\nlru_pagevec_size: 15\n"
      "costs: {spin_lock_handoff: 0ns, lock_page_wakeup: 0ns, free_pages_prepare: 0ns, pte_read: 0ns,\n"
      "        step: {exponential: {mean: 100ns}}}\n");
  put("hyp.yaml",
      "hypervisor: bench\nsteal:\n  - {name: s, model: renewal, interarrival: {exponential: {mean: 2us}},\n"
      "     duration: {exponential: {mean: 1us}}}\n");
  std::string threads;
  for (int t = 0; t < 4; ++t) {
    std::string p = fmt::format("path: t{}\nsteps:\n", t);
    if (t == 0) p += "  - window_open: W\n";
    for (int s = 0; s < steps; ++s) {
      p += "  - work: step\n";
      if (t == 0 && s == steps / 2) p += "  - window_close: W\n";
      if (t == 1 && s == steps / 2) p += "  - window_hit: W\n";
    }
    put(fmt::format("t{}.yaml", t), p);
    threads += fmt::format("  t{0}: {{vcpu: {0}, path: t{0}.yaml}}\n", t);
  }
  put("scenario.yaml", "scenario: bench_exact\nrun: {time: 1ms, seed: 1}\nmachine: {vcpus: 4, pages: 4}\n"
                       "arch: arch.yaml\nhypervisor: hyp.yaml\nthreads:\n" + threads);
  return load_scenario((dir / "scenario.yaml").string(), {}).cases.at(0);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::stoi(argv[i]));
  if (sizes.empty()) sizes = {6, 10, 16};
  fs::path dir = fs::temp_directory_path() / ("racewin-bench-exact-" + std::to_string(getpid()));
  double base_per_state = 0;
  fmt::print("{:>4} {:>10} {:>12} {:>11} {:>9} {:>9} {:>10} {:>12}  {}\n", "S", "states", "transitions", "enumerate s",
             "solve s", "total s", "peak MiB", "us/state", "x smallest");
  for (int s : sizes) {
    CaseConfig c = synthetic(dir / std::to_string(s), s);
    auto t0 = std::chrono::steady_clock::now();
    ExactOptions o;
    o.max_states = 50'000'000;
    Chain chain = build_chain(c, o);
    double enumerate = since(t0);
    auto t1 = std::chrono::steady_clock::now();
    ExactResult r = solve_chain(chain, 1);
    double solve = since(t1), total = enumerate + solve;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double per = total / double(r.states) * 1e6;
    if (base_per_state == 0) base_per_state = per;
    fmt::print("{:>4} {:>10} {:>12} {:>11.2f} {:>9.2f} {:>9.2f} {:>10.0f} {:>12.2f}  {:.2f}  (P(window hit) {:.6g}, {})\n", s,
               r.states, r.transitions, enumerate, solve, total, double(ru.ru_maxrss) / 1024, per, per / base_per_state,
               r.windows.at(0).p_hit, r.method);
    std::fflush(stdout);
  }
  fs::remove_all(dir);
  return 0;
}

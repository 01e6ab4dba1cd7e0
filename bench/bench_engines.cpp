// Benchmark of the engines on the dirtyc0w_child scenario (s390x under z/VM, v5.9-rc4):
//   native   - the native engine driving the model
//   simgrid  - the SimGrid engine driving the same model
//   baseline - a minimal binary-heap event loop that steps the same threads through the same
//              step costs (one event per timed step), with none of the model's semantics
// Each runs in a child process so that its peak memory is its own. Then: peak memory against run
// length (statistics are streamed), and --jobs 2 against --jobs 1 on one replicated estimate.
// Usage: bench_engines [SIM_SECONDS]   (run from the source root)
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <queue>
#include <string>
#include <thread>

#include "config/scenario.hpp"
#include "run/run.hpp"

using namespace racewin;

namespace {

struct Figures {
  double events = 0, iterations = 0, wall = 0;
  long peak_kib = 0;
};

// Runs `fn` in a child; returns its figures and peak resident memory.
template <class Fn>
Figures in_child(Fn fn) {
  std::fflush(stdout);  // or the child prints the parent's buffered lines again
  int fd[2];
  if (pipe(fd) != 0) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    Figures f = fn();
    if (write(fd[1], &f, sizeof f) != sizeof f) _exit(1);
    _exit(0);
  }
  close(fd[1]);
  Figures f;
  if (read(fd[0], &f, sizeof f) != sizeof f) throw std::runtime_error("child failed");
  close(fd[0]);
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  f.peak_kib = ru.ru_maxrss;
  return f;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

CaseConfig study_case(const std::string& time, int replications = 1) {
  return load_scenario("configs/dirtyc0w_child.yaml",
                       {{"run.time", time}, {"run.replications", std::to_string(replications)}},
                       {"s390x_zvm_v5.9-rc4"})
      .cases.at(0);
}

Figures run_engine(EngineKind kind, const std::string& time) {
  CaseConfig c = study_case(time);
  auto t0 = std::chrono::steady_clock::now();
  RunControl ctl;
  CaseResult r = run_case(c, kind, ctl);
  return {double(r.events), double(r.iterations), seconds_since(t0), 0};
}

// The floor: a heap of (time, thread) events, each thread walking its path's timed steps in
// order and drawing each step's cost; `events` events in all.
Figures run_baseline(double events) {
  CaseConfig c = study_case("1s");
  struct Ev {
    double at;
    int thread;
    bool operator>(const Ev& o) const { return at > o.at; }
  };
  std::vector<std::vector<const Dist*>> steps(c.threads.size());
  for (size_t t = 0; t < c.threads.size(); ++t)
    for (const auto& s : c.threads[t].path.steps)
      if (s.cost_index >= 0) steps[t].push_back(&c.costs[size_t(s.cost_index)]);
  std::vector<size_t> pc(c.threads.size(), 0);
  std::vector<Rng> rng;
  for (size_t t = 0; t < c.threads.size(); ++t) rng.emplace_back(c.seed, t);
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> q;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t t = 0; t < c.threads.size(); ++t) q.push({steps[t][0]->sample(rng[t]), int(t)});
  double done = 0, loops = 0;
  while (done < events) {
    Ev e = q.top();
    q.pop();
    ++done;
    size_t t = size_t(e.thread);
    if (++pc[t] == steps[t].size()) pc[t] = 0, loops += t == size_t(c.count_thread);
    q.push({e.at + steps[t][pc[t]]->sample(rng[t]), e.thread});
  }
  return {done, loops, seconds_since(t0), 0};
}

Figures run_jobs(unsigned jobs, const std::string& time) {
  CaseConfig c = study_case(time, 2);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<CaseResult> reps(2);
  std::vector<std::thread> pool;
  std::atomic<int> next{0};
  for (unsigned j = 0; j < jobs; ++j)
    pool.emplace_back([&] {
      for (int k; (k = next++) < 2;) {
        RunControl ctl;
        reps[size_t(k)] = run_case(replication_config(c, k), EngineKind::Native, ctl);
      }
    });
  for (auto& th : pool) th.join();
  CaseResult r = merge_replications(c, reps);
  return {double(r.events), double(r.iterations), seconds_since(t0), 0};
}

void row(const char* name, const Figures& f) {
  fmt::print("{:<10} {:>14.0f} {:>9.2f} {:>14.3g} {:>16.3g} {:>12.1f}\n", name, f.events, f.wall, f.events / f.wall,
             f.iterations / f.wall, double(f.peak_kib) / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  double sim = argc > 1 ? std::atof(argv[1]) : 5.0;
  std::string t_native = fmt::format("{}s", sim), t_simgrid = fmt::format("{}s", sim / 50);
  fmt::print("dirtyc0w_child, s390x_zvm_v5.9-rc4: native {} s, SimGrid {} s of simulated time\n\n", sim, sim / 50);
  fmt::print("{:<10} {:>14} {:>9} {:>14} {:>16} {:>12}\n", "engine", "events", "wall s", "events/s", "iterations/s",
             "peak MiB");
  Figures native = in_child([&] { return run_engine(EngineKind::Native, t_native); });
  row("native", native);
  Figures simgrid = in_child([&] { return run_engine(EngineKind::SimGrid, t_simgrid); });
  row("simgrid", simgrid);
  Figures base = in_child([&] { return run_baseline(native.events); });
  row("baseline", base);
  fmt::print("\nnative/baseline events per second: {:.2f}   (target >= 0.5)\n",
             (native.events / native.wall) / (base.events / base.wall));
  fmt::print("native/simgrid events per second:  {:.1f}\n", (native.events / native.wall) / (simgrid.events / simgrid.wall));

  Figures longer = in_child([&] { return run_engine(EngineKind::Native, fmt::format("{}s", sim * 10)); });
  fmt::print("\npeak memory, native, {} s: {:.1f} MiB; {} s: {:.1f} MiB; ratio {:.2f}   (target < 1.5)\n", sim,
             double(native.peak_kib) / 1024, sim * 10, double(longer.peak_kib) / 1024,
             double(longer.peak_kib) / double(native.peak_kib));

  Figures j1 = in_child([&] { return run_jobs(1, t_native); });
  Figures j2 = in_child([&] { return run_jobs(2, t_native); });
  fmt::print("\none estimate in 2 replications: --jobs 1 {:.2f} s, --jobs 2 {:.2f} s; throughput ratio {:.2f}   "
             "(target >= 1.8 on 2 cores)\n",
             j1.wall, j2.wall, j1.wall / j2.wall);
  return 0;
}

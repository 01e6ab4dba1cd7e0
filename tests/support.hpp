#pragma once
// Helpers for tests: small scenarios written to a temporary directory, run with an event log.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "engines/native_engine.hpp"
#include "model/machine.hpp"

namespace racewin::test {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("racewin-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string file(const std::string& name) const { return path(name); }

 private:
  std::filesystem::path dir_;
};

// An arch profile with fixed, round costs so that expected times can be worked out by hand.
inline std::string fixed_arch(const std::string& flush, const std::string& free) {
  return "arch: test_" + flush + "\n"
         "tlb: {flush: " + flush + ", free: " + free + "}\n"
         "ipi: {latency: 50ns, handler: 200ns, ack_latency: 30ns}\n"
         "lru_pagevec_size: 15\n"
         "costs:\n"
         "  spin_lock: 10ns\n  spin_unlock: 5ns\n  spin_lock_handoff: 7ns\n  lock_page_wakeup: 100ns\n"
         "  local_irq_disable: 1ns\n  local_irq_enable: 1ns\n  preempt_disable: 1ns\n  preempt_enable: 1ns\n"
         "  pte_read: 2ns\n  ptep_get_and_clear: 20ns\n  set_pte: 2ns\n  ptep_set_access_flags: 20ns\n"
         "  ptep_clear_flush: 40ns\n  get_page: 3ns\n  put_page: 3ns\n  try_get_page: 3ns\n"
         "  page_add_rmap: 4ns\n  page_remove_rmap: 4ns\n  alloc_page: 50ns\n  lru_cache_add: 6ns\n"
         "  lock_page: 3ns\n  trylock_page: 3ns\n  unlock_page: 3ns\n"
         "  tlb_gather_mmu: 1ns\n  tlb_remove_tlb_entry: 1ns\n  tlb_remove_page: 30ns\n"
         "  tlb_flush_mmu_tlbonly: 25ns\n  tlb_flush_mmu_free: 60ns\n  free_pages_prepare: 0ns\n"
         "  mark_page_accessed: 2ns\n  set_page_dirty: 2ns\n  lru_add_drain: 5ns\n"
         "  idle: 1000ns\n  short: 100ns\n  long: 1000ns\n";
}

// `threads` is YAML for the threads map; paths are written as files named <thread>.yaml.
inline CaseConfig make_case(const TempDir& d, const std::string& arch, const std::string& hypervisor,
                            const std::vector<std::pair<std::string, std::string>>& paths, int vcpus = 2,
                            const std::string& extra_machine = "", const std::string& extra_kernel = "") {
  d.write("arch.yaml", arch);
  d.write("hyp.yaml", hypervisor);
  std::string threads;
  int v = 0;
  for (const auto& [name, text] : paths) {
    d.write(name + ".yaml", "path: " + name + "\nsteps:\n" + text);
    threads += "  " + name + ": {vcpu: " + std::to_string(v++) + ", path: " + name + ".yaml}\n";
  }
  std::string sc = "scenario: test\nrun: {time: 1ms, seed: 1}\nmachine: {vcpus: " + std::to_string(vcpus) +
                   ", pages: 16, spinlocks: [L, ptl], ptes: [map]" + extra_machine + "}\n" +
                   "kernel: {debug_vm: true, pcp_high: 6, pcp_batch: 2" + extra_kernel + "}\n" +
                   "arch: arch.yaml\nhypervisor: hyp.yaml\nthreads:\n" + threads;
  return load_scenario(d.write("scenario.yaml", sc), {}).cases.at(0);
}

inline const std::string kBareMetal = "hypervisor: bare\nsteal: {model: none}\n";

// One vCPU, one 1000 ns step; a 300 ns handler at 150 ns and a 100 ns one arriving during it. The
// step ends at 1400 ns and the spin_lock after it at 1410 (MACHINE-REVIEW H-A), on both engines.
inline CaseConfig back_to_back_case(const TempDir& d) {
  std::string arch = fixed_arch("ipi_shootdown", "batched") +
                     "interrupts:\n  - {name: first, interarrival: 1s, first: 150ns, handler: 300ns}\n"
                     "  - {name: second, interarrival: 1s, first: 200ns, handler: 100ns}\n";
  return make_case(d, arch, kBareMetal, {{"w", "  - work: long\n  - spin_lock: L\n  - work: idle\n"}}, 1);
}

struct Log {
  std::vector<ModelEvent> events;
  // Time of the n-th event on `vcpu` whose text contains `what`; -1 if none.
  double at(int vcpu, const std::string& what, int n = 0) const {
    for (const auto& e : events)
      if (e.vcpu == vcpu && e.what.find(what) != std::string::npos && n-- == 0) return e.time;
    return -1;
  }
  int count(int vcpu, const std::string& what) const {
    int n = 0;
    for (const auto& e : events) n += e.vcpu == vcpu && e.what.find(what) != std::string::npos;
    return n;
  }
  std::string dump() const {
    std::string s;
    for (const auto& e : events) s += std::to_string(e.time) + " cpu" + std::to_string(e.vcpu) + " " + e.what + "\n";
    return s;
  }
};

inline Log run_logged(const CaseConfig& c, double until) {
  Log log;
  NativeEngine eng(c.vcpus);
  Machine m(c, c.seed, eng);
  m.observe_text([&](const ModelEvent& e) { log.events.push_back(e); });
  RunControl ctl;
  eng.run(m, until, ctl);
  return log;
}

}  // namespace racewin::test

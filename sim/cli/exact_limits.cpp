#include "cli/exact_limits.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace racewin::cli {
namespace {

// Resident and virtual size of this process (/proc/self/statm), in bytes; 0 if unknown.
std::pair<size_t, size_t> process_memory() {
  std::ifstream in("/proc/self/statm");
  size_t vsize = 0, rss = 0;
  if (!(in >> vsize >> rss)) return {0, 0};
  size_t page = size_t(sysconf(_SC_PAGESIZE));
  return {rss * page, vsize * page};
}

// What the process may still take: the system's MemAvailable, and under a limit on the address
// space (ulimit -v) what is left of it. SIZE_MAX if neither is known.
size_t headroom() {
  size_t left = SIZE_MAX;
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  size_t kb;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "MemAvailable:") left = kb * 1024;
  }
  rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    size_t vsize = process_memory().second, lim = size_t(rl.rlim_cur);
    left = std::min(left, lim > vsize ? lim - vsize : 0);
  }
  return left;
}

}  // namespace

MemoryWatch::MemoryWatch() : rss0_(process_memory().first) {}

double MemoryWatch::bytes_per_state(size_t states) const {
  size_t rss = process_memory().first;
  return states && rss > rss0_ ? double(rss - rss0_) / double(states) : 0;
}

void MemoryWatch::check(size_t states) {
  size_t rss = process_memory().first, used = rss > rss0_ ? rss - rss0_ : 0;
  size_t reserve = std::max<size_t>(size_t(128) << 20, used / 4);
  if (headroom() >= reserve) return;
  double per = bytes_per_state(states);
  throw MemoryLimit(fmt::format("memory nearly exhausted: {} taken by the enumeration, about {} a state, "
                                "and less than {} left",
                                bytes(double(used)), bytes(per), bytes(double(reserve))),
                    states, per);
}

std::string bytes(double b) {
  const char* unit[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) b /= 1000, ++u;
  return fmt::format("{:.{}f} {}", b, b < 10 && u ? 1 : 0, unit[u]);
}

std::string state_reductions(const CaseConfig& c, bool reachable) {
  std::vector<std::string> r;
  if (!c.hypervisor.steal.empty()) r.push_back("--set 'hypervisor.steal=[]'");
  if (!c.arch.interrupts.empty()) r.push_back("--set 'arch.interrupts=[]'");
  if (!c.hypervisor.interrupts.empty()) r.push_back("--set 'hypervisor.interrupts=[]'");
  if (c.arch.lru_pagevec_size > 2) r.push_back("--set arch.lru_pagevec_size=2");
  if (c.pages > 16) r.push_back("--set machine.pages=16");
  std::string s;
  if (!r.empty()) {
    s = "a smaller model has fewer states:";
    for (const auto& x : r) s += " " + x;
  }
  if (!reachable) s += std::string(s.empty() ? "" : "; ") + "--reachable HAZARD decides only whether a hazard can happen, "
                       "with fewer states (free pages as a set)";
  return s;
}

}  // namespace racewin::cli

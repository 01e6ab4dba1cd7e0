#pragma once
// The path language: a kernel path as a YAML list of steps named after the kernel's own calls,
// run by a thread in a loop. See docs/paths.md for the vocabulary.
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/dist.hpp"
#include "config/expr.hpp"

namespace racewin {

// Steps of a thread's path at most, its files together: memory grows with them.
constexpr size_t kMaxPathSteps = 100000;

enum class Op {
  Work, LocalIrqDisable, LocalIrqEnable, PreemptDisable, PreemptEnable,
  SpinLock, SpinUnlock,
  PteRead, PtepGetAndClear, SetPte, PtepSetAccessFlags, PtepClearFlush,
  GetPage, PutPage, TryGetPage, PageAddRmap, PageRemoveRmap, AllocPage, LruCacheAdd, LruAddDrain,
  MarkPageAccessed, SetPageDirty,
  LockPage, TrylockPage, UnlockPage,
  TlbGatherMmu, TlbRemoveTlbEntry, TlbRemovePage, TlbFlushMmuTlbonly, TlbFlushMmuFree,
  WindowOpen, WindowClose, WindowHit,
  Set, Goto, End, Nop
};

const char* op_name(Op op);

// Names a path can refer to, fixed by the scenario's machine section.
struct MachineNames {
  std::vector<std::string> spinlocks;
  std::vector<std::string> ptes;  // an array `range` of N PTEs is range[0] .. range[N-1] here
  struct PteArray {
    std::string name;
    int base = 0, count = 0;  // its elements' indexes in `ptes`
  };
  std::vector<PteArray> pte_arrays;
  const PteArray* pte_array(const std::string& name) const;
  std::vector<std::string> windows;  // grows as paths name windows
  int window_index(const std::string& name);
};

struct Step {
  Op op = Op::Nop;
  SourceLoc loc;
  std::string text;        // as a kernel developer reads it: "spin_lock(ptl)"
  int obj = -1;            // spinlock, pte or window index (of an array: its first element)
  std::optional<Expr> pte_index;  // range[i]: the element, evaluated when the step takes effect
  int pte_count = 1;              // ... of an array of this many PTEs
  int into = -1;           // variable written
  std::optional<Expr> page;   // page operand
  std::optional<Expr> cond;   // "if:" guard
  std::optional<Expr> value;  // "set:" value
  int target = -1;            // goto target step
  bool writable = false, dirty = false, young = false;
  std::string cost_name;            // looked up in the arch/hypervisor cost table
  std::optional<Dist> cost_inline;  // or given in the step
  int cost_index = -1;              // resolved by the scenario
  // A debug kernel's work on top of the step's own (kernel.config: debug), charged with it; -1: none.
  int extra_cost_index = -1;
  // A step the debug configuration added after the one before it (a traced preempt_enable): a
  // pending reschedule is not taken before it.
  bool overlay = false;
};

struct Path {
  std::string name;
  std::string file;
  std::vector<std::string> var_names;
  std::vector<Value> var_init;
  std::vector<Step> steps;
  int var_index(const std::string& n) const;
};

Path load_path(const std::string& file, MachineNames& names);
Path parse_path(const CNode& root, MachineNames& names);
// Several path files run one after the other as one loop iteration: their steps are appended,
// a part's `end` goes on to the next part, and variables of the same name are shared.
Path parse_paths(const std::vector<CNode>& parts, MachineNames& names);

}  // namespace racewin

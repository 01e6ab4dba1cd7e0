#pragma once
// Values a path's variables hold: integers (also page handles) and PTE snapshots.
#include <cstdint>

namespace racewin {

constexpr int kNoPage = -1;

struct PteVal {
  bool present = false;
  int page = kNoPage;
  bool writable = false;
  bool dirty = false;
  bool young = false;
  bool operator==(const PteVal&) const = default;
};

struct Value {
  bool is_pte = false;
  int64_t i = 0;
  PteVal pte;
  static Value num(int64_t v) { return Value{false, v, {}}; }
  static Value of(const PteVal& p) { return Value{true, 0, p}; }
};

}  // namespace racewin

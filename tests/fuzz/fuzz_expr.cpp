// Fuzz target: the expression language of path conditions and set: values (Expr::compile), then
// what the model asks of a compiled expression (the variables it reads, its page symmetry) and
// its value, against a stand-in machine with fixed answers. The input is the text of one
// expression; the names are those the shipped path files use (variables ack, again, cur, got,
// locked, new, old, pte, ptent, addr, foll_cow, i, page; PTEs map and flag; the array range).
// A bug: see fuzz_support.hpp (undefined behaviour in evaluating, such as signed overflow, is one:
// UBSan stops there).
#include <algorithm>
#include <vector>

#include "config/expr.hpp"
#include "fuzz_support.hpp"

namespace {

const std::vector<std::string> kVars = {"ack", "again", "cur", "got", "locked", "new", "old",
                                        "pte", "ptent", "addr", "foll_cow", "i", "page"};

class Scope : public racewin::ExprScope {
 public:
  int var_index(const std::string& n) const override {
    auto it = std::find(kVars.begin(), kVars.end(), n);
    return it == kVars.end() ? -1 : int(it - kVars.begin());
  }
  int pte_index(const std::string& n) const override { return n == "map" ? 0 : n == "flag" ? 1 : -1; }
  int pte_array_count(const std::string& n) const override { return n == "range" ? 512 : -1; }
};

// PTE snapshots in the PTE-named variables, numbers (large ones too) in the others.
class Machine : public racewin::ExprContext {
 public:
  Machine() {
    for (size_t k = 0; k < kVars.size(); ++k) {
      bool pte_var = kVars[k] == "pte" || kVars[k] == "ptent" || kVars[k] == "cur" || kVars[k] == "again" ||
                     kVars[k] == "old" || kVars[k] == "new";
      vars_.push_back(pte_var ? racewin::Value::of({true, int(k), k % 2 == 0, true, false})
                              : racewin::Value::num(k == 9 ? (int64_t(1) << 40) : int64_t(k)));
    }
  }
  const racewin::Value& var(int index) const override { return vars_.at(size_t(index)); }
  int64_t page_count(int page) const override { return page + 1; }
  int64_t page_mapcount(int page) const override { return page; }
  bool page_locked(int page) const override { return page % 2 != 0; }
  racewin::PteVal pte(int pte_index) const override { return {pte_index == 0, 3, true, false, true}; }
  bool tlb_pending() const override { return true; }
  int64_t tlb_batch() const override { return 7; }
  bool tlb_full() const override { return false; }

 private:
  std::vector<racewin::Value> vars_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto e = racewin::Expr::compile(text, Scope(), {"fuzz_expr", 1, 1});
    std::vector<int> read;
    e.vars_read(read);
    std::vector<bool> page_var(kVars.size(), false);
    page_var.back() = true;  // `page` holds a page id
    (void)e.page_valued(page_var);
    (void)e.page_symmetric(page_var);
    (void)e.truthy(Machine());
  } catch (const racewin::ConfigError& err) {
    racewin::fuzz::check_rejection(err);
  }
  return 0;
}

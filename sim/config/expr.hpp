#pragma once
// Conditions in path files: `ptent.none`, `page_count(page) != 1 || !ok`,
// `pte_same(ptent, pte(map))`, `tlb.pending`, `addr + 1 != len(range)`. Compiled once, evaluated per step.
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/value.hpp"

namespace racewin {

class ExprContext {  // what an expression can read; the machine implements it
 public:
  virtual ~ExprContext() = default;
  virtual const Value& var(int index) const = 0;
  virtual int64_t page_count(int page) const = 0;
  virtual int64_t page_mapcount(int page) const = 0;
  virtual bool page_locked(int page) const = 0;
  virtual PteVal pte(int pte_index) const = 0;
  virtual bool tlb_pending() const = 0;
  virtual int64_t tlb_batch() const = 0;
  virtual bool tlb_full() const = 0;  // __tlb_remove_page()'s answer: the gather can take no more pages
};

// Resolves names while compiling; unknown names are errors.
class ExprScope {
 public:
  virtual ~ExprScope() = default;
  virtual int var_index(const std::string& name) const = 0;  // -1 if unknown
  virtual int pte_index(const std::string& name) const = 0;  // -1 if unknown
  virtual int pte_array_count(const std::string&) const { return -1; }  // -1: no such PTE array
};

struct ExprNode;

class Expr {
 public:
  // `what` names the text in errors: "condition", "step unlock_page's page argument".
  static Expr compile(const std::string& text, const ExprScope& scope, const SourceLoc& loc,
                      const std::string& what = "condition");
  Value eval(const ExprContext& ctx) const;
  bool truthy(const ExprContext& ctx) const;
  const std::string& text() const { return text_; }
  // The variables it reads (for liveness).
  void vars_read(std::vector<int>& out) const;
  // Whether its value is a page id: a variable in `page_var`, or a PTE's `.page`.
  bool page_valued(const std::vector<bool>& page_var) const;
  // Whether it only compares page ids for equality or asks about their pages: then renaming pages
  // leaves its value alone (the exact driver's symmetry reduction needs that).
  bool page_symmetric(const std::vector<bool>& page_var) const;

 private:
  std::shared_ptr<const ExprNode> root_;
  std::string text_;
};

}  // namespace racewin

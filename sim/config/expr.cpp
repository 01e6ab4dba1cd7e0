#include "config/expr.hpp"

#include <cctype>

namespace racewin {

struct ExprNode {
  enum class Op { Const, Var, Field, Not, And, Or, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub,
                  PageCount, PageMapcount, PageLocked, PteOf, PteSame, TlbPending, TlbBatch, TlbFull };
  Op op = Op::Const;
  int64_t num = 0;
  int index = -1;
  enum class Field : uint8_t { Present, None, Page, Writable, Dirty, Young } field = Field::Present;
  std::vector<std::shared_ptr<const ExprNode>> args;
};

namespace {

using NodeP = std::shared_ptr<const ExprNode>;

// Parsing, evaluating and freeing an expression recurse once per level of its tree, so a
// condition of a million '(' or '!', or of a million '+' terms, would overflow the stack. Real ones
// are a few dozen nodes deep.
constexpr int kMaxNesting = 100;      // '(', '!', and function arguments inside each other
constexpr size_t kMaxNodes = 10'000;  // every operator, name and number

class Parser {
 public:
  Parser(const std::string& t, const ExprScope& s, const SourceLoc& l, const std::string& what)
      : text_(t), scope_(s), loc_(l), what_(what) {}

  NodeP parse() {
    NodeP n = parse_or();
    skip_ws();
    if (pos_ != text_.size()) fail("unexpected '" + text_.substr(pos_) + "'");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& m) const {
    SourceLoc l = loc_;
    throw ConfigError(l, "in " + what_ + " '" + text_ + "' at character " + std::to_string(pos_ + 1) + ": " + m);
  }
  void skip_ws() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool eat(const std::string& tok) {
    skip_ws();
    if (text_.compare(pos_, tok.size(), tok) == 0) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  // Counts the node against kMaxNodes.
  std::shared_ptr<ExprNode> node() {
    if (++nodes_ > kMaxNodes) fail("the condition has more than " + std::to_string(kMaxNodes) + " terms");
    return std::make_shared<ExprNode>();
  }
  NodeP make(ExprNode::Op op, std::vector<NodeP> args = {}) {
    auto n = node();
    n->op = op;
    n->args = std::move(args);
    return n;
  }
  // Held while parsing one nesting level; refuses more than kMaxNesting.
  struct Level {
    explicit Level(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxNesting) parser.fail("nested more than " + std::to_string(kMaxNesting) + " deep");
    }
    ~Level() { --parser.depth_; }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
    Parser& parser;
  };
  NodeP parse_or() {
    Level level(*this);
    NodeP l = parse_and();
    while (eat("||")) l = make(ExprNode::Op::Or, {l, parse_and()});
    return l;
  }
  NodeP parse_and() {
    NodeP l = parse_cmp();
    while (eat("&&")) l = make(ExprNode::Op::And, {l, parse_cmp()});
    return l;
  }
  NodeP parse_cmp() {
    NodeP l = parse_add();
    static const std::pair<const char*, ExprNode::Op> ops[] = {
        {"==", ExprNode::Op::Eq}, {"!=", ExprNode::Op::Ne}, {"<=", ExprNode::Op::Le},
        {">=", ExprNode::Op::Ge}, {"<", ExprNode::Op::Lt},  {">", ExprNode::Op::Gt}};
    for (auto& [tok, op] : ops)
      if (eat(tok)) return make(op, {l, parse_add()});
    return l;
  }
  NodeP parse_add() {  // integer + and -: a loop counter over a PTE array
    NodeP l = parse_unary();
    for (;;) {
      if (eat("+")) l = make(ExprNode::Op::Add, {l, parse_unary()});
      else if (eat("-")) l = make(ExprNode::Op::Sub, {l, parse_unary()});
      else return l;
    }
  }
  NodeP parse_unary() {
    if (eat("!")) {
      Level level(*this);
      return make(ExprNode::Op::Not, {parse_unary()});
    }
    return parse_primary();
  }
  std::string ident() {
    skip_ws();
    size_t s = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    return text_.substr(s, pos_ - s);
  }
  NodeP parse_primary() {
    if (eat("(")) {
      NodeP n = parse_or();
      if (!eat(")")) fail("expected ')'");
      return n;
    }
    skip_ws();
    if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      size_t s = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      auto n = node();
      if (pos_ - s > 15) fail("the number " + text_.substr(s, pos_ - s) + " is too large");
      n->num = std::stoll(text_.substr(s, pos_ - s));
      return n;
    }
    size_t id_start = pos_;
    std::string id = ident();
    if (id.empty()) fail("expected a name, a number or '('");
    if (id == "true" || id == "false") {
      auto n = node();
      n->num = id == "true";
      return n;
    }
    if (id == "tlb") {
      if (!eat(".")) fail("expected tlb.pending, tlb.batch or tlb.full");
      std::string f = ident();
      if (f == "pending") return make(ExprNode::Op::TlbPending);
      if (f == "batch") return make(ExprNode::Op::TlbBatch);
      if (f == "full") return make(ExprNode::Op::TlbFull);
      fail("unknown field tlb." + f + "; expected tlb.pending, tlb.batch or tlb.full");
    }
    if (eat("(")) return call(id);
    int v = scope_.var_index(id);
    if (v < 0) {
      pos_ = id_start;
      fail("unknown variable '" + id + "' (declare it under vars: or set it with into:)");
    }
    auto n = node();
    n->op = ExprNode::Op::Var;
    n->index = v;
    NodeP cur = n;
    while (eat(".")) {
      std::string f = ident();
      static const std::pair<const char*, ExprNode::Field> fields[] = {
          {"present", ExprNode::Field::Present}, {"none", ExprNode::Field::None},
          {"page", ExprNode::Field::Page},       {"writable", ExprNode::Field::Writable},
          {"dirty", ExprNode::Field::Dirty},     {"young", ExprNode::Field::Young}};
      auto fn = node();
      bool ok = false;
      for (auto& [name, field] : fields)
        if (f == name) ok = true, fn->field = field;
      if (!ok) fail("unknown PTE field '" + f + "'; expected present, none, page, writable, dirty or young");
      fn->op = ExprNode::Op::Field;
      fn->args = {cur};
      cur = fn;
    }
    return cur;
  }
  NodeP call(const std::string& fn) {
    std::vector<NodeP> args;
    if (fn == "pte") {
      std::string name = ident();
      int p = scope_.pte_index(name);
      if (p < 0 && scope_.pte_array_count(name) >= 0) fail("pte() takes a single PTE; read an element of '" + name + "' with pte_read");
      if (p < 0) fail("unknown pte '" + name + "'");
      if (!eat(")")) fail("expected ')'");
      auto n = node();
      n->op = ExprNode::Op::PteOf;
      n->index = p;
      return n;
    }
    if (fn == "len") {  // the size of a PTE array, a constant
      std::string name = ident();
      auto n = node();
      n->num = scope_.pte_array_count(name);
      if (n->num < 0) fail("len() takes a PTE array; '" + name + "' is not one");
      if (!eat(")")) fail("expected ')'");
      return n;
    }
    if (!eat(")")) {
      do args.push_back(parse_or());
      while (eat(","));
      if (!eat(")")) fail("expected ')'");
    }
    auto want = [&](size_t k) {
      if (args.size() != k) fail(fn + "() takes " + std::to_string(k) + " argument(s)");
    };
    if (fn == "page_count") return want(1), make(ExprNode::Op::PageCount, args);
    if (fn == "page_mapcount") return want(1), make(ExprNode::Op::PageMapcount, args);
    if (fn == "PageLocked") return want(1), make(ExprNode::Op::PageLocked, args);
    if (fn == "pte_same") return want(2), make(ExprNode::Op::PteSame, args);
    fail("unknown function '" + fn + "'; expected page_count, page_mapcount, PageLocked, pte_same, pte or len");
  }

  const std::string& text_;
  const ExprScope& scope_;
  SourceLoc loc_;
  std::string what_;  // "condition", or which step argument: errors say what was being read
  size_t pos_ = 0;
  int depth_ = 0;
  size_t nodes_ = 0;
};

int64_t as_int(const Value& v) { return v.is_pte ? int64_t(v.pte.present) : v.i; }

Value eval_node(const ExprNode& n, const ExprContext& c) {
  using Op = ExprNode::Op;
  auto arg = [&](size_t k) { return eval_node(*n.args[k], c); };
  auto num = [](int64_t v) { return Value::num(v); };
  switch (n.op) {
    case Op::Const: return num(n.num);
    case Op::Var: return c.var(n.index);
    case Op::Field: {
      Value v = arg(0);
      const PteVal& p = v.pte;
      switch (n.field) {
        case ExprNode::Field::Present: return num(p.present);
        case ExprNode::Field::None: return num(!p.present);
        case ExprNode::Field::Page: return num(p.present ? p.page : kNoPage);
        case ExprNode::Field::Writable: return num(p.writable);
        case ExprNode::Field::Dirty: return num(p.dirty);
        case ExprNode::Field::Young: return num(p.young);
      }
      return num(0);
    }
    case Op::Not: return num(!as_int(arg(0)));
    case Op::And: return num(as_int(arg(0)) && as_int(arg(1)));
    case Op::Or: return num(as_int(arg(0)) || as_int(arg(1)));
    case Op::Eq: return num(as_int(arg(0)) == as_int(arg(1)));
    case Op::Ne: return num(as_int(arg(0)) != as_int(arg(1)));
    case Op::Lt: return num(as_int(arg(0)) < as_int(arg(1)));
    case Op::Le: return num(as_int(arg(0)) <= as_int(arg(1)));
    case Op::Gt: return num(as_int(arg(0)) > as_int(arg(1)));
    case Op::Ge: return num(as_int(arg(0)) >= as_int(arg(1)));
    // Wrapping, as the kernel's unsigned long would, rather than undefined: a loop that adds a
    // constant to a variable every iteration gets there in a long run.
    case Op::Add: return num(int64_t(uint64_t(as_int(arg(0))) + uint64_t(as_int(arg(1)))));
    case Op::Sub: return num(int64_t(uint64_t(as_int(arg(0))) - uint64_t(as_int(arg(1)))));
    case Op::PageCount: return num(c.page_count(int(as_int(arg(0)))));
    case Op::PageMapcount: return num(c.page_mapcount(int(as_int(arg(0)))));
    case Op::PageLocked: return num(c.page_locked(int(as_int(arg(0)))));
    case Op::PteOf: return Value::of(c.pte(n.index));
    case Op::PteSame: return num(arg(0).pte == arg(1).pte);
    case Op::TlbPending: return num(c.tlb_pending());
    case Op::TlbBatch: return num(c.tlb_batch());
    case Op::TlbFull: return num(c.tlb_full());
  }
  return num(0);
}

}  // namespace

Expr Expr::compile(const std::string& text, const ExprScope& scope, const SourceLoc& loc, const std::string& what) {
  Expr e;
  e.text_ = text;
  e.root_ = Parser(text, scope, loc, what).parse();
  return e;
}

namespace {

void collect(const ExprNode& n, std::vector<int>& out) {
  if (n.op == ExprNode::Op::Var) out.push_back(n.index);
  for (const auto& a : n.args) collect(*a, out);
}

bool is_page(const ExprNode& n, const std::vector<bool>& pv) {
  if (n.op == ExprNode::Op::Var) return size_t(n.index) < pv.size() && pv[size_t(n.index)];
  return n.op == ExprNode::Op::Field && n.field == ExprNode::Field::Page;
}

// A page-valued operand is allowed under page_count()/page_mapcount()/PageLocked() and on both
// sides of == and !=; anywhere else (order, arithmetic, a comparison with a number) it is not.
bool symmetric(const ExprNode& n, const std::vector<bool>& pv) {
  using O = ExprNode::Op;
  bool pages_ok = n.op == O::PageCount || n.op == O::PageMapcount || n.op == O::PageLocked;
  if ((n.op == O::Eq || n.op == O::Ne) && n.args.size() == 2) {
    bool a = is_page(*n.args[0], pv), b = is_page(*n.args[1], pv);
    if (a != b) return false;
    pages_ok = a;
  }
  for (const auto& a : n.args) {
    if (is_page(*a, pv) && !pages_ok) return false;
    if (!symmetric(*a, pv)) return false;
  }
  return true;
}

}  // namespace

void Expr::vars_read(std::vector<int>& out) const { collect(*root_, out); }
bool Expr::page_valued(const std::vector<bool>& pv) const { return is_page(*root_, pv); }
bool Expr::page_symmetric(const std::vector<bool>& pv) const { return symmetric(*root_, pv); }

Value Expr::eval(const ExprContext& ctx) const { return eval_node(*root_, ctx); }
bool Expr::truthy(const ExprContext& ctx) const { return as_int(eval(ctx)) != 0; }

}  // namespace racewin

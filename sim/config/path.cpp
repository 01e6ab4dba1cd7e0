#include "config/path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "base/units.hpp"

namespace racewin {
namespace {

enum class Arg { None, Name, Lock, Pte, Page, Window, Map };

struct OpSpec {
  const char* name;
  Op op;
  Arg arg;
  bool timed;  // charges a cost by default (its key is the op's name, or the work's name)
  std::vector<std::string> keys;  // for Arg::Map
};

const std::vector<OpSpec>& specs() {
  static const std::vector<OpSpec> s = {
      {"work", Op::Work, Arg::Name, true, {}},
      {"local_irq_disable", Op::LocalIrqDisable, Arg::None, true, {}},
      {"local_irq_enable", Op::LocalIrqEnable, Arg::None, true, {}},
      {"preempt_disable", Op::PreemptDisable, Arg::None, true, {}},
      {"preempt_enable", Op::PreemptEnable, Arg::None, true, {}},
      {"spin_lock", Op::SpinLock, Arg::Lock, true, {}},
      {"spin_unlock", Op::SpinUnlock, Arg::Lock, true, {}},
      {"pte_read", Op::PteRead, Arg::Map, true, {"pte", "into"}},
      {"ptep_get_and_clear", Op::PtepGetAndClear, Arg::Map, true, {"pte", "into"}},
      {"set_pte", Op::SetPte, Arg::Map, true, {"pte", "page", "writable", "dirty", "young"}},
      {"ptep_set_access_flags", Op::PtepSetAccessFlags, Arg::Map, true, {"pte", "writable", "dirty", "young"}},
      {"ptep_clear_flush", Op::PtepClearFlush, Arg::Pte, true, {}},
      {"get_page", Op::GetPage, Arg::Page, true, {}},
      {"put_page", Op::PutPage, Arg::Page, true, {}},
      {"try_get_page", Op::TryGetPage, Arg::Map, true, {"page", "into"}},
      {"page_add_rmap", Op::PageAddRmap, Arg::Page, true, {}},
      {"page_remove_rmap", Op::PageRemoveRmap, Arg::Page, true, {}},
      {"alloc_page", Op::AllocPage, Arg::Map, true, {"into"}},
      {"lru_cache_add", Op::LruCacheAdd, Arg::Page, true, {}},
      {"lru_add_drain", Op::LruAddDrain, Arg::None, true, {}},
      {"mark_page_accessed", Op::MarkPageAccessed, Arg::Page, true, {}},
      {"set_page_dirty", Op::SetPageDirty, Arg::Page, true, {}},
      {"lock_page", Op::LockPage, Arg::Page, true, {}},
      {"trylock_page", Op::TrylockPage, Arg::Map, true, {"page", "into"}},
      {"unlock_page", Op::UnlockPage, Arg::Page, true, {}},
      {"tlb_gather_mmu", Op::TlbGatherMmu, Arg::None, true, {}},
      {"tlb_remove_tlb_entry", Op::TlbRemoveTlbEntry, Arg::Pte, true, {}},
      {"tlb_remove_page", Op::TlbRemovePage, Arg::Page, true, {}},
      {"tlb_flush_mmu_tlbonly", Op::TlbFlushMmuTlbonly, Arg::None, true, {}},
      {"tlb_flush_mmu_free", Op::TlbFlushMmuFree, Arg::None, true, {}},
      {"window_open", Op::WindowOpen, Arg::Window, false, {}},
      {"window_close", Op::WindowClose, Arg::Window, false, {}},
      {"window_hit", Op::WindowHit, Arg::Window, false, {}},
      {"set", Op::Set, Arg::Map, false, {}},
      {"goto", Op::Goto, Arg::Name, false, {}},
      {"end", Op::End, Arg::None, false, {}},
  };
  return s;
}

std::vector<std::string> op_names() {
  std::vector<std::string> n;
  for (const auto& s : specs()) n.push_back(s.name);
  return n;
}

int find(const std::vector<std::string>& v, const std::string& x) {
  auto it = std::find(v.begin(), v.end(), x);
  return it == v.end() ? -1 : int(it - v.begin());
}

class Scope : public ExprScope {
 public:
  Scope(const Path& p, const MachineNames& m) : p_(p), m_(m) {}
  int var_index(const std::string& n) const override { return p_.var_index(n); }
  int pte_index(const std::string& n) const override { return find(m_.ptes, n); }
  int pte_array_count(const std::string& n) const override {
    auto* a = m_.pte_array(n);
    return a ? a->count : -1;
  }

 private:
  const Path& p_;
  const MachineNames& m_;
};

bool const_bool(const CNode& n) { return n.boolean(); }

void parse_into(const CNode& root, MachineNames& names, Path& path);

}  // namespace

const char* op_name(Op op) {
  for (const auto& s : specs())
    if (s.op == op) return s.name;
  return "label";
}

int MachineNames::window_index(const std::string& name) {
  int i = find(windows, name);
  if (i >= 0) return i;
  windows.push_back(name);
  return int(windows.size()) - 1;
}

const MachineNames::PteArray* MachineNames::pte_array(const std::string& name) const {
  for (const auto& a : pte_arrays)
    if (a.name == name) return &a;
  return nullptr;
}

int Path::var_index(const std::string& n) const { return find(var_names, n); }

Path load_path(const std::string& file, MachineNames& names) {
  return parse_path(CNode::load_file(file), names);
}

Path parse_path(const CNode& root, MachineNames& names) {
  Path path;
  parse_into(root, names, path);
  return path;
}

Path parse_paths(const std::vector<CNode>& parts, MachineNames& names) {
  Path path;
  for (size_t f = 0; f < parts.size(); ++f) {
    size_t first = path.steps.size();
    parse_into(parts[f], names, path);
    if (f + 1 == parts.size()) break;
    for (size_t i = first; i < path.steps.size(); ++i)  // `end` of a part: on to the next part
      if (path.steps[i].op == Op::End) path.steps[i].op = Op::Goto, path.steps[i].target = int(path.steps.size());
  }
  return path;
}

namespace {

// Appends the steps of one path file to `path` (its labels are its own).
void parse_into(const CNode& root, MachineNames& names, Path& path) {
  const int base = int(path.steps.size());
  if (path.file.empty()) path.file = root.file();
  root.allow_keys({"path", "doc", "source", "vars", "steps"});
  path.name += (path.name.empty() ? "" : "+") + root.at("path").str();
  if (auto vars = root.get("vars"))
    for (auto& [k, v] : vars->entries()) {
      Value init = Value::num(v.integer(-(1L << 40), 1L << 40));
      if (int i = path.var_index(k); i >= 0) {
        path.var_init[size_t(i)] = init;
        continue;
      }
      path.var_names.push_back(k);
      path.var_init.push_back(init);
    }
  auto items = root.at("steps").items();
  if (items.empty()) root.at("steps").fail("a path needs at least one step");
  // Each step takes about 2 KB by the time a case is built (a million: 2 GB to validate); the
  // kernel paths modelled have tens.
  if (path.steps.size() + items.size() > kMaxPathSteps)
    root.at("steps").fail(fmt::format("a thread's path has {} steps, more than the {} a path may have",
                                      path.steps.size() + items.size(), kMaxPathSteps));

  // First pass: variables written by `into:` and `set:`, and labels.
  std::map<std::string, int> labels;
  auto declare = [&](const std::string& v) {
    if (path.var_index(v) < 0) {
      path.var_names.push_back(v);
      path.var_init.push_back(Value::num(0));
    }
  };
  for (size_t i = 0; i < items.size(); ++i) {
    const CNode& it = items[i];
    if (!it.is_map()) continue;
    if (auto l = it.get("label")) {
      std::string name = l->str();
      if (labels.count(name)) l->fail("label '" + name + "' is defined twice");
      labels[name] = base + int(i);
    }
    for (auto& [k, v] : it.entries()) {
      if (v.is_map() && v.has("into")) declare(v.at("into").str());
      if (k == "set") for (auto& [var, _] : v.entries()) declare(var);
    }
  }

  Scope scope(path, names);
  for (size_t i = 0; i < items.size(); ++i) {
    const CNode& it = items[i];
    Step st;
    st.loc = it.loc();
    std::string opname;
    std::optional<CNode> arg;
    if (it.is_scalar()) {
      opname = it.str();
    } else if (it.is_map()) {
      for (auto& [k, v] : it.entries()) {
        if (k == "label" || k == "if" || k == "cost" || k == "note") continue;
        if (!opname.empty()) {
          CNode(v.raw(), std::make_shared<const std::string>(it.file()), k)
              .fail("a step has one operation, this one has '" + opname + "' and '" + k + "'");
        }
        opname = k;
        arg = v;
      }
      if (opname.empty()) {
        if (!it.has("label")) it.fail("a step needs an operation (one of the path vocabulary) or a label");
        opname = "label";
      }
    } else {
      it.fail("a step is an operation name or a map such as {spin_lock: ptl}");
    }
    if (opname == "label") {
      st.op = Op::Nop;
      st.text = "label " + it.at("label").str();
      path.steps.push_back(std::move(st));
      continue;
    }
    const OpSpec* spec = nullptr;
    for (const auto& s : specs())
      if (opname == s.name) spec = &s;
    if (!spec) {
      std::string msg = "unknown step '" + opname + "'";
      std::string near = nearest_word(opname, op_names());
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      throw ConfigError(it.loc(), msg + "; see docs/paths.md for the vocabulary");
    }
    st.op = spec->op;
    auto need_arg = [&]() -> const CNode& {
      if (!arg) throw ConfigError(it.loc(), std::string("'") + spec->name + "' needs an argument");
      return *arg;
    };
    auto compile = [&](const CNode& n, const std::string& what = "condition") { return Expr::compile(n.str(), scope, n.loc(), what); };
    const std::string step_arg = std::string("step ") + spec->name + "'s ";
    auto pte_of = [&](const CNode& n) {
      const std::string text = n.str();
      const size_t br = text.find('[');
      const std::string name = text.substr(0, br);
      const auto* array = names.pte_array(name);
      if (br != std::string::npos) {  // range[i]: an element of a PTE array
        if (!array) n.fail("'" + name + "' is not a PTE array; declare it as {name: " + name + ", count: N} under machine.ptes");
        if (text.back() != ']') n.fail("a PTE array element is written NAME[EXPR], e.g. range[i]");
        st.pte_index = Expr::compile(text.substr(br + 1, text.size() - br - 2), scope, n.loc(), step_arg + "PTE index");
        st.pte_count = array->count;
        return array->base;
      }
      if (array) n.fail("'" + name + "' is an array of " + std::to_string(array->count) + " PTEs; name one element, e.g. " + name + "[i]");
      int p = find(names.ptes, text);
      if (p < 0) n.fail("unknown pte '" + text + "'; the machine declares: " +
                        (names.ptes.empty() ? std::string("none") : names.ptes.front()));
      return p;
    };
    std::string argtext;
    switch (spec->arg) {
      case Arg::None:
        if (arg && !arg->raw().IsNull()) arg->fail(std::string("'") + spec->name + "' takes no argument");
        break;
      case Arg::Name:
        argtext = need_arg().str();
        if (st.op == Op::Goto) {
          if (!labels.count(argtext)) need_arg().fail("no label '" + argtext + "' in this path");
          st.target = labels[argtext];
        } else {
          st.cost_name = argtext;
        }
        break;
      case Arg::Lock: {
        argtext = need_arg().str();
        st.obj = find(names.spinlocks, argtext);
        if (st.obj < 0) need_arg().fail("unknown spinlock '" + argtext + "'; declare it under machine.spinlocks");
        break;
      }
      case Arg::Pte:
        argtext = need_arg().str();
        st.obj = pte_of(need_arg());
        break;
      case Arg::Page:
        argtext = need_arg().str();
        st.page = compile(need_arg(), step_arg + "page argument");
        break;
      case Arg::Window:
        argtext = need_arg().str();
        st.obj = names.window_index(argtext);
        break;
      case Arg::Map: {
        const CNode& a = need_arg();
        if (st.op == Op::Set) {
          auto e = a.entries();
          if (e.size() != 1) a.fail("set: takes one variable, e.g. {set: {foll_cow: 1}}");
          st.into = path.var_index(e[0].first);
          st.value = compile(e[0].second, "the value of set: " + e[0].first);
          argtext = e[0].first + " = " + e[0].second.str();
          break;
        }
        a.allow_keys(spec->keys);
        if (a.has("pte")) st.obj = pte_of(a.at("pte")), argtext = a.at("pte").str();
        if (a.has("page")) st.page = compile(a.at("page"), step_arg + "page argument"), argtext += (argtext.empty() ? "" : ", ") + a.at("page").str();
        if (a.has("into")) st.into = path.var_index(a.at("into").str());
        if (a.has("writable")) st.writable = const_bool(a.at("writable"));
        if (a.has("dirty")) st.dirty = const_bool(a.at("dirty"));
        if (a.has("young")) st.young = const_bool(a.at("young"));
        for (const auto& k : spec->keys)
          if (k != "writable" && k != "dirty" && k != "young" && !a.has(k))
            a.fail(std::string("'") + spec->name + "' needs '" + k + "'");
        break;
      }
    }
    st.text = std::string(spec->name) + "(" + argtext + ")";
    if (st.op == Op::Work) st.text = argtext;
    if (it.is_map()) {
      if (auto c = it.get("if")) st.cond = compile(*c);
      if (auto c = it.get("cost")) {
        auto d = parse_duration_ns(c->is_scalar() ? c->str() : std::string());
        if (c->is_scalar() && !d && !c->str().empty() && !std::isdigit(static_cast<unsigned char>(c->str()[0])))
          st.cost_name = c->str();
        else
          st.cost_inline = Dist::parse(*c);
      }
    }
    if (spec->timed && st.cost_name.empty() && !st.cost_inline) st.cost_name = spec->name;
    path.steps.push_back(std::move(st));
  }
}

}  // namespace
}  // namespace racewin

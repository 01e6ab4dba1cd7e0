#include "config/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "config/kernel_config.hpp"
#include "config/scenario_checks.hpp"

namespace racewin {
namespace {

// Costs the model charges by itself: a lock's cache line reaching the next owner, a sleeper
// woken, and the work of a free between the last put_page and check_free_page.
const std::vector<std::string> kModelCosts = {"spin_lock_handoff", "lock_page_wakeup", "free_pages_prepare", "pte_read"};
// ... those of the s390 lock protocols: SIGP SENSE RUNNING and DIAG 9C; and of the x86 guest
// locks under KVM: a pause-loop exit with its directed yield, and the kick of a halted waiter.
const std::vector<std::string> kS390LockCosts = {"arch_vcpu_is_preempted", "smp_yield_cpu"};
const std::vector<std::string> kPvLockCosts = {"ple_exit", "pv_kick"};
struct Pending {
  std::string key;
  YAML::Node value;
  SourceLoc origin;
  int index = -1;           // in the command line's overrides; -1 for a case's own line
  bool may_refuse = false;  // an unscoped command-line override, without --force-override
};

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// Whether `path`, named at `at`, is a file: a name the system refuses (over 255 bytes a component,
// say) is a configuration error at `at`, not a std::filesystem exception.
bool is_file(const CNode& at, const std::string& path) {
  std::error_code ec;
  bool yes = std::filesystem::is_regular_file(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    at.fail(fmt::format("cannot use file {}: {}", path.size() > 80 ? path.substr(0, 60) + "... (" + std::to_string(path.size()) + " bytes)" : path,
                        ec.message()));
  return yes;
}

// A profile given as a file path or inline; `prefix` overrides ("arch.") are applied to it.
// A key inside a steal process (hypervisor.steal.0.interarrival) on a profile without one means
// nothing: refused as an unscoped --set, else an error naming the case and the profile.
CNode load_profile(const CNode& root, const std::string& key, const std::vector<Pending>& sets,
                   const std::string& case_name, Gathered& g) {
  CNode ref = root.at(key);
  if (ref.is_scalar() && !is_file(ref, ref.resolve_path(ref.str())))
    ref.fail("no such file: " + ref.resolve_path(ref.str()));
  CNode doc = ref.is_scalar() ? CNode::load_file(ref.resolve_path(ref.str())) : ref;
  for (const auto& s : sets) {
    if (!starts_with(s.key, key + ".")) continue;
    if (starts_with(s.key, "hypervisor.steal.") && !has_steal(doc.raw()["steal"])) {
      std::string what = "hypervisor '" + (doc.has("hypervisor") ? doc.at("hypervisor").str() : std::string("?")) + "' (" +
                         (ref.is_scalar() ? doc.file() : "inline at " + ref.loc().str()) + ") has no steal process";
      if (s.may_refuse) {
        g.refusals.push_back({s.index, true, case_name, what});
        continue;
      }
      throw ConfigError(s.origin, "case " + case_name + ": " + what + " for '" + s.key +
                                      "' to change; set the whole hypervisor.steal instead");
    }
    doc.set_dotted(s.key.substr(key.size() + 1), s.value, s.origin);
  }
  return doc;
}

// How errors name a command-line override: its label, else "--set KEY".
std::string override_label(const Override& o) { return o.label.empty() ? "--set " + o.key : o.label; }

// An error at a command-line override names the case it broke: the same --set may mean something
// else in another case's profile (a periodic steal source has no interarrival), and the location
// alone ("--set KEY") would not say which.
// Returns the message naming the case, or nothing if the error is not at an override (or names a
// case already): the caller then rethrows it as it is.
std::optional<std::string> naming_case(const ConfigError& e, const std::string& case_name, const std::vector<Override>& overrides) {
  const SourceLoc& at = e.where();
  bool at_override = at.line == 0 && std::any_of(overrides.begin(), overrides.end(), [&](const Override& o) {
                       return at.file == override_label(o);
                     });
  std::string what = e.what(), prefix = at.str() + ": ";
  if (!at_override || what.rfind(prefix, 0) != 0 || what.rfind(prefix + "case ", 0) == 0) return std::nullopt;
  return "case " + case_name + ": " + what.substr(prefix.size());
}

CaseConfig build_case(const std::string& file, const std::string& case_name, const CNode* case_node,
                      const std::vector<Override>& overrides, Gathered& g) {
  CNode root = CNode::load_file(file);
  CaseConfig c;
  std::vector<Pending> sets;
  std::vector<std::pair<std::string, CNode>> own;
  if (case_node) own = case_node->entries();
  for (auto& [k, v] : own) {
    sets.push_back({k, v.raw(), v.loc()});
    c.overrides.push_back({k, yaml_text(v.raw()), v.loc().str(), true});
  }
  for (size_t i = 0; i < overrides.size(); ++i) {
    const Override& o = overrides[i];
    if (!o.scope.empty() && !scope_matches(o.scope, case_name)) continue;
    SourceLoc where{override_label(o), 0, 0};
    YAML::Node v;
    check_utf8(o.key, where.file);    // the key too: it can add a key (arch.costs.NAME) to the outputs
    check_utf8(o.value, where.file);  // before yaml-cpp, which would quote the byte in its message
    try {
      v = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      throw ConfigError(where, "value '" + o.value + "' is not valid YAML: " + e.msg);
    }
    bool may_refuse = o.scope.empty() && !o.origin.empty() && !g.force;
    bool replaced = false;
    for (auto& [k, node] : own)
      if (may_refuse && overlaps(o.key, k)) g.refusals.push_back({int(i), false, case_name, node.loc().str()}), replaced = true;
    if (replaced) continue;
    check_yaml(o.value, where.file);  // it goes into the resolved configuration too
    sets.push_back({o.key, v, where, int(i), may_refuse});
    if (!o.origin.empty()) c.overrides.push_back({o.key, o.value, o.origin, false});
  }
  for (const auto& s : sets) {
    if (s.index >= 0 && overrides[size_t(s.index)].derived) continue;
    std::string cost = cost_key(s.key);
    if (!cost.empty()) g.cost_sets.push_back({cost, s.origin});
    if ((s.key == "arch.costs" || s.key == "hypervisor.costs") && s.value.IsMap())
      for (auto it = s.value.begin(); it != s.value.end(); ++it) g.cost_sets.push_back({it->first.Scalar(), s.origin});
  }
  for (const auto& s : sets)
    if (!starts_with(s.key, "arch.") && !starts_with(s.key, "hypervisor.")) root.set_dotted(s.key, s.value, s.origin);

  root.allow_keys({"scenario", "doc", "run", "machine", "kernel", "arch", "hypervisor", "threads", "cases"});
  c.scenario = root.at("scenario").str();
  c.name = case_name;
  if (auto d = root.get("doc")) c.doc = d->str();

  CNode run = root.at("run");
  run.allow_keys({"time", "iterations", "seed", "count", "replications"});
  if (auto r = run.get("replications")) c.replications = int(r->integer(1, 1 << 20));
  if (auto t = run.get("time")) c.limits.time_ns = t->duration();
  if (auto i = run.get("iterations")) c.limits.iterations = uint64_t(i->integer(0, 1L << 62));
  if (auto s = run.get("seed")) c.seed = uint64_t(s->integer(0, 1L << 62));
  if (c.limits.time_ns <= 0 && c.limits.iterations == 0)
    run.fail("give run.time or run.iterations (a run must end)");

  CNode m = root.at("machine");
  m.allow_keys({"vcpus", "pages", "spinlocks", "ptes"});
  c.vcpus = int(m.at("vcpus").integer(1, 1024));
  if (auto p = m.get("pages")) c.pages = int(p->integer(1, 1 << 24));
  if (auto l = m.get("spinlocks")) for (auto& n : l->items()) c.names.spinlocks.push_back(n.str());
  if (auto p = m.get("ptes"))
    for (auto& n : p->items()) {
      if (!n.is_map()) {
        c.names.ptes.push_back(n.str());
        continue;
      }
      n.allow_keys({"name", "count"});  // {name: range, count: 16}: range[0] .. range[15]
      MachineNames::PteArray a{n.at("name").str(), int(c.names.ptes.size()), int(n.at("count").integer(1, 1 << 16))};
      if (a.name.empty() || a.name.find_first_of("[] ") != std::string::npos) n.at("name").fail("a PTE array's name is a plain word, e.g. range");
      for (int i = 0; i < a.count; ++i) c.names.ptes.push_back(a.name + "[" + std::to_string(i) + "]");
      c.names.pte_arrays.push_back(a);
    }
  for (size_t i = 0; i < c.names.ptes.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (c.names.ptes[i] == c.names.ptes[j]) m.at("ptes").fail("pte '" + c.names.ptes[i] + "' is declared twice");

  if (auto k = root.get("kernel")) c.kernel = parse_kernel(*k, c.vcpus);

  CNode arch_doc = load_profile(root, "arch", sets, case_name, g);
  CNode hyp_doc = load_profile(root, "hypervisor", sets, case_name, g);
  c.arch = parse_arch(arch_doc);
  c.hypervisor = parse_hypervisor(hyp_doc);
  // pv_tlb_flush skips preempted targets of a shootdown IPI: nothing to skip without shootdown
  // IPIs (s390x broadcasts) or without steal (bare metal: no vCPU is ever preempted).
  for (const auto& s : sets)
    if (s.may_refuse && s.key == "hypervisor.pv_tlb_flush") {
      if (c.arch.tlb_flush != ArchProfile::TlbFlush::IpiShootdown)
        g.refusals.push_back({s.index, true, case_name, "arch '" + c.arch.name + "' flushes TLBs by broadcast, with no IPI to skip"});
      else if (c.hypervisor.steal.empty())
        g.refusals.push_back({s.index, true, case_name, "hypervisor '" + c.hypervisor.name + "' has no steal: no vCPU is ever preempted"});
    }
  // A flush by hypercall replaces shootdown IPIs, and a broadcast arch sends none (an emulator's
  // synchronised broadcast, QEMU TCG's IPTE, is broadcast_sync).
  if (c.hypervisor.remote_flush.on && c.arch.tlb_flush != ArchProfile::TlbFlush::IpiShootdown && !c.hypervisor.remote_flush.waits_for_stolen)
    hyp_doc.at("remote_flush").fail("arch '" + c.arch.name + "' flushes TLBs by broadcast: a remote flush by hypercall "
                                    "replaces shootdown IPIs, and it sends none (an emulator's synchronised broadcast, as "
                                    "QEMU TCG's IPTE, is broadcast_sync)");
  if (root.at("arch").is_scalar()) c.arch_file = arch_doc.file();
  if (root.at("hypervisor").is_scalar()) c.hypervisor_file = hyp_doc.file();
  c.lock = c.hypervisor.shared_cpus ? c.arch.lock_shared : c.arch.lock_dedicated;
  for (const auto& [name, _] : c.hypervisor.irq_extra) {
    bool known = false;
    for (const auto& src : c.arch.interrupts) known |= src.name == name;
    if (!known) hyp_doc.at("interrupt_exits").at(name).fail("arch '" + c.arch.name + "' has no interrupt source '" + name + "'");
  }

  nlohmann::json paths = nlohmann::json::object();
  for (auto& [name, t] : root.at("threads").entries()) {
    t.allow_keys({"vcpu", "path"});
    ThreadSpec ts;
    ts.name = name;
    ts.vcpu = int(t.at("vcpu").integer(0, c.vcpus - 1));
    for (const auto& o : c.threads)
      if (o.vcpu == ts.vcpu) t.at("vcpu").fail("vCPU " + std::to_string(ts.vcpu) + " already runs thread '" + o.name + "'");
    // One path file, or a list run one after the other in each iteration.
    CNode p = t.at("path");
    std::vector<CNode> parts = p.is_scalar() ? std::vector<CNode>{p} : p.items();
    if (parts.empty()) p.fail("a thread's path is a path file or a list of them");
    std::vector<std::string> files;
    for (const auto& part : parts) {
      files.push_back(part.resolve_path(part.str()));
      if (!is_file(part, files.back())) part.fail("no such path file: " + files.back());
    }
    std::vector<CNode> docs;
    for (const auto& f : files) docs.push_back(CNode::load_file(f));
    ts.path = parse_paths(docs, c.names);
    nlohmann::json yaml = nlohmann::json::array();
    for (const auto& d : docs) yaml.push_back(yaml_to_json(d));
    if (files.size() == 1) paths[name] = {{"file", files[0]}, {"path", ts.path.name}, {"yaml", yaml[0]}};
    else paths[name] = {{"file", files}, {"path", ts.path.name}, {"yaml", yaml}};
    c.threads.push_back(std::move(ts));
  }
  if (c.threads.empty()) root.at("threads").fail("a scenario needs at least one thread");
  c.count_thread = 0;
  if (auto cnt = run.get("count")) {
    auto it = std::find_if(c.threads.begin(), c.threads.end(), [&](const ThreadSpec& t) { return t.name == cnt->str(); });
    if (it == c.threads.end()) cnt->fail("no thread named '" + cnt->str() + "'");
    c.count_thread = int(it - c.threads.begin());
  }

  // The cost table: the arch's, with the hypervisor's on top; steps point into it.
  std::map<std::string, Dist> costs = c.arch.costs;
  if (c.kernel.debug)
    for (auto& [k, v] : c.arch.debug_costs) costs.insert_or_assign(k, v);
  for (auto& [k, v] : c.hypervisor.costs) costs.insert_or_assign(k, v);
  for (auto& [k, v] : costs) c.cost_names.push_back(k), c.costs.push_back(v);
  for (const auto& k : kModelCosts)
    if (!costs.count(k)) arch_doc.at("costs").fail("missing cost '" + k + "' (the model charges it)");
  for (const auto* l : {&kModelCosts, &kS390LockCosts, &kPvLockCosts}) g.charged.insert(l->begin(), l->end());
  auto need_cost = [&](const std::string& k, const std::string& why) {
    if (!costs.count(k)) arch_doc.at("costs").fail("missing cost '" + k + "' (" + why + ")");
    g.charged.insert(k);
  };
  if (c.kernel.debug)
    for (const auto& k : debug_kernel_costs()) need_cost(k, "kernel.config: debug charges it");
  if (c.kernel.debug_pagealloc) need_cost("debug_pagealloc_free", "kernel.debug_pagealloc charges it");
  if (c.kernel.task.on) {
    need_cost("context_switch", "kernel.task charges it");
    need_cost("hrtimer_wakeup", "kernel.task's wakeups are this timer interrupt");
    c.kernel.task.wakeup.handler = costs.at("hrtimer_wakeup");
    if (!costs.count(c.kernel.task.run_cost))
      root.at("kernel").at("task").at("run").fail("no cost '" + c.kernel.task.run_cost + "' in arch '" + c.arch.name +
                                                  "' or hypervisor '" + c.hypervisor.name + "'");
    g.charged.insert(c.kernel.task.run_cost);
  }
  if (c.lock.kind != LockModel::Kind::Fifo)
    for (const auto& k : c.lock.s390() ? kS390LockCosts : kPvLockCosts)
      if (!costs.count(k)) arch_doc.at("costs").fail("missing cost '" + k + "' (the " + (c.hypervisor.shared_cpus ? "shared" : "dedicated") + " spinlock model charges it)");
  for (auto& t : c.threads)
    for (auto& s : t.path.steps) {
      if (s.cost_inline) {
        c.cost_names.push_back(s.text + "@" + s.loc.str());
        c.costs.push_back(*s.cost_inline);
        s.cost_index = int(c.costs.size()) - 1;
      } else if (!s.cost_name.empty()) {
        auto it = std::find(c.cost_names.begin(), c.cost_names.end(), s.cost_name);
        if (it == c.cost_names.end())
          throw ConfigError(s.loc, "step '" + s.text + "' needs cost '" + s.cost_name + "', which arch '" + c.arch.name +
                                       "' (" + arch_doc.file() + ") and hypervisor '" + c.hypervisor.name +
                                       "' do not define; add it under costs: or give the step a cost:");
        s.cost_index = int(it - c.cost_names.begin());
        g.charged.insert(s.cost_name);
      }
    }
  if (c.kernel.debug)
    for (auto& t : c.threads) debug_overlay(t.path, c.cost_names);

  c.resolved = {{"scenario", yaml_to_json(root)},
                {"case", case_name},
                {"arch", yaml_to_json(arch_doc)},
                {"hypervisor", yaml_to_json(hyp_doc)},
                {"paths", paths}};
  c.resolved["scenario"].erase("cases");
  return c;
}

}  // namespace

std::vector<IrqSource> interrupt_sources(const CaseConfig& c) {
  std::vector<IrqSource> out = c.arch.interrupts;
  out.insert(out.end(), c.hypervisor.interrupts.begin(), c.hypervisor.interrupts.end());
  if (c.kernel.task.on) out.push_back(c.kernel.task.wakeup);
  return out;
}

nlohmann::json yaml_to_json(const CNode& doc) {
  // Keys anywhere in the document, also under keys racewin does not read (a path file's source:),
  // become JSON keys: a key that is not a plain name is refused where it is.
  auto convert = [&doc](const YAML::Node& n, auto& self) -> nlohmann::json {
    switch (n.Type()) {
      case YAML::NodeType::Map: {
        nlohmann::json j = nlohmann::json::object();
        for (auto it = n.begin(); it != n.end(); ++it) {
          if (!it->first.IsScalar()) CNode(it->first, std::make_shared<const std::string>(doc.file()), "").fail("a key must be a plain name");
          j[it->first.Scalar()] = self(it->second, self);
        }
        return j;
      }
      case YAML::NodeType::Sequence: {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& e : n) j.push_back(self(e, self));
        return j;
      }
      case YAML::NodeType::Scalar: return n.Scalar();
      default: return nullptr;
    }
  };
  return convert(doc.raw(), convert);
}

const nlohmann::json* resolved_value(const nlohmann::json& resolved, const std::string& key) {
  std::vector<std::string> parts;
  for (size_t at = 0, dot; at <= key.size(); at = dot + 1) {
    dot = std::min(key.find('.', at), key.size());
    parts.push_back(key.substr(at, dot - at));
  }
  const nlohmann::json* j = &resolved.at("scenario");
  size_t first = 0;
  if (parts[0] == "arch" || parts[0] == "hypervisor") j = &resolved.at(parts[0]), first = 1;
  for (size_t i = first; i < parts.size(); ++i) {
    if (j->is_object() && j->contains(parts[i])) j = &(*j)[parts[i]];
    else if (j->is_array() && !parts[i].empty() && std::all_of(parts[i].begin(), parts[i].end(), ::isdigit) && std::stoul(parts[i]) < j->size())
      j = &(*j)[std::stoul(parts[i])];
    else return nullptr;
  }
  return j;
}

Scenario load_scenario(const std::string& file, const std::vector<Override>& overrides,
                       const std::vector<std::string>& only_cases, bool force_override) {
  OriginScope origins;  // the overrides' locations are needed only while loading
  CNode root = CNode::load_file(file);
  Scenario sc;
  sc.file = file;
  sc.name = root.at("scenario").str();
  if (auto d = root.get("doc")) sc.doc = d->str();
  auto cases = root.get("cases");
  std::vector<std::string> known;
  Gathered g;
  g.force = force_override;
  if (cases)
    for (auto& [name, _] : cases->entries()) known.push_back(name);
  check_scopes(overrides, known.empty() ? std::vector<std::string>{sc.name} : known);
  if (!cases) {
    sc.cases.push_back(build_case(file, sc.name, nullptr, overrides, g));
  } else {
    for (auto& [name, node] : cases->entries()) {
      if (!only_cases.empty() && std::find(only_cases.begin(), only_cases.end(), name) == only_cases.end()) continue;
      if (!node.is_map() && !node.raw().IsNull()) node.fail("a case is a map of overrides such as {arch: ../models/arch/x86_64.yaml}");
      CNode n = node.is_map() ? node : CNode(YAML::Node(YAML::NodeType::Map), std::make_shared<const std::string>(file), name);
      try {
        sc.cases.push_back(build_case(file, name, &n, overrides, g));
      } catch (const OverrideError&) {
        throw;
      } catch (const ConfigError& e) {
        if (auto msg = naming_case(e, name, overrides)) throw ConfigError(e.where(), *msg);
        throw;
      }
    }
  }
  refuse(overrides, g.refusals);
  check_cost_sets(g);
  for (const auto& want : only_cases)
    if (std::find(known.begin(), known.end(), want) == known.end() && !(known.empty() && want == sc.name)) {
      std::string msg = "no case '" + want + "'";
      std::string near = nearest_word(want, known);
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      throw ConfigError({file, 0, 0}, msg);
    }
  return sc;
}

}  // namespace racewin

#include "config/overrides.hpp"

#include <fnmatch.h>

#include <filesystem>

namespace racewin {

Override parse_override(const std::string& text, const std::string& option) {
  // Keys and case names hold no '='; values may hold ':' and '=' (YAML flow maps).
  auto eq = text.find('=');
  std::string lhs = text.substr(0, eq == std::string::npos ? 0 : eq);
  auto colon = lhs.find(':');
  Override o;
  if (colon != std::string::npos) o.scope = lhs.substr(0, colon), o.key = lhs.substr(colon + 1);
  else o.key = lhs;
  if (eq == std::string::npos || o.key.empty() || (colon != std::string::npos && o.scope.empty()))
    throw OverrideError({option + " " + text, 0, 0},
                        "expected [CASE:]KEY=VALUE, e.g. " + option + " arch.costs.unlock_page=40ns or " + option +
                            " 's390x_*:hypervisor.spin_yield=if_preempted'");
  o.value = text.substr(eq + 1);
  o.label = option + " " + lhs;
  o.origin = option;
  return o;
}

bool scope_matches(const std::string& scope, const std::string& case_name) {
  return fnmatch(scope.c_str(), case_name.c_str(), 0) == 0;
}

bool overlaps(const std::string& a, const std::string& b) {
  const std::string& shorter = a.size() <= b.size() ? a : b;
  const std::string& longer = a.size() <= b.size() ? b : a;
  if (shorter == longer) return true;
  if (shorter == "arch" || shorter == "hypervisor") return false;
  return longer.compare(0, shorter.size() + 1, shorter + ".") == 0;
}

std::string cost_key(const std::string& key) {
  for (const std::string p : {"arch.costs.", "hypervisor.costs."})
    if (key.compare(0, p.size(), p) == 0 && key.find('.', p.size()) == std::string::npos) return key.substr(p.size());
  return "";
}

namespace {

// writer=proc_mem_write_v5.9.yaml for a thread's path, else the key's last part and the value,
// shortened: the full text is in deviations_text().
std::string short_form(const AppliedOverride& o) {
  std::string k = o.key, v = o.value;
  if (k.compare(0, 8, "threads.") == 0 && k.size() > 13 && k.compare(k.size() - 5, 5, ".path") == 0) {
    k = k.substr(8, k.size() - 13);
    v = std::filesystem::path(v).filename().string();
  } else if (auto dot = k.rfind('.'); dot != std::string::npos) {
    k = k.substr(dot + 1);
  }
  if (v.size() > 24) v = v.substr(0, 20) + "...";
  return k + "=" + v;
}

}  // namespace

std::string case_label(const std::string& name, const std::vector<AppliedOverride>& applied) {
  std::string s;
  for (const auto& o : applied)
    if (!o.from_file) s += (s.empty() ? "" : ", ") + short_form(o);
  return s.empty() ? name : name + " [" + s + "]";
}

std::string deviations_text(const std::vector<AppliedOverride>& applied) {
  std::string s;
  for (const auto& o : applied)
    if (!o.from_file) s += (s.empty() ? "" : "; ") + o.key + "=" + o.value + " (" + o.origin + ")";
  return s;
}

}  // namespace racewin

// Fuzz target: the path language (parse_path, and through it the expression compiler and the
// inline cost distributions). The input is a path file, parsed from memory against the machine
// names the shipped scenarios declare (spinlocks ptl, gate, L, A; PTEs map, flag and an array
// range of 512), as a scenario's threads would load it.
// A bug: see fuzz_support.hpp.
#include "config/path.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  racewin::MachineNames names;
  names.spinlocks = {"ptl", "gate", "L", "A"};
  names.ptes = {"map", "flag"};
  names.pte_arrays.push_back({"range", int(names.ptes.size()), 512});
  for (int i = 0; i < 512; ++i) names.ptes.push_back("range[" + std::to_string(i) + "]");
  try {
    auto root = racewin::CNode::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz_path.yaml");
    (void)racewin::parse_path(root, names);
  } catch (const racewin::ConfigError& e) {
    racewin::fuzz::check_rejection(e);
  }
  return 0;
}

// Fuzz target: the scenario loader (load_scenario), as `racewin validate` and `run` call it.
// The input is a scenario file, written as configs/validation/fuzz.yaml of a scratch copy of the
// shipped configs/ and models/ (fuzz_support.hpp), so that its arch, hypervisor and path files are
// the shipped ones. A loaded scenario's resolved configuration is dumped as JSON, as the outputs
// are (invalid UTF-8 there was a failure after the run, review F2).
// A bug: see fuzz_support.hpp.
#include "config/scenario.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file = racewin::fuzz::write_input("configs/validation/fuzz.yaml", data, size);
  try {
    racewin::Scenario sc = racewin::load_scenario(file, {});
    for (const auto& c : sc.cases) (void)c.resolved.dump();
  } catch (const racewin::ConfigError& e) {
    racewin::fuzz::check_rejection(e);
  }
  return 0;
}

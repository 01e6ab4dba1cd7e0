// Fuzz target: the sweep file loader (load_sweep): its axes, ranges, samples, zips and
// sensitivity section, expanded into points. The input is a sweep file, written as
// configs/sweeps/fuzz.yaml of a scratch copy of the shipped configs/ and models/
// (fuzz_support.hpp). The points are not checked against the scenario (check_points false): that
// loads the scenario once per point, which the scenario target covers, and a 10^6-point grid
// would make one input take minutes.
// A bug: see fuzz_support.hpp.
#include "fuzz_support.hpp"
#include "sweep/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file = racewin::fuzz::write_input("configs/sweeps/fuzz.yaml", data, size);
  try {
    (void)racewin::load_sweep(file, false);
  } catch (const racewin::ConfigError& e) {
    racewin::fuzz::check_rejection(e);
  }
  return 0;
}

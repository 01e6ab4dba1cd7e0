#pragma once
// A calibration written as racewin reads it: a hypervisor profile (the stalls that are not the
// guest's tick, as steal processes) and an overlay of the architecture profile (the tick), every
// figure marked [M] with the probe file it came from, every assumption [E] with its range.
#include <string>

#include "calibrate/flush_fit.hpp"
#include "calibrate/probe_file.hpp"
#include "calibrate/stall_fit.hpp"

namespace racewin::calibrate {

struct Profiles {
  std::string hypervisor;    // a whole hypervisor profile (models/hypervisor/*.yaml)
  std::string arch_overlay;  // a case's keys over an arch profile (arch.interrupts.0...)
};

// `source` is how the profiles name the probe file (a path relative to where they are written).
// A flush by hypercall (`flush`) is written as the profile's remote_flush.
// Does the arch flush other CPUs' TLBs by broadcast (s390x's IPTE), with no IPI? A held target
// is then written as broadcast_sync, not remote_flush.
bool broadcast_arch(const std::string& arch);

Profiles write_profiles(const Probe& p, const StallFit& s, const std::string& source, const FlushFit& flush = {});

}  // namespace racewin::calibrate

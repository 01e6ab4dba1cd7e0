#pragma once
// Where racewin's shipped files are: models/, configs/ and the analysis package, whether racewin
// runs from its build tree or was installed (`cmake --install`, the .deb).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>

namespace racewin::cli {

// The directory holding the shipped models/ and configs/: PREFIX/share/racewin beside an installed
// binary, else the source tree the binary was built from; nothing if neither has configs/.
std::optional<std::filesystem::path> data_dir();
// The directory to put on PYTHONPATH for racewin_analysis: where `cmake --install` put it, else
// the source tree's analysis/.
std::optional<std::filesystem::path> python_dir();

// A file argument: taken as typed when it exists; else a relative path is looked up among the
// shipped files (DATA/configs/NAME, then DATA/NAME), so that `racewin run dirtyc0w_child.yaml`
// works from any directory. Taking a shipped file is said on stderr, never done silently.
CLI::Validator shipped_file();

}  // namespace racewin::cli

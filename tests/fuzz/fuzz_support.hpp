#pragma once
// What the fuzz targets share (tests/fuzz/README.md). A target feeds its input to one loader and
// counts as a bug anything but a normal return or a racewin::ConfigError: a crash, a sanitizer
// report, a leak, another exception escaping (the CLI catches only ConfigError, so that would be
// a SIGABRT), and a ConfigError whose message is not one line (the CLI promises one line naming
// file:line).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/error.hpp"

#ifndef RACEWIN_SOURCE_DIR
#error "RACEWIN_SOURCE_DIR: the source tree, for configs/ and models/ (tests/fuzz/CMakeLists.txt)"
#endif

namespace racewin::fuzz {

namespace fs = std::filesystem;

// A scratch directory laid out like the source tree (configs/ with real directories and the shipped
// files as symlinks, models/ a symlink), where an input is written as a file: the relative paths it
// names (../models/arch/x86_64.yaml, paths/race_owner.yaml, ../dirtyc0w_child.yaml) find the
// shipped files. racewin resolves them lexically, so the symlinks are never followed back.
// configs/models is a symlink too, so that a scenario of configs/ works from configs/validation/.
inline const fs::path& mirror() {
  // Never destroyed: the atexit handler below runs after the destructors of statics made later,
  // and this one is finished after the handler is registered.
  static const fs::path& root = *new fs::path([] {
    fs::path src = RACEWIN_SOURCE_DIR;
    fs::path m = fs::temp_directory_path() / ("racewin-fuzz-" + std::to_string(getpid()));
    fs::remove_all(m);
    for (auto it = fs::recursive_directory_iterator(src / "configs"); it != fs::recursive_directory_iterator(); ++it) {
      fs::path to = m / "configs" / fs::relative(it->path(), src / "configs");
      if (it->is_directory()) fs::create_directories(to);
      else fs::create_directories(to.parent_path()), fs::create_symlink(it->path(), to);
    }
    fs::create_directory_symlink(src / "models", m / "models");
    fs::create_directory_symlink(src / "models", m / "configs" / "models");
    std::atexit([] { std::error_code ec; fs::remove_all(mirror(), ec); });
    return m;
  }());
  return root;
}

// Writes the input as mirror()/rel; returns its path.
inline std::string write_input(const std::string& rel, const uint8_t* data, size_t size) {
  fs::path p = mirror() / rel;
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return p.string();
}

// A rejection as the CLI prints it must be one line.
inline void check_rejection(const ConfigError& e) {
  std::string m = e.what();
  if (m.find('\n') != std::string::npos || m.find('\r') != std::string::npos) {
    std::fprintf(stderr, "ConfigError message of more than one line:\n%s\n", m.c_str());
    std::abort();
  }
}

}  // namespace racewin::fuzz

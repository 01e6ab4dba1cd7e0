#include "cli/data_dir.hpp"

#include <unistd.h>

#include <iostream>
#include <system_error>

#include "base/install_dirs.hpp"

namespace racewin::cli {
namespace fs = std::filesystem;

namespace {

// The running binary's directory (/proc/self/exe: right after a rename or through a symlink too).
std::optional<fs::path> exe_dir() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return p.parent_path();
}

bool has_configs(const fs::path& d) {
  std::error_code ec;
  return fs::is_directory(d / "configs", ec) && fs::is_directory(d / "models", ec);
}

}  // namespace

std::optional<fs::path> data_dir() {
  if (auto e = exe_dir()) {
    fs::path installed = (*e / kRelativeDataDir).lexically_normal();
    if (has_configs(installed)) return installed;
  }
  if (has_configs(kSourceDir)) return fs::path(kSourceDir);
  return std::nullopt;
}

std::optional<fs::path> python_dir() {
  std::error_code ec;
  if (auto e = exe_dir()) {
    fs::path installed = (*e / kRelativePythonDir).lexically_normal();
    if (fs::is_directory(installed / "racewin_analysis", ec)) return installed;
  }
  fs::path src = fs::path(kSourceDir) / "analysis";
  if (fs::is_directory(src / "racewin_analysis", ec)) return src;
  return std::nullopt;
}

CLI::Validator shipped_file() {
  return CLI::Validator(
      [](std::string& file) -> std::string {
        std::error_code ec;
        fs::path typed(file);
        if (fs::exists(typed, ec)) {
          if (fs::is_directory(typed, ec)) return "'" + file + "' is a directory, not a YAML file";
          return "";
        }
        std::optional<fs::path> data = data_dir();
        if (typed.is_relative() && data)
          for (const fs::path& cand : {*data / "configs" / typed, *data / typed})
            if (fs::is_regular_file(cand, ec)) {
              std::cerr << "racewin: " << file << ": taking the shipped " << cand.string() << "\n";
              file = cand.string();
              return "";
            }
        std::string where = data ? " (nor among the shipped files in " + (*data / "configs").string() + ")" : "";
        return "File does not exist: " + file + where;
      },
      "FILE", "shipped_file");
}

}  // namespace racewin::cli

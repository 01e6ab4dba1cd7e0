#pragma once
// A sweep's output directory as `racewin sweep` and `racewin merge` read it: sweep.json, the point
// files and the table. Whatever is in a file, reading it never throws a JSON type error: a file
// that is not what racewin wrote is reported as such, naming it.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sweep/sweep_run.hpp"

namespace racewin::cli {

// The JSON object in file `p`; nothing if the file is missing, unreadable, not JSON or not an
// object (`problem`, if given, then says which, empty for a missing file).
std::optional<nlohmann::json> read_object(const std::filesystem::path& p, std::string* problem = nullptr);

// A finished point of the sweep of `fingerprint`: a point document whose fingerprint matches and
// whose checksum matches its content. Nothing if there is none; `problem` then says why a file
// that is there does not count (empty: no file, or another sweep's point).
struct PointFile {
  std::optional<nlohmann::json> doc;
  std::string problem;
  bool other_sweep = false;  // a well-formed point of another fingerprint
};
PointFile read_point(const std::filesystem::path& dir, size_t index, const std::string& fingerprint);

// sweep.json: what the directory holds; a sensitivity's settings too, so that `merge` can rank.
nlohmann::json header(const Sweep& sw, const std::string& fingerprint, const std::string& shard);
// Whether `h` is a header racewin wrote: the members header() writes, of their types.
bool valid_header(const nlohmann::json& h);
// A member of a JSON object as text for a message: a string as is, anything else as JSON, "?" if absent.
std::string field(const nlohmann::json& j, const char* key);

// The table from `points` (the sweep's, in index order), and for a sensitivity sweep the ranking,
// from sweep.json's settings. Throws OutputError.
void write_table(const std::filesystem::path& dir, const nlohmann::json& head, const std::vector<nlohmann::json>& points);

// Whether `dir` holds anything but what a sweep writes (sweep.json, points/, sweep.csv,
// sensitivity.csv, temporary files) or racewin report (report/), or hidden files: a directory
// `sweep` must not write into without --force.
// Returns the first such entry, or an empty string.
std::string foreign_entry(const std::filesystem::path& dir);

}  // namespace racewin::cli

#pragma once
// Output files written whole or not at all, and every write checked: a full disk, a read-only
// directory or a path under a file is an OutputError naming the file, never a truncated file
// reported as written.
#include <filesystem>
#include <stdexcept>
#include <string>

namespace racewin {

class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `text` to `path` through a temporary file beside it (written, flushed to disk, closed,
// then renamed into place): a reader (or a resumed sweep) sees the old file or the new one, never
// a part. A path that exists and is not a regular file (/dev/stdout, a FIFO, /dev/full) is written
// in place, its every write checked. Creates the parent directories. Throws OutputError; on error
// the temporary file is removed.
void write_atomic(const std::filesystem::path& path, const std::string& text);

// Creates `dir` (and its parents) and checks that a file can be created in it, before any work
// whose results would go there: throws OutputError naming the directory and the reason.
void ensure_writable_dir(const std::filesystem::path& dir);

}  // namespace racewin

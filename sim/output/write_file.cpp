#include "output/write_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace racewin {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& p, int err) {
  throw OutputError(fmt::format("cannot write {}: {}", p.string(), std::strerror(err)));
}

// Every byte of `text` to `fd`; false (errno set) on a short write that makes no progress.
bool write_all(int fd, const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      return false;
    }
    p += n, left -= size_t(n);
  }
  return true;
}

// `for_file`: the file about to be written there, which the message then names first.
void make_dirs(const fs::path& dir, const fs::path* for_file = nullptr) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw OutputError(fmt::format("{}cannot create directory {}: {}", for_file ? "cannot write " + for_file->string() + ": " : "",
                                  dir.string(), ec.message()));
}

// A special file (a terminal, a pipe, /dev/full) cannot be replaced by a rename, and must not be:
// it is written in place.
void write_in_place(const fs::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(path, errno);
  bool ok = write_all(fd, text);
  int err = errno;
  if (::close(fd) != 0 && ok) ok = false, err = errno;
  if (!ok) fail(path, err);
}

}  // namespace

void write_atomic(const fs::path& path, const std::string& text) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return write_in_place(path, text);
  make_dirs(path.parent_path(), &path);
  fs::path tmp = path;
  tmp += fmt::format(".{}.tmp", getpid());  // writers of the same file (Dask retries) never share one
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) fail(tmp, errno);
  // fsync before the rename: after a crash the new name never points at data not yet on disk.
  bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  int err = errno;
  if (::close(fd) != 0 && ok) ok = false, err = errno;
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) ok = false, err = errno;
  if (!ok) {
    ::unlink(tmp.c_str());
    fail(path, err);
  }
}

void ensure_writable_dir(const fs::path& dir) {
  make_dirs(dir);
  fs::path probe = dir / fmt::format(".racewin-probe.{}.tmp", getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw OutputError(fmt::format("cannot write into {}: {}", dir.string(), std::strerror(errno)));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace racewin

#include "nodes/repo_file.hpp"

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/error.hpp"

namespace gilgal {

namespace {

/// Closes a descriptor at the end of a scope.
class fd_guard {
public:
  explicit fd_guard(int fd = -1) noexcept : fd_(fd) {
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    reset();
  }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }
  int get() const noexcept {
    return fd_;
  }

private:
  int fd_;
};

/// The components of `relative`, or nothing when one is empty, "." or "..".
bool split_path(std::string_view relative, std::vector<std::string>& parts) {
  size_t start = 0;
  for (;;) {
    auto slash = relative.find('/', start);
    auto part = relative.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != part.npos)
      return false;
    parts.emplace_back(part);
    if (slash == std::string_view::npos)
      return true;
    start = slash + 1;
  }
}

struct located {
  fd_guard parent;        // the directory holding the last component
  std::string name;       // the last component
  struct stat st {};      // its lstat, when `found`
  bool found = false;
  bool through_link = false; // a parent component is not a plain directory
};

/// Walks to the last component of `relative`, opening each parent directory
/// with O_NOFOLLOW relative to the one before.
bool locate(const std::string& checkout, std::string_view relative, located& out) {
  std::vector<std::string> parts;
  if (!split_path(relative, parts))
    return false;
  out.parent.reset(::open(checkout.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (out.parent.get() < 0)
    return false;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int fd = ::openat(out.parent.get(), parts[i].c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      out.through_link = errno != ENOENT;
      out.found = false;
      return true;
    }
    out.parent.reset(fd);
  }
  out.name = parts.back();
  out.found = ::fstatat(out.parent.get(), out.name.c_str(), &out.st, AT_SYMLINK_NOFOLLOW) == 0;
  return true;
}

caf::error unsafe(std::string_view relative, const std::string& why) {
  return make_error(errc::build_failed,
                    std::string{relative} + ": " + why
                      + " (Gilgal reads only regular files inside the repository)");
}

std::string kind_of(mode_t mode) {
  if (S_ISLNK(mode))
    return "is a symbolic link";
  if (S_ISDIR(mode))
    return "is a directory";
  if (S_ISFIFO(mode))
    return "is a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "is a device";
  if (S_ISSOCK(mode))
    return "is a socket";
  return "is not a regular file";
}

std::string mib(size_t bytes) {
  return bytes % (size_t{1} << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                        : std::to_string(bytes) + " bytes";
}

} // namespace

repo_entry repo_entry_at(const std::string& checkout, std::string_view relative) {
  located at;
  if (!locate(checkout, relative, at) || at.through_link)
    return repo_entry::other;
  if (!at.found)
    return repo_entry::absent;
  if (S_ISREG(at.st.st_mode))
    return repo_entry::file;
  if (S_ISDIR(at.st.st_mode))
    return repo_entry::directory;
  if (S_ISLNK(at.st.st_mode))
    return repo_entry::symlink;
  return repo_entry::other;
}

caf::expected<std::string> read_repo_file(const std::string& checkout,
                                          std::string_view relative, size_t max_bytes) {
  located at;
  if (!locate(checkout, relative, at))
    return unsafe(relative, "is not a plain path inside the repository");
  if (at.through_link)
    return unsafe(relative, "lies below a symbolic link or a non-directory");
  if (!at.found)
    return make_error(errc::not_found, std::string{relative} + ": not found");
  if (!S_ISREG(at.st.st_mode))
    return unsafe(relative, kind_of(at.st.st_mode));
  auto too_large = [&] { return unsafe(relative, "is larger than " + mib(max_bytes)); };
  if (static_cast<uint64_t>(at.st.st_size) > max_bytes)
    return too_large();
  // O_NOFOLLOW and O_NONBLOCK: a swap for a link or a FIFO after the lstat
  // fails or returns at once instead of following or blocking.
  fd_guard fd{::openat(at.parent.get(), at.name.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
  if (fd.get() < 0)
    return unsafe(relative, std::string{"cannot be opened: "} + std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return unsafe(relative, "changed while it was read");
  std::string out;
  out.resize(std::min<size_t>(static_cast<size_t>(st.st_size), max_bytes) + 1);
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (used > max_bytes)
        return too_large(); // it grew since the stat
      out.resize(std::min(max_bytes + 1, out.size() * 2));
    }
    auto n = ::read(fd.get(), out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return unsafe(relative, std::string{"cannot be read: "} + std::strerror(errno));
    if (n == 0)
      break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes)
    return too_large();
  out.resize(used);
  return out;
}

} // namespace gilgal

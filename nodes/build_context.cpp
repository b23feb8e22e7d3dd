#include "nodes/build_context.hpp"

#include "nodes/ascii_text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fnmatch.h>
#include <fstream>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "nodes/repo_file.hpp"
#include "protocol/error.hpp"

namespace fs = std::filesystem;

namespace gilgal {

namespace {

// Output sink of the archive: appends to a string, refusing to grow past a limit.
struct sink {
  std::string data;
  size_t max_bytes;
  bool overflow = false;
};

la_ssize_t write_cb(struct archive*, void* ud, const void* buf, size_t n) {
  auto* s = static_cast<sink*>(ud);
  if (s->data.size() + n > s->max_bytes) {
    s->overflow = true;
    return -1;
  }
  s->data.append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

struct archive_deleter {
  void operator()(struct archive* a) const {
    archive_write_free(a);
  }
};

struct entry_deleter {
  void operator()(archive_entry* e) const {
    archive_entry_free(e);
  }
};

using archive_ptr = std::unique_ptr<struct archive, archive_deleter>;
using entry_ptr = std::unique_ptr<archive_entry, entry_deleter>;

class tar_writer {
public:
  explicit tar_writer(size_t max_bytes) : a_(archive_write_new()) {
    sink_.max_bytes = max_bytes;
  }

  caf::error open() {
    if (archive_write_set_format_pax_restricted(a_.get()) != ARCHIVE_OK
        || archive_write_set_bytes_in_last_block(a_.get(), 1) != ARCHIVE_OK
        || archive_write_open(a_.get(), &sink_, nullptr, write_cb, nullptr) != ARCHIVE_OK)
      return fail("opening the archive");
    return caf::none;
  }

  caf::error add_dir(const std::string& name, const struct stat& st) {
    auto e = make_entry(name, st);
    archive_entry_set_filetype(e.get(), AE_IFDIR);
    return header(e.get(), name);
  }

  caf::error add_symlink(const std::string& name, const std::string& target,
                         const struct stat& st) {
    auto e = make_entry(name, st);
    archive_entry_set_filetype(e.get(), AE_IFLNK);
    archive_entry_set_symlink(e.get(), target.c_str());
    archive_entry_set_size(e.get(), 0);
    return header(e.get(), name);
  }

  caf::error add_file(const std::string& name, const std::string& path,
                      const struct stat& st) {
    // Listed by lstat as a regular file; O_NOFOLLOW and O_NONBLOCK make a swap
    // for a link or a FIFO since then fail instead of following or blocking.
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
      return make_error(errc::internal, "cannot read build context file " + name + ": "
                                          + std::strerror(errno));
    struct stat now;
    if (::fstat(fd, &now) != 0 || !S_ISREG(now.st_mode) || now.st_size != st.st_size) {
      ::close(fd);
      return make_error(errc::internal, "build context file changed while reading: " + name);
    }
    auto e = make_entry(name, st);
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_size(e.get(), st.st_size);
    if (auto err = header(e.get(), name)) {
      ::close(fd);
      return err;
    }
    char buf[64 * 1024];
    int64_t left = st.st_size;
    while (left > 0) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        ::close(fd);
        return make_error(errc::internal,
                          "build context file changed while reading: " + name);
      }
      auto chunk = std::min<int64_t>(n, left);
      if (archive_write_data(a_.get(), buf, static_cast<size_t>(chunk)) < 0) {
        ::close(fd);
        return fail("writing " + name);
      }
      left -= chunk;
    }
    ::close(fd);
    return caf::none;
  }

  caf::error add_content(const std::string& name, const std::string& content) {
    entry_ptr e{archive_entry_new()};
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(e.get(), 0, 0);
    if (auto err = header(e.get(), name))
      return err;
    if (!content.empty()
        && archive_write_data(a_.get(), content.data(), content.size()) < 0)
      return fail("writing " + name);
    return caf::none;
  }

  caf::expected<std::string> close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK)
      return fail("closing the archive");
    return std::move(sink_.data);
  }

private:
  entry_ptr make_entry(const std::string& name, const struct stat& st) {
    entry_ptr e{archive_entry_new()};
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_perm(e.get(), st.st_mode & 07777);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    return e;
  }

  caf::error header(archive_entry* e, const std::string& name) {
    if (archive_write_header(a_.get(), e) != ARCHIVE_OK)
      return fail("writing the header of " + name);
    return caf::none;
  }

  caf::error fail(const std::string& what) {
    if (sink_.overflow)
      return make_error(errc::payload_too_large,
                        "build context exceeds " + std::to_string(sink_.max_bytes)
                          + " bytes");
    const char* msg = archive_error_string(a_.get());
    return make_error(errc::internal, "build context: " + what + ": "
                                        + (msg ? msg : "archive error"));
  }

  sink sink_;
  archive_ptr a_;
};

bool matches(const std::string& pattern, const std::string& path) {
  if (::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0)
    return true;
  // A pattern naming a directory excludes everything below it.
  for (auto pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1))
    if (::fnmatch(pattern.c_str(), path.substr(0, pos).c_str(), FNM_PATHNAME) == 0)
      return true;
  return false;
}

} // namespace

std::vector<std::string> parse_dockerignore(std::string_view text) {
  std::vector<std::string> result;
  std::istringstream in{std::string{text}};
  std::string line;
  while (std::getline(in, line)) {
    line = trim_blanks(line);
    if (line.empty() || line[0] == '#')
      continue;
    bool negate = line[0] == '!';
    if (negate)
      line = trim_blanks(line.substr(1));
    for (;;) {
      if (line.compare(0, 2, "./") == 0)
        line.erase(0, 2);
      else if (!line.empty() && line[0] == '/')
        line.erase(0, 1);
      else
        break;
    }
    while (!line.empty() && line.back() == '/')
      line.pop_back();
    if (line.empty() || line == ".")
      continue;
    // Only the line's first character makes a negation: a '!' uncovered by
    // the clean-up above ("./!x") is a literal one.
    if (line[0] == '!')
      line.insert(0, "\\");
    result.push_back(negate ? "!" + line : line);
  }
  return result;
}

bool is_ignored(const std::string& rel_path, const std::vector<std::string>& patterns) {
  if (rel_path == ".git" || rel_path.compare(0, 5, ".git/") == 0)
    return true;
  bool ignored = false;
  for (const auto& p : patterns) {
    if (!p.empty() && p[0] == '!') {
      if (ignored && matches(p.substr(1), rel_path))
        ignored = false;
    } else if (!ignored && matches(p, rel_path)) {
      ignored = true;
    }
  }
  return ignored;
}

caf::expected<std::string> make_build_context(const std::string& dir,
                                              const build_context_options& opts) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return make_error(errc::not_found, "build context directory not found: " + dir);
  std::vector<std::string> patterns;
  if (auto text = read_repo_file(dir, ".dockerignore"))
    patterns = parse_dockerignore(*text);
  else if (code_of(text.error()) != errc::not_found)
    return std::move(text.error());
  // Collect relative paths first, sorted, so the archive is deterministic.
  std::vector<std::string> paths;
  fs::recursive_directory_iterator it{dir, fs::directory_options::none, ec}, end;
  if (ec)
    return make_error(errc::internal, "cannot list build context " + dir + ": "
                                        + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec)
      return make_error(errc::internal, "cannot list build context " + dir + ": "
                                          + ec.message());
    auto rel = it->path().lexically_relative(dir).generic_string();
    bool keep_anyway = rel == opts.dockerfile || rel == ".dockerignore";
    if (opts.extra_files.count(rel) > 0) {
      if (it->is_directory(ec))
        it.disable_recursion_pending();
      continue; // replaced by the extra file
    }
    if (!keep_anyway && is_ignored(rel, patterns)) {
      // Keep descending only when a negated pattern could re-include something.
      bool has_negation = std::any_of(patterns.begin(), patterns.end(),
                                      [](const std::string& p) { return p[0] == '!'; });
      if (it->is_directory(ec) && (!has_negation || rel == ".git"))
        it.disable_recursion_pending();
      continue;
    }
    paths.push_back(std::move(rel));
  }
  std::sort(paths.begin(), paths.end());
  // The sizes are known before anything is read: a context over the limit
  // (a 2 GiB file, sparse or not) fails without being read into memory.
  uint64_t total = 0;
  for (const auto& rel : paths) {
    struct stat st;
    if (::lstat((dir + "/" + rel).c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<uint64_t>(st.st_size) + 512; // plus its tar header
  }
  for (const auto& [name, content] : opts.extra_files)
    total += content.size() + 512;
  if (total > opts.max_bytes)
    return make_error(errc::payload_too_large,
                      "build context exceeds " + std::to_string(opts.max_bytes >> 20)
                        + " MiB (the repository's files, less .dockerignore, hold "
                        + std::to_string(total >> 20) + " MiB)");
  tar_writer tar{opts.max_bytes};
  if (auto err = tar.open())
    return err;
  for (const auto& rel : paths) {
    auto full = dir + "/" + rel;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0)
      return make_error(errc::internal, "cannot stat build context file " + rel + ": "
                                          + std::strerror(errno));
    caf::error err;
    if (S_ISDIR(st.st_mode)) {
      err = tar.add_dir(rel + "/", st);
    } else if (S_ISREG(st.st_mode)) {
      err = tar.add_file(rel, full, st);
    } else if (S_ISLNK(st.st_mode)) {
      auto target = fs::read_symlink(full, ec);
      if (ec)
        return make_error(errc::internal, "cannot read symlink " + rel);
      err = tar.add_symlink(rel, target.string(), st);
    } // sockets, fifos and devices are skipped
    if (err)
      return err;
  }
  for (const auto& [name, content] : opts.extra_files)
    if (auto err = tar.add_content(name, content))
      return err;
  return tar.close();
}

} // namespace gilgal

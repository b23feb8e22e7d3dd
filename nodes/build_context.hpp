// A Docker build context: a directory tree written as an uncompressed tar
// archive in memory (libarchive), plus generated files that are not in the
// directory (e.g. a Dockerfile made from a recipe).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace gilgal {

struct build_context_options {
  /// Files added to (or replacing files of) the context: path inside the
  /// context (relative, '/'-separated) -> content. Written with mode 0644.
  std::map<std::string, std::string> extra_files;

  /// The Dockerfile's path inside the context; never excluded by .dockerignore.
  std::string dockerfile = "Dockerfile";

  /// Upper bound of the archive's size (it is held in memory);
  /// errc::payload_too_large beyond it, found before any file is read.
  size_t max_bytes = size_t{512} << 20;
};

/// Reads the patterns of a .dockerignore text: one per line, '#' comments and
/// blank lines skipped, leading "/" and "./" and trailing "/" removed, a leading
/// '!' re-includes. Exposed for tests.
std::vector<std::string> parse_dockerignore(std::string_view text);

/// True when `rel_path` (relative, '/'-separated) is excluded by `patterns`
/// (fnmatch globs, last match wins; a pattern matching a directory excludes
/// everything below it). ".git" at the top is always excluded.
bool is_ignored(const std::string& rel_path, const std::vector<std::string>& patterns);

/// Writes `dir` as a tar archive (regular files, directories and symlinks;
/// owner 0:0; other file types skipped), honouring `dir`/.dockerignore, then
/// the extra files. errc::not_found when `dir` is not a directory,
/// errc::build_failed when .dockerignore is not a regular file of at most
/// 1 MiB (nodes/repo_file), errc::payload_too_large past opts.max_bytes,
/// errc::internal on read or archive errors (the message names the path).
caf::expected<std::string> make_build_context(const std::string& dir,
                                              const build_context_options& opts = {});

} // namespace gilgal

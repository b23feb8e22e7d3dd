// Reading files of a checked-out repository, which its author controls: only
// regular files inside the checkout, found with lstat and opened without
// following any symbolic link (not even in a parent directory), each capped.
// A link to /dev/zero or /etc/shadow, a FIFO, a device or a huge file is a
// clear error, never a hang, a read outside the checkout or a memory spike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace gilgal {

/// The most Gilgal reads of any one repository file (manifests, Procfile,
/// .dockerignore, Dockerfile).
constexpr size_t repo_file_max_bytes = size_t{1} << 20;

/// What is at a path of the checkout, by lstat (a link is not followed).
enum class repo_entry { absent, file, directory, symlink, other };

/// `relative` is '/'-separated, below `checkout`; a path with an empty, "."
/// or ".." component, or one through a link or non-directory, is `other`.
repo_entry repo_entry_at(const std::string& checkout, std::string_view relative);

/// The content of the regular file `relative` below `checkout`.
/// errc::not_found when nothing is there (optional files are then absent);
/// errc::build_failed when it is a symbolic link, a FIFO, a device, a
/// directory, or larger than `max_bytes` — the message names the file and the
/// reason, fit for the deployment log.
caf::expected<std::string> read_repo_file(const std::string& checkout,
                                          std::string_view relative,
                                          size_t max_bytes = repo_file_max_bytes);

} // namespace gilgal

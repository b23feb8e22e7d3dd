// What a build node reports is checked before the control plane acts on it: a
// node is trusted only with what it was given. The image a deployment runs is
// named after its own project and the commit that was built, and an image
// pushed for the handoff lives in that project's repository of a registry
// (the node that pulls it refuses any host but its configured registry).
#pragma once

#include <map>
#include <string>

#include <caf/expected.hpp>

#include "protocol/messages.hpp"

namespace gilgal {

/// Checks `res` for a deployment of `project_id` that asked for commit
/// `requested` (a branch, a full or short sha, or empty) with the environment's
/// `build_variables`:
/// - commit_sha is 40 lower-case hex digits and, when `requested` is a hex
///   sha, starts with it;
/// - image_name is image_name_for(project_id, commit_sha, build_variables), i.e.
///   gilgal-<project8>-<commit8>[-<build variables tag>];
/// - registry_image is empty or "<registry host[:port][/path]>/<project_id>:
///   <commit8>[-<build variables tag>]", the host made of letters, digits, '.',
///   '-', ':' and '/'.
/// errc::build_failed naming what the node got wrong (quoting at most 100
/// printable characters of it).
caf::expected<void> check_build_result(const build_result& res, const std::string& project_id,
                                       const std::string& requested,
                                       const std::map<std::string, std::string>& build_variables
                                       = {});

} // namespace gilgal

// Disk housekeeping for the images Gilgal builds. Only images carrying the
// label gilgal.project are ever considered; nothing else on the host is
// touched.
#pragma once

#include <set>
#include <string>

#include <caf/expected.hpp>

#include "nodes/docker_types.hpp"

namespace gilgal {

class docker_client;

/// "gilgal-abc-def" for "gilgal-abc-def:latest", "127.0.0.1:5000/p" for
/// "127.0.0.1:5000/p:1a2b3c4d" (a registry port is not a tag).
std::string repository_of(const std::string& reference);

/// Removes the images labelled gilgal.project=`project_id` that no container
/// (running or not) uses and none of whose references is kept: a reference is
/// kept when `keep` holds it whole ("name:tag") or its repository ("name").
/// Tags are removed one by one without force, so Docker itself refuses to
/// delete an image a container was created from. Returns how many images
/// were deleted; an image that could not be removed is skipped.
caf::expected<int64_t> remove_unretained_images(docker_client& docker,
                                                const std::string& project_id,
                                                const std::set<std::string>& keep);

/// Prunes dangling images (untagged: superseded builds, intermediate layers)
/// that carry the gilgal.project label.
caf::expected<prune_result> prune_dangling_images(docker_client& docker);

} // namespace gilgal

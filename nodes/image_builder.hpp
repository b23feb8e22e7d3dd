// The builder's blocking work for one job: fetch the commit, detect the
// framework, render the Dockerfile, and build it through the Engine API — or
// reuse the image of the same project, commit and build inputs
// (nodes/build_inputs) when it exists: with a full commit sha (or a branch,
// once its head is resolved) nothing is fetched then. The checkout is removed
// whatever happens.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/node_settings.hpp"
#include "protocol/messages.hpp"

namespace gilgal {

/// Receives (level, message) lines for the deployment log.
using log_function = std::function<void(const std::string&, const std::string&)>;

/// "gilgal-<first 8 of project id>-<first 8 of commit>", plus
/// "-<build_variables_tag>" when the build has build variables (another set of
/// values is another image of the same commit).
std::string image_name_for(const std::string& project_id, const std::string& commit_sha,
                           const std::map<std::string, std::string>& build_variables = {});

/// The first 8 hex digits of a digest of the build variables (names and
/// values), or "" when there are none.
std::string build_variables_tag(const std::map<std::string, std::string>& build_variables);

/// Runs the whole build. Errors: build_failed (with Docker's output already
/// logged), unavailable (git remote or Docker unreachable), not_found (branch
/// or commit), cancelled (abort fired), timeout.
caf::expected<build_result> build_image(const build_job& job, const node_settings& node,
                                        docker_client& docker,
                                        const std::shared_ptr<abort_signal>& abort,
                                        const log_function& log);

} // namespace gilgal

// Loading records on behalf of a user. Another user's record is errc::not_found,
// exactly as a missing or soft-deleted one (never "forbidden"), so ids of other
// users' records cannot be probed.
#pragma once

#include <string>

#include <caf/expected.hpp>

#include "http/request_context.hpp"

namespace gilgal {

/// The live project `id` owned by ctx.user_id.
caf::expected<project> owned_project(request_context& ctx, const std::string& id);

/// The live environment `id` whose live project is owned by ctx.user_id;
/// `owner_project` (if given) receives that project.
caf::expected<environment> owned_environment(request_context& ctx, const std::string& id,
                                             project* owner_project = nullptr);

} // namespace gilgal

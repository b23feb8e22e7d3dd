// Loading a deployment on behalf of a user: another user's deployment is
// errc::not_found, exactly as a missing one.
#pragma once

#include <caf/expected.hpp>

#include "http/request_context.hpp"

namespace gilgal {

caf::expected<deployment> owned_deployment(request_context& ctx, const std::string& id);

} // namespace gilgal

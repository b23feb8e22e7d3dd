// Bearer-token authentication of /api requests.
#pragma once

#include <string>

#include <caf/expected.hpp>

#include "storage/store.hpp"

namespace gilgal {

/// The id of the user owning the token in `authorization` (the header's value,
/// "Bearer glg_..."). errc::unauthorized when it is missing, malformed, unknown
/// or wrong (one message for all, compared in constant time); errc::unavailable
/// when the store cannot be reached.
caf::expected<std::string> authenticate(store& db, const std::string& authorization);

} // namespace gilgal

// Bearer-token authentication of /api requests.
#pragma once

#include <string>

#include <caf/expected.hpp>

#include "http/auth_cache.hpp"
#include "storage/store.hpp"

namespace gilgal {

/// The id of the user owning the token in `authorization` (the header's value,
/// "Bearer glg_..."). errc::unauthorized when it is missing, malformed, unknown,
/// revoked or wrong (one message for all, compared in constant time);
/// errc::unavailable when the store cannot be reached. Token records come
/// through `cache` (a revocation takes effect within its ttl).
caf::expected<std::string> authenticate(store& db, token_cache& cache,
                                        const std::string& authorization);

/// The token in `authorization` ("Bearer TOKEN", scheme case-insensitive), or
/// empty if the header has another shape.
std::string bearer_token(const std::string& authorization);

} // namespace gilgal

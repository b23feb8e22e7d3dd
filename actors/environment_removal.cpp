#include "actors/environment_removal.hpp"

#include <caf/send.hpp>

#include "protocol/error.hpp"

namespace gilgal {

caf::error remove_environment(const environment_removal& with,
                              const std::string& environment_id) {
  if (!with.db)
    return make_error(errc::unavailable, "the store is not available");
  if (auto res = with.db->delete_environment(environment_id); !res)
    return std::move(res.error());
  // The router derives routes from the store: the deleted one's goes.
  if (with.router)
    caf::anon_send(with.router, reconcile_atom::value);
  return {};
}

} // namespace gilgal

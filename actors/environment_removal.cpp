#include "actors/environment_removal.hpp"

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "protocol/error.hpp"
#include "protocol/timeouts.hpp"

namespace gilgal {

caf::error end_environment_runtime(const environment_removal& with,
                                   const std::string& environment_id) {
  if (!with.manager || !with.sys)
    return make_error(errc::unavailable, "the deployment engine is not running: cannot stop "
                                         "the environment's containers");
  caf::scoped_actor self{*with.sys};
  caf::error failure;
  self->request(with.manager, timeouts::environment_removal + timeouts::actor_question,
                remove_atom::value, environment_id)
    .receive([](int64_t) {}, [&](caf::error& err) { failure = std::move(err); });
  if (!failure)
    return {};
  if (failure == caf::sec::request_timeout)
    return make_error(errc::timeout, "the environment's containers did not stop in time");
  return make_error(errc::unavailable, "could not remove the environment's containers: "
                                         + message_of(failure));
}

caf::error remove_environment(const environment_removal& with,
                              const std::string& environment_id) {
  if (!with.db)
    return make_error(errc::unavailable, "the store is not available");
  if (auto err = end_environment_runtime(with, environment_id))
    return err;
  if (auto res = with.db->delete_environment(environment_id); !res)
    return std::move(res.error());
  // The router derives routes from the store: the deleted one's goes.
  if (with.router)
    caf::anon_send(with.router, reconcile_atom::value);
  return {};
}

} // namespace gilgal

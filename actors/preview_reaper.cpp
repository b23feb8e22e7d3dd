#include "actors/preview_reaper.hpp"

#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "protocol/type_ids.hpp"

namespace gilgal {

namespace {

/// A reap should take seconds; past this its worker is given up on.
constexpr auto reap_limit = std::chrono::minutes{10};

/// One reap, blocking: removes every idle preview; returns how many went.
int64_t reap_idle_previews(const preview_reaper_config& cfg) {
  auto previews = cfg.db->list_preview_activity();
  if (!previews) {
    spdlog::warn("preview reaper: cannot list previews: {}", message_of(previews.error()));
    return 0;
  }
  auto now = std::chrono::system_clock::now();
  int64_t removed = 0;
  for (auto& p : *previews) {
    if (p.busy || !preview_idle(p.last_activity_at, p.ttl_hours, now))
      continue;
    if (auto err = cfg.remove(p.environment_id)) {
      if (code_of(err) != errc::not_found) // removed meanwhile: nothing to do
        spdlog::warn("preview reaper: cannot remove preview {} ({}) of project {}: {}", p.name,
                     p.environment_id, p.project_id, message_of(err));
      continue;
    }
    ++removed;
    spdlog::info("preview reaper: removed preview {} ({}) of project {}: idle since {} "
                 "(ttl {} h)",
                 p.name, p.environment_id, p.project_id, p.last_activity_at, p.ttl_hours);
  }
  return removed;
}

struct reaper_state {
  static inline const char* name = "preview_reaper";
  bool busy = false;
  /// Asked during the running reap: answered by the next one.
  std::vector<caf::typed_response_promise<int64_t>> next;
  /// Answered when the running reap ends.
  std::vector<caf::typed_response_promise<int64_t>> current;
};

using reaper_pointer = preview_reaper_actor::stateful_pointer<reaper_state>;

void start_reap(reaper_pointer self, const preview_reaper_config& cfg) {
  self->state.busy = true;
  self->state.current = std::move(self->state.next);
  self->state.next.clear();
  auto worker = self->spawn<caf::detached>([cfg](caf::event_based_actor* me) -> caf::behavior {
    return {[me, cfg](prune_atom) -> int64_t {
      me->quit();
      return reap_idle_previews(cfg);
    }};
  });
  auto finish = [self, cfg](int64_t removed) {
    for (auto& p : self->state.current)
      p.deliver(removed);
    self->state.current.clear();
    self->state.busy = false;
    if (!self->state.next.empty())
      start_reap(self, cfg);
  };
  self->request(worker, reap_limit, prune_atom::value)
    .then([finish](int64_t removed) { finish(removed); },
          [finish](caf::error& err) {
            spdlog::warn("preview reaper: reap failed: {}", message_of(err));
            finish(0);
          });
}

preview_reaper_actor::behavior_type preview_reaper(reaper_pointer self,
                                                   preview_reaper_config cfg) {
  if (cfg.interval.count() > 0)
    self->delayed_send(self, cfg.interval, tick_atom::value);
  return {
    [self, cfg](prune_atom) -> caf::typed_response_promise<int64_t> {
      auto promise = self->make_response_promise<int64_t>();
      self->state.next.push_back(promise);
      if (!self->state.busy)
        start_reap(self, cfg);
      return promise;
    },
    [self, cfg](tick_atom) {
      self->delayed_send(self, cfg.interval, tick_atom::value);
      if (!self->state.busy)
        start_reap(self, cfg);
    },
  };
}

} // namespace

bool preview_idle(const std::string& last_activity_at, double ttl_hours,
                  std::chrono::system_clock::time_point now) {
  std::chrono::system_clock::time_point last;
  if (ttl_hours <= 0 || !parse_rfc3339(last_activity_at, last))
    return false;
  auto ttl = std::chrono::duration<double, std::ratio<3600>>{ttl_hours};
  return now - last > std::chrono::duration_cast<std::chrono::system_clock::duration>(ttl);
}

preview_reaper_actor spawn_preview_reaper(caf::actor_system& sys, preview_reaper_config cfg) {
  return sys.spawn(preview_reaper, std::move(cfg));
}

} // namespace gilgal

#include "actors/node.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/container_watcher.hpp"
#include "actors/image_janitor.hpp"

#include "nodes/container_control.hpp"
#include "nodes/container_health.hpp"
#include "nodes/container_logs.hpp"
#include "nodes/container_runner.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/image_retention.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

/// A detached worker for blocking container operations.
using container_op_actor = caf::typed_actor<
  caf::replies_to<stop_atom, std::string>::with<bool>,
  // Lists what a retire stops (it stops nothing itself).
  caf::replies_to<retire_atom, std::string, std::string>::with<std::vector<std::string>>,
  caf::replies_to<list_atom>::with<std::map<std::string, std::string>>,
  caf::replies_to<health_atom, std::string>::with<container_health>,
  caf::replies_to<retain_atom, std::string, std::set<std::string>>::with<int64_t>,
  caf::replies_to<logs_atom, std::string, container_log_query>::with<container_log_batch>,
  caf::replies_to<control_atom, container_command>::with<container_health>>;

/// A worker of the node's pool serves one operation after another; a one-shot
/// worker (a log read, which may wait for lines) quits after its one.
container_op_actor::behavior_type container_op(container_op_actor::pointer self,
                                               std::shared_ptr<const node_resources> res,
                                               bool one_shot) {
  auto done = [self, one_shot] {
    if (one_shot)
      self->quit();
  };
  return {
    [done, res](stop_atom, const std::string& id) -> caf::result<bool> {
      done();
      auto r = remove_container_and_port(id, *res->docker, *res->ports);
      if (!r)
        return r.error();
      return *r;
    },
    [done, res](retire_atom, const std::string& env,
                const std::string& keep) -> caf::result<std::vector<std::string>> {
      done();
      auto r = containers_to_retire(env, keep, *res->docker);
      if (!r)
        return r.error();
      return std::move(*r);
    },
    [done, res](list_atom) -> caf::result<std::map<std::string, std::string>> {
      done();
      auto r = list_managed_containers(*res->docker);
      if (!r)
        return r.error();
      return std::move(*r);
    },
    [done, res](health_atom, const std::string& id) -> caf::result<container_health> {
      done();
      auto r = container_health_of(*res->docker, id);
      if (!r)
        return r.error();
      return std::move(*r);
    },
    [done, res](retain_atom, const std::string& project_id,
                const std::set<std::string>& keep) -> caf::result<int64_t> {
      done();
      auto r = remove_unretained_images(*res->docker, project_id, keep);
      if (!r)
        return r.error();
      return *r;
    },
    [done, res](logs_atom, const std::string& id,
                const container_log_query& query) -> caf::result<container_log_batch> {
      done();
      auto r = read_container_logs(*res->docker, id, query);
      if (!r)
        return r.error();
      return std::move(*r);
    },
    [done, res](control_atom, const container_command& cmd) -> caf::result<container_health> {
      done();
      auto r = control_container(res->node, *res->docker, cmd);
      if (!r)
        return r.error();
      return std::move(*r);
    },
  };
}

/// The node's blocking container operations run on at most `limit` detached
/// workers, spawned as needed and kept; an operation waits in `waiting` while
/// all are busy. (A log read is not pooled: it may wait for lines, and the
/// HTTP edge caps the followers.)
struct worker_pool {
  size_t limit = 0;
  size_t spawned = 0;
  std::vector<container_op_actor> idle;
  std::deque<std::function<void(container_op_actor)>> waiting;
};

void release(const std::shared_ptr<worker_pool>& pool, container_op_actor worker) {
  if (pool->waiting.empty()) {
    pool->idle.push_back(std::move(worker));
    return;
  }
  auto next = std::move(pool->waiting.front());
  pool->waiting.pop_front();
  next(std::move(worker));
}

/// Runs `xs...` on a worker of the pool; its answer (a T or an error) goes to
/// `on_answer`, called in the node.
template <class T, class OnAnswer, class... Ts>
void run_on_pool(node_actor::pointer self, const std::shared_ptr<worker_pool>& pool,
                 const std::shared_ptr<const node_resources>& res, OnAnswer on_answer,
                 Ts... xs) {
  auto job = [self, pool, on_answer, xs...](container_op_actor worker) mutable {
    self->request(worker, caf::infinite, xs...)
      .then(
        [pool, on_answer, worker](T& answer) mutable {
          on_answer(caf::expected<T>{std::move(answer)});
          release(pool, worker);
        },
        [pool, on_answer, worker](caf::error& err) mutable {
          on_answer(caf::expected<T>{std::move(err)});
          release(pool, worker);
        });
  };
  if (!pool->idle.empty()) {
    auto worker = std::move(pool->idle.back());
    pool->idle.pop_back();
    job(std::move(worker));
  } else if (pool->spawned < pool->limit) {
    ++pool->spawned;
    job(self->spawn<caf::detached + caf::linked>(container_op, res, false));
  } else {
    pool->waiting.push_back(std::move(job));
  }
}

/// Runs `xs...` on a worker of the pool; the answer goes to the node's caller.
template <class T, class... Ts>
caf::result<T> on_pool(node_actor::pointer self, const std::shared_ptr<worker_pool>& pool,
                       const std::shared_ptr<const node_resources>& res, Ts... xs) {
  auto rp = self->make_response_promise<T>();
  run_on_pool<T>(
    self, pool, res,
    [rp](caf::expected<T> answer) mutable {
      if (answer)
        rp.deliver(std::move(*answer));
      else
        rp.deliver(std::move(answer.error()));
    },
    std::move(xs)...);
  return rp;
}

/// Retires the environment's containers but `keep`, stopping and removing
/// them on the pool. When a container is kept (a new live one replaces them),
/// the answer (how many) comes once they are listed: the caller's next
/// container of the environment, created after it, is never among them, and
/// nobody waits for a `docker stop` (it lets the app finish its requests, up
/// to 10 s). With none kept (the environment goes), the answer (how many were
/// removed) comes once they are gone.
caf::result<int64_t> retire(node_actor::pointer self, const std::shared_ptr<worker_pool>& pool,
                            const std::shared_ptr<const node_resources>& res,
                            const std::string& env, const std::string& keep) {
  auto rp = self->make_response_promise<int64_t>();
  bool answer_at_once = !keep.empty();
  run_on_pool<std::vector<std::string>>(
    self, pool, res,
    [self, pool, res, rp, answer_at_once](caf::expected<std::vector<std::string>> ids) mutable {
      if (!ids) {
        rp.deliver(std::move(ids.error()));
        return;
      }
      if (answer_at_once || ids->empty()) {
        rp.deliver(static_cast<int64_t>(ids->size()));
        answer_at_once = true;
      }
      struct progress {
        size_t left;
        int64_t removed = 0;
      };
      auto p = std::make_shared<progress>(progress{ids->size()});
      for (auto& id : *ids)
        run_on_pool<bool>(
          self, pool, res,
          [id, p, rp, answer_at_once](caf::expected<bool> stopped) mutable {
            if (!stopped)
              spdlog::warn("could not stop the replaced container {}: {}", id.substr(0, 12),
                           message_of(stopped.error()));
            else if (*stopped)
              ++p->removed;
            if (--p->left == 0 && !answer_at_once)
              rp.deliver(p->removed);
          },
          stop_atom::value, id);
    },
    retire_atom::value, env, keep);
  return rp;
}

} // namespace

node_actor::behavior_type node(node_actor::pointer self,
                               std::shared_ptr<const node_resources> res) {
  if (res->node.housekeeping) {
    auto watcher = spawn_container_watcher(self->system(), {res->docker, res->log});
    auto janitor = spawn_image_janitor(
      self->system(), res->docker,
      std::chrono::seconds{res->node.cfg.image_prune_interval_seconds});
    // They end with the node, whatever its exit reason.
    self->attach_functor([watcher, janitor](const caf::error&) {
      caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(janitor, caf::exit_reason::user_shutdown);
    });
  }
  auto pool = std::make_shared<worker_pool>();
  pool->limit = static_cast<size_t>(std::max(1, res->node.worker_threads));
  return {
    [self, res](new_atom, build_atom) -> builder_actor {
      return self->spawn(builder, res);
    },
    [self, res](new_atom, run_atom) -> runner_actor {
      return self->spawn(runner, res);
    },
    [self, res, pool](stop_atom, const std::string& id) -> caf::result<bool> {
      return on_pool<bool>(self, pool, res, stop_atom::value, id);
    },
    [self, res, pool](retire_atom, const std::string& env,
                      const std::string& keep) -> caf::result<int64_t> {
      return retire(self, pool, res, env, keep);
    },
    [self, res, pool](list_atom) -> caf::result<std::map<std::string, std::string>> {
      return on_pool<std::map<std::string, std::string>>(self, pool, res, list_atom::value);
    },
    [self, res, pool](health_atom, const std::string& id) -> caf::result<container_health> {
      return on_pool<container_health>(self, pool, res, health_atom::value, id);
    },
    [self, res, pool](retain_atom, const std::string& project_id,
                      const std::set<std::string>& keep) -> caf::result<int64_t> {
      return on_pool<int64_t>(self, pool, res, retain_atom::value, project_id, keep);
    },
    [self, res](logs_atom, const std::string& id,
                const container_log_query& query) -> caf::result<container_log_batch> {
      auto op = self->spawn<caf::detached>(container_op, res, true);
      return self->delegate(op, logs_atom::value, id, query);
    },
    [self, res, pool](control_atom, const container_command& cmd) -> caf::result<container_health> {
      return on_pool<container_health>(self, pool, res, control_atom::value, cmd);
    },
  };
}

node_actor spawn_node(caf::actor_system& sys, node_settings settings, logger_actor log) {
  auto res = std::make_shared<node_resources>();
  res->ports = std::make_shared<port_allocator>(settings.cfg.bind_address,
                                                settings.cfg.port_range_begin,
                                                settings.cfg.port_range_end);
  res->docker = std::make_shared<docker_client>(settings.cfg.docker_host);
  res->node = std::move(settings);
  res->log = std::move(log);
  return sys.spawn(node, std::shared_ptr<const node_resources>(std::move(res)));
}

} // namespace gilgal

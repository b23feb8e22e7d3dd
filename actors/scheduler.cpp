#include "actors/scheduler.hpp"

#include <memory>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/system_messages.hpp>
#include <spdlog/spdlog.h>

#include "actors/guarded_actor.hpp"
#include "actors/metrics.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "protocol/timeouts.hpp"

namespace gilgal {

bool scheduler_load_order::operator()(const scheduler_load_key& a,
                                      const scheduler_load_key& b) const {
  // a.builds / a.capacity < b.builds / b.capacity, without division.
  auto lhs = a.builds * b.capacity;
  auto rhs = b.builds * a.capacity;
  if (lhs != rhs)
    return lhs < rhs;
  if (a.runs != b.runs)
    return a.runs < b.runs;
  return a.node->info.name < b.node->info.name;
}

namespace {

using self_ptr = scheduler_actor::stateful_pointer<scheduler_state>;
using label_map = std::map<std::string, std::string>;

bool has_labels(const label_map& have, const label_map& want) {
  for (auto& [k, v] : want) {
    auto i = have.find(k);
    if (i == have.end() || i->second != v)
      return false;
  }
  return true;
}

bool has_free_slot(const scheduler_node& n) {
  return n.up && static_cast<int64_t>(n.builds.size()) < n.info.capacity;
}

/// Puts the node at its place in free_nodes (or out of it) after a change of
/// its state, builds or runs.
void reindex(scheduler_state& st, scheduler_node& n) {
  if (n.indexed) {
    st.free_nodes.erase(n.key);
    n.indexed = false;
  }
  if (!has_free_slot(n))
    return;
  n.key = scheduler_load_key{static_cast<int64_t>(n.builds.size()), n.info.capacity,
                             static_cast<int64_t>(n.runs.size()), &n};
  st.free_nodes.insert(n.key);
  n.indexed = true;
}

/// The least loaded up node with a free slot whose labels include `want`.
scheduler_node* pick_build_node(scheduler_state& st, const label_map& want) {
  for (auto& key : st.free_nodes) {
    auto* n = const_cast<scheduler_node*>(key.node);
    if (want.empty() || has_labels(n->info.labels, want))
      return n;
  }
  return nullptr;
}

/// Makes `owner` the actor told about job `id` (and monitored for its exit).
void set_owner(self_ptr self, const std::string& id, scheduler_job& job,
               const deployment_actor& owner) {
  auto& st = self->state;
  if (job.owner == owner)
    return;
  if (job.owner) {
    auto i = st.by_owner.find(job.owner.address());
    if (i != st.by_owner.end()) {
      i->second.erase(id);
      if (i->second.empty()) {
        self->demonitor(job.owner.address());
        st.by_owner.erase(i);
      }
    }
  }
  job.owner = owner;
  if (!owner)
    return;
  auto& ids = st.by_owner[owner.address()];
  if (ids.empty())
    self->monitor(owner);
  ids.insert(id);
}

/// Drops the record of a job that holds nothing any more.
void forget_if_idle(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto i = st.jobs.find(id);
  if (i == st.jobs.end())
    return;
  auto& job = i->second;
  if (!job.build_node.empty() || !job.run_node.empty() || job.queued)
    return;
  set_owner(self, id, job, deployment_actor{});
  st.jobs.erase(i);
}

/// Frees the build slot job `id` holds (if any). True if one was freed.
bool free_build_slot(scheduler_state& st, const std::string& id, scheduler_job& job) {
  if (job.build_node.empty())
    return false;
  auto n = st.nodes.find(job.build_node);
  job.build_node.clear();
  if (n == st.nodes.end() || n->second.builds.erase(id) == 0)
    return false;
  reindex(st, n->second);
  return true;
}

void free_run(scheduler_state& st, const std::string& id, scheduler_job& job) {
  if (job.run_node.empty())
    return;
  auto n = st.nodes.find(job.run_node);
  job.run_node.clear();
  if (n != st.nodes.end() && n->second.runs.erase(id) > 0)
    reindex(st, n->second);
}

placement take_build_slot(scheduler_state& st, const std::string& id, scheduler_job& job,
                          scheduler_node& n) {
  n.builds.insert(id);
  reindex(st, n);
  job.build_node = n.info.name;
  return placement{n.info.name, n.handle};
}

/// Removes job `id` from the wait queue; its pending request gets `why`.
void unqueue(scheduler_state& st, const std::string& id, caf::error why) {
  auto q = st.queued.find(id);
  if (q == st.queued.end())
    return;
  auto entry = q->second;
  st.queued.erase(q);
  entry->promise.deliver(std::move(why));
  st.queue.erase(entry);
  metrics::set_queue_length(static_cast<int64_t>(st.queue.size()));
  auto j = st.jobs.find(id);
  if (j != st.jobs.end())
    j->second.queued = false;
}

/// Hands free slots to waiting builds, in queue order. A build no free node
/// matches stays and lets later ones through.
void serve_queue(scheduler_state& st) {
  for (auto it = st.queue.begin(); it != st.queue.end() && !st.free_nodes.empty();) {
    auto* n = pick_build_node(st, it->labels);
    if (n == nullptr) {
      ++it;
      continue;
    }
    auto& job = st.jobs[it->id];
    job.queued = false;
    auto where = take_build_slot(st, it->id, job, *n);
    it->promise.deliver(std::move(where));
    st.queued.erase(it->id);
    it = st.queue.erase(it);
  }
  metrics::set_queue_length(static_cast<int64_t>(st.queue.size()));
}

/// The node is down: every deployment placed on it is told, its slots freed.
void mark_down(self_ptr self, scheduler_node& n, const std::string& why) {
  auto& st = self->state;
  n.up = false;
  reindex(st, n);
  std::set<std::string> placed(n.builds.begin(), n.builds.end());
  placed.insert(n.runs.begin(), n.runs.end());
  n.builds.clear();
  n.runs.clear();
  for (auto& id : placed) {
    auto j = st.jobs.find(id);
    if (j == st.jobs.end())
      continue;
    auto& job = j->second;
    if (job.build_node == n.info.name)
      job.build_node.clear();
    if (job.run_node == n.info.name)
      job.run_node.clear();
    if (job.owner)
      self->send(job.owner, lost_atom::value, n.info.name);
    forget_if_idle(self, id);
  }
  if (n.handle) {
    st.node_by_addr.erase(n.handle.address());
    self->demonitor(n.handle.address());
  }
  spdlog::warn("scheduler: node {} is down ({}); {} deployment(s) placed on it lost",
               n.info.name, why, placed.size());
}

/// Forgets everything job `id` holds: its slot, its run, its queue place.
void release(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto j = st.jobs.find(id);
  if (j == st.jobs.end())
    return;
  auto& job = j->second;
  unqueue(st, id, make_error(errc::cancelled, "deployment " + id + " released its request"));
  bool freed = free_build_slot(st, id, job);
  free_run(st, id, job);
  forget_if_idle(self, id);
  if (freed)
    serve_queue(st);
}

node_status status_of(const scheduler_node& n) {
  node_status s;
  s.name = n.info.name;
  s.state = n.up ? "up" : "down";
  s.capacity = n.info.capacity;
  s.running_builds = static_cast<int64_t>(n.builds.size());
  s.running_runs = static_cast<int64_t>(n.runs.size());
  s.labels = n.info.labels;
  s.address = n.info.address;
  // A local node never sends heartbeats: while it is up, it is alive now.
  s.last_heartbeat = n.local && n.up ? now_rfc3339() : to_rfc3339(n.last_heartbeat);
  s.joined_at = to_rfc3339(n.joined_at);
  s.local = n.local;
  return s;
}

/// One housekeeping request sent to every up node, the replies combined.
template <class T>
struct fanout {
  caf::typed_response_promise<T> promise;
  size_t pending = 0;
  T acc{};
  bool any_ok = false;
  bool done = false;
  caf::error err; // the first error; a not_found gives way to any other

  void finish() {
    done = true;
    if (any_ok)
      promise.deliver(std::move(acc));
    else
      promise.deliver(std::move(err));
  }
};

/// Sends `xs...` to `targets` and delivers the combined answer to `promise`.
/// `combine(acc, reply)` folds a reply in and returns true when the answer is
/// final. Without targets the answer is `if_none` when it is an error, else
/// `neutral`.
template <class T, class Combine, class... Ts>
void fan_out_to(self_ptr self, caf::timespan timeout, const std::vector<node_actor>& targets,
                caf::typed_response_promise<T> promise, T neutral, caf::error if_none,
                Combine combine, Ts... xs);

template <class T, class Combine, class... Ts>
void fan_out_to(self_ptr self, const std::vector<node_actor>& targets,
                caf::typed_response_promise<T> promise, T neutral, caf::error if_none,
                Combine combine, Ts... xs) {
  fan_out_to(self, caf::timespan{self->state.cfg.fanout_timeout}, targets, std::move(promise),
             std::move(neutral), std::move(if_none), std::move(combine), std::move(xs)...);
}

template <class T, class Combine, class... Ts>
void fan_out_to(self_ptr self, caf::timespan timeout, const std::vector<node_actor>& targets,
                caf::typed_response_promise<T> promise, T neutral, caf::error if_none,
                Combine combine, Ts... xs) {
  if (targets.empty()) {
    if (if_none)
      promise.deliver(std::move(if_none));
    else
      promise.deliver(std::move(neutral));
    return;
  }
  auto f = std::make_shared<fanout<T>>();
  f->promise = std::move(promise);
  f->pending = targets.size();
  f->acc = std::move(neutral);
  for (auto& t : targets)
    self->request(t, timeout, xs...)
      .then(
        [f, combine](T& reply) {
          --f->pending;
          if (f->done)
            return;
          f->any_ok = true;
          if (combine(f->acc, std::move(reply)) || f->pending == 0)
            f->finish();
        },
        [f](caf::error& e) {
          --f->pending;
          if (f->done)
            return;
          if (!f->err
              || (code_of(f->err) == errc::not_found && code_of(e) != errc::not_found))
            f->err = std::move(e);
          if (f->pending == 0)
            f->finish();
        });
}

std::vector<node_actor> up_nodes(scheduler_state& st) {
  std::vector<node_actor> out;
  for (auto& [name, n] : st.nodes)
    if (n.up)
      out.push_back(n.handle);
  return out;
}

/// Sends `xs...` to every up node (see fan_out_to).
template <class T, class Combine, class... Ts>
caf::result<T> fan_out(self_ptr self, T neutral, caf::error if_none, Combine combine,
                       Ts... xs) {
  auto promise = self->make_response_promise<T>();
  fan_out_to(self, up_nodes(self->state), promise, std::move(neutral), std::move(if_none),
             std::move(combine), std::move(xs)...);
  return promise;
}

/// What each up node runs (container id -> deployment id), asked with
/// list_atom, which names nothing; `failure` is the first error of a node
/// that did not answer (such a node is left out).
struct listing {
  std::vector<std::pair<node_actor, label_map>> answers;
  caf::error failure;

  /// The nodes that run `container`.
  std::vector<node_actor> holders_of(const std::string& container) const {
    std::vector<node_actor> out;
    for (auto& [node, running] : answers)
      if (running.count(container) > 0)
        out.push_back(node);
    return out;
  }
};

/// Lists every up node; `then(listing)` once each answered or failed.
template <class F>
void list_up_nodes(self_ptr self, F then) {
  auto targets = up_nodes(self->state);
  struct pending_listing {
    size_t pending = 0;
    listing result;
  };
  auto acc = std::make_shared<pending_listing>();
  acc->pending = targets.size();
  if (targets.empty()) {
    then(acc->result);
    return;
  }
  for (auto& t : targets)
    self->request(t, self->state.cfg.fanout_timeout, list_atom::value)
      .then(
        [acc, t, then](label_map& running) mutable {
          acc->result.answers.emplace_back(t, std::move(running));
          if (--acc->pending == 0)
            then(acc->result);
        },
        [acc, then](caf::error& err) mutable {
          if (!acc->result.failure)
            acc->result.failure = std::move(err);
          if (--acc->pending == 0)
            then(acc->result);
        });
}

/// Sends `xs...` to the node that has `container` and delivers its answer;
/// errc::not_found if no node has it (a node that failed to list says more).
template <class T, class... Ts>
caf::result<T> ask_holder(self_ptr self, caf::timespan timeout, const std::string& container,
                          Ts... xs) {
  auto rp = self->make_response_promise<T>();
  list_up_nodes(self, [self, rp, timeout, container, xs...](const listing& all) {
    fan_out_to<T>(
      self, timeout, all.holders_of(container), rp, T{},
      all.failure ? all.failure : make_error(errc::not_found, "no node has container " + container),
      [](T& acc, T reply) {
        acc = std::move(reply);
        return true; // the node that has it answered
      },
      xs...);
  });
  return rp;
}

/// Nodes never talk to the scheduler: its messages come from named actors of
/// this process (the gatekeeper, deployment actors, the HTTP edge), its timer
/// from itself. Anything else is dropped and logged without its content: a
/// message from another actor system, and one without a sender (a remote
/// anonymous message looks like a local one).
bool from_this_process(self_ptr self, const char* what) {
  auto& sender = self->current_sender();
  if (sender && sender->node() == self->node())
    return true;
  spdlog::warn("scheduler: dropped a '{}' message from {}", what,
               sender ? "node " + caf::to_string(sender->node()) : std::string{"no sender"});
  return false;
}

caf::error refused(const char* what) {
  return make_error(errc::unauthorized, std::string{what} + " is only taken from the control plane");
}

} // namespace

scheduler_actor::behavior_type
scheduler(scheduler_actor::stateful_pointer<scheduler_state> self, scheduler_config cfg) {
  self->state.cfg = cfg;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (auto n = st.node_by_addr.find(dm.source); n != st.node_by_addr.end()) {
      auto name = n->second;
      mark_down(self, st.nodes[name], "connection lost: " + self->system().render(dm.reason));
      return;
    }
    if (auto o = st.by_owner.find(dm.source); o != st.by_owner.end()) {
      std::vector<std::string> ids(o->second.begin(), o->second.end());
      for (auto& id : ids)
        release(self, id);
    }
  });
  if (cfg.tick_interval.count() > 0)
    self->delayed_send(self, cfg.tick_interval, tick_atom::value);
  return {
    [self](join_atom, node_info info, node_actor hdl) -> caf::result<bool> {
      if (!from_this_process(self, "join"))
        return refused("join");
      auto& st = self->state;
      if (info.name.empty())
        return make_error(errc::invalid_argument, "a node needs a name");
      if (info.capacity < 0)
        return make_error(errc::invalid_argument, "capacity must not be negative");
      if (!hdl)
        return make_error(errc::invalid_argument, "node " + info.name + " has no actor");
      auto [it, fresh] = st.nodes.try_emplace(info.name);
      auto& n = it->second;
      // A node of this process is never restarted elsewhere: a remote node
      // under its name is another machine, not a rejoin.
      if (!fresh && n.up && n.local && hdl->node() != self->node())
        return make_error(errc::conflict, "the node name '" + info.name
                                            + "' is taken by the control plane's own node; "
                                              "choose another --name");
      if (!fresh && n.up)
        mark_down(self, n, "joined again");
      auto name = info.name;
      if (st.cfg.directory)
        st.cfg.directory->set(name, info.address);
      n.info = std::move(info);
      n.handle = std::move(hdl);
      n.up = true;
      n.local = n.handle->node() == self->node();
      n.last_seen = self->clock().now();
      n.joined_at = std::chrono::system_clock::now();
      n.last_heartbeat = n.joined_at;
      st.node_by_addr[n.handle.address()] = name;
      self->monitor(n.handle);
      reindex(st, n);
      spdlog::info("scheduler: node {} joined ({}capacity {}, {} label(s))", name,
                   n.local ? "local, " : "", n.info.capacity, n.info.labels.size());
      serve_queue(st);
      return true;
    },
    [self](heartbeat_atom, const std::string& name) {
      if (!from_this_process(self, "heartbeat"))
        return;
      auto& st = self->state;
      auto n = st.nodes.find(name);
      if (n == st.nodes.end() || !n->second.up)
        return; // a down or unknown node must join again
      n->second.last_seen = self->clock().now();
      n->second.last_heartbeat = std::chrono::system_clock::now();
    },
    [self](place_atom, build_atom, const std::string& id,
           const label_map& labels) -> caf::result<placement> {
      if (!from_this_process(self, "place"))
        return refused("place");
      auto& st = self->state;
      auto owner = caf::actor_cast<deployment_actor>(self->current_sender());
      auto& job = st.jobs[id];
      // Placed or waiting before: the new request replaces the old one.
      unqueue(st, id, make_error(errc::cancelled, "superseded by a new request"));
      if (free_build_slot(st, id, job))
        serve_queue(st);
      set_owner(self, id, job, owner);
      if (auto* n = pick_build_node(st, labels))
        return take_build_slot(st, id, job, *n);
      auto promise = self->make_response_promise<placement>();
      st.queue.push_back(scheduler_waiting{id, labels, promise});
      st.queued[id] = std::prev(st.queue.end());
      job.queued = true;
      metrics::set_queue_length(static_cast<int64_t>(st.queue.size()));
      return promise;
    },
    [self](place_atom, run_atom, const std::string& id, const std::string& node_name,
           const label_map& labels) -> caf::result<placement> {
      if (!from_this_process(self, "place"))
        return refused("place");
      auto& st = self->state;
      scheduler_node* best = nullptr;
      if (!node_name.empty()) {
        auto n = st.nodes.find(node_name);
        if (n == st.nodes.end() || !n->second.up)
          return make_error(errc::unavailable, "node " + node_name + " is not up");
        best = &n->second;
      } else {
        size_t best_load = 0;
        for (auto& [name, n] : st.nodes) {
          if (!n.up || !has_labels(n.info.labels, labels))
            continue;
          auto load = n.builds.size() + n.runs.size();
          if (best == nullptr || load < best_load) {
            best = &n;
            best_load = load;
          }
        }
        if (best == nullptr)
          return make_error(errc::unavailable,
                            labels.empty() ? "no node is up"
                                           : "no up node has the required labels");
      }
      auto owner = caf::actor_cast<deployment_actor>(self->current_sender());
      auto& job = st.jobs[id];
      free_run(st, id, job);
      set_owner(self, id, job, owner);
      best->runs.insert(id);
      reindex(st, *best);
      job.run_node = best->info.name;
      return placement{best->info.name, best->handle};
    },
    [self](release_atom, const std::string& id) {
      if (from_this_process(self, "release"))
        release(self, id);
    },
    [self](queue_atom, const std::string& id) -> caf::result<int64_t> {
      if (!from_this_process(self, "queue"))
        return refused("queue");
      auto& st = self->state;
      if (st.queued.count(id) == 0)
        return 0;
      int64_t pos = 1;
      for (auto& w : st.queue) {
        if (w.id == id)
          return pos;
        ++pos;
      }
      return 0;
    },
    [self](list_atom, node_atom) -> caf::result<std::vector<node_status>> {
      if (!from_this_process(self, "list"))
        return refused("list");
      std::vector<node_status> out;
      out.reserve(self->state.nodes.size());
      for (auto& [name, n] : self->state.nodes)
        out.push_back(status_of(n));
      return out;
    },
    [self](stop_atom, const std::string& container) -> caf::result<bool> {
      if (!from_this_process(self, "stop"))
        return refused("stop");
      // A node hears a container id only if it runs that container.
      auto rp = self->make_response_promise<bool>();
      list_up_nodes(self, [self, rp, container](const listing& all) {
        // No holder: false, unless no node could even be asked.
        fan_out_to<bool>(
          self, all.holders_of(container), rp, false,
          all.answers.empty() ? all.failure : caf::error{},
          [](bool& acc, bool removed) {
            acc = acc || removed;
            return false;
          },
          stop_atom::value, container);
      });
      return rp;
    },
    [self](retire_atom, const std::string& env, const std::string& keep)
      -> caf::result<int64_t> {
      if (!from_this_process(self, "retire"))
        return refused("retire");
      // Only nodes that run containers hear of it, and only the one running
      // `keep` hears its id (elsewhere nothing of the environment stays).
      auto rp = self->make_response_promise<int64_t>();
      list_up_nodes(self, [self, rp, env, keep](const listing& all) mutable {
        auto f = std::make_shared<fanout<int64_t>>();
        f->promise = rp;
        for (auto& [node, running] : all.answers)
          if (!running.empty())
            ++f->pending;
        if (f->pending == 0) {
          if (all.answers.empty() && all.failure)
            rp.deliver(all.failure);
          else
            rp.deliver(int64_t{0});
          return;
        }
        for (auto& [node, running] : all.answers) {
          if (running.empty())
            continue;
          auto keep_here = running.count(keep) > 0 ? keep : std::string{};
          self->request(node, self->state.cfg.fanout_timeout, retire_atom::value, env, keep_here)
            .then(
              [f](int64_t n) {
                f->any_ok = true;
                f->acc += n;
                if (--f->pending == 0)
                  f->finish();
              },
              [f](caf::error& e) {
                if (!f->err)
                  f->err = std::move(e);
                if (--f->pending == 0)
                  f->finish();
              });
        }
      });
      return rp;
    },
    [self](list_atom) -> caf::result<label_map> {
      if (!from_this_process(self, "list"))
        return refused("list");
      return fan_out<label_map>(
        self, label_map{}, caf::error{},
        [](label_map& acc, label_map part) {
          acc.insert(part.begin(), part.end());
          return false;
        },
        list_atom::value);
    },
    [self](health_atom, const std::string& container) -> caf::result<container_health> {
      if (!from_this_process(self, "health"))
        return refused("health");
      auto rp = self->make_response_promise<container_health>();
      list_up_nodes(self, [self, rp, container](const listing& all) {
        // No holder: a node that failed to answer says more than not_found.
        fan_out_to<container_health>(
          self, all.holders_of(container), rp, container_health{},
          all.failure ? all.failure
                      : make_error(errc::not_found, "no node has container " + container),
          [](container_health& acc, container_health h) {
            acc = std::move(h);
            return true; // the node that has it answered
          },
          health_atom::value, container);
      });
      return rp;
    },
    [self](logs_atom, const std::string& container,
           const container_log_query& query) -> caf::result<container_log_batch> {
      if (!from_this_process(self, "logs"))
        return refused("logs");
      auto wait = std::chrono::milliseconds{query.follow_ms} + timeouts::actor_question
                  + self->state.cfg.fanout_timeout;
      return ask_holder<container_log_batch>(self, wait, container, logs_atom::value, container,
                                             query);
    },
    [self](control_atom, const container_command& cmd) -> caf::result<container_health> {
      if (!from_this_process(self, "control"))
        return refused("control");
      auto health = std::chrono::seconds{cmd.health_timeout_seconds > 0
                                           ? cmd.health_timeout_seconds
                                           : 300};
      return ask_holder<container_health>(self, health + timeouts::container_control,
                                          cmd.container_id, control_atom::value, cmd);
    },
    [self](retain_atom, const std::string& project, const std::set<std::string>& keep)
      -> caf::result<int64_t> {
      if (!from_this_process(self, "retain"))
        return refused("retain");
      return fan_out<int64_t>(
        self, 0, caf::error{},
        [](int64_t& acc, int64_t n) {
          acc += n;
          return false;
        },
        retain_atom::value, project, keep);
    },
    [self](tick_atom) {
      if (self->current_sender().get() != self->ctrl()) {
        spdlog::warn("scheduler: dropped a 'tick' message not sent by itself");
        return;
      }
      auto& st = self->state;
      auto now = self->clock().now();
      for (auto& [name, n] : st.nodes) {
        if (!n.up || (n.local && !st.cfg.local_nodes_heartbeat))
          continue;
        if (now - n.last_seen > st.cfg.heartbeat_timeout)
          mark_down(self, n,
                    "no heartbeat for "
                      + std::to_string(st.cfg.heartbeat_timeout.count()) + " ms");
      }
      self->delayed_send(self, st.cfg.tick_interval, tick_atom::value);
    },
  };
}

scheduler_actor spawn_scheduler(caf::actor_system& sys, scheduler_config cfg,
                                std::shared_ptr<const admitted_nodes> admitted) {
  if (!admitted)
    admitted = std::make_shared<admitted_nodes>();
  return sys.spawn<guarded_actor<scheduler_actor, scheduler_state>>(
    std::move(admitted), [cfg](scheduler_actor::stateful_pointer<scheduler_state> self) {
      return scheduler(self, cfg);
    });
}

} // namespace gilgal
